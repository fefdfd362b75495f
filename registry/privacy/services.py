"""Access to an election's cipher through the app's key ring."""

from __future__ import annotations

from typing import Protocol

from flask import current_app
from sqlalchemy.orm import Session

from registry.privacy.keys import ElectionCipher, ElectionKeysDestroyed, KeyRing
from registry.privacy.models import ElectionKeys


class Election(Protocol):
    """What the keys need of an election. A protocol, not registry.elections.models.Election: the
    elections package creates an election's keys, so privacy stands below it and may not import it."""

    @property
    def id(self) -> int: ...

    @property
    def identifier(self) -> str: ...


def key_ring() -> KeyRing:
    return current_app.extensions["steunregister.keyring"]


def create_election_keys(session: Session, election: Election) -> None:
    """Called in the transaction that creates the election."""
    data, pseudonym = key_ring().new_wrapped_keys(election.identifier)
    session.add(ElectionKeys(election_id=election.id, wrapped_data_key=data, wrapped_pseudonym_key=pseudonym))


def election_cipher(session: Session, election: Election) -> ElectionCipher:
    ring = key_ring()
    cached = ring.cached(election.identifier)
    if cached is not None:
        return cached
    keys = session.get(ElectionKeys, election.id)
    if keys is None:
        raise ElectionKeysDestroyed(election.identifier)
    return ring.cipher(election.identifier, keys.wrapped_data_key, keys.wrapped_pseudonym_key)
