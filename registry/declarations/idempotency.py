"""Idempotency keys for every channel (draft-ietf-httpapi-idempotency-key-header).

A key is stored with its answer in the same statement that records the declaration (services.record), so an
acknowledged declaration and its stored answer cannot come apart, and nothing is ever "in flight": of two
requests with one key, the second waits for the first's row in the unique index and then gets its answer.
A refusal's answer is stored in a short transaction of its own; a request that failed without an answer
worth keeping (the BRP or the database unreachable) stores nothing, so a retry with the same key is new.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.db import begin_write, utcnow
from registry.declarations.models import IdempotencyKey

MAX_KEY_LENGTH = 200
# Visible ASCII only, as a UUID or a hash prints: the key is stored and compared byte for byte, so text that
# a proxy could re-encode (accents, spaces, control characters) is refused instead of silently mismatching.
KEY_PATTERN = f"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"
_KEY = re.compile(KEY_PATTERN)
# Where the recorded declaration's id goes in a stored answer: the database fills it in the same statement.
ID_PLACEHOLDER = '"__declaration_id__"'


def key_ok(key: str) -> bool:
    """A present key (already stripped) that may be stored: KEY_PATTERN, which the OpenAPI document states."""
    return _KEY.fullmatch(key) is not None


def scope_for(election: str, actor: str) -> str:
    """The scope of a key: a keyed hash of (election, actor). Two elections give one actor unrelated
    scopes, so a voter's answers cannot be linked across elections through this table."""
    secret = current_app.extensions["steunregister.keyring"].derived_key("idempotency scope")
    return hmac.new(secret, f"{election}\n{actor}".encode(), hashlib.sha256).hexdigest()


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class Idempotency:
    """The key a channel sends with a request: who (scope), which key, and a hash of what was asked."""

    scope: str
    key: str
    request_hash: str

    @classmethod
    def for_request(cls, election: str, actor: str, key: str, method: str, path: str, body: Any) -> Idempotency:
        return cls(scope_for(election, actor), key, request_hash(method, path, body))


@dataclass(frozen=True)
class StoredAnswer:
    """What was answered the first time. ``mismatch``: that was another request with the same key."""

    status: int
    body: str
    mismatch: bool = False


def answer_of(request_digest: str | None, stored_hash: str | None, status: int | None,
              body: str | None) -> StoredAnswer | None:
    """The stored answer for a key row read with the reference version (None: no row)."""
    if stored_hash is None:
        return None
    return StoredAnswer(int(status or 0), body or "", mismatch=stored_hash != request_digest)


def stored(session: Session, idempotency: Idempotency) -> StoredAnswer | None:
    row = session.get(IdempotencyKey, (idempotency.scope, idempotency.key))
    if row is None:
        return None
    return answer_of(idempotency.request_hash, row.request_hash, row.response_status, row.response_body)


def row_values(idempotency: Idempotency, election: str, status: int, body: str) -> dict[str, Any]:
    now = utcnow()
    return {"scope": idempotency.scope, "key": idempotency.key, "request_hash": idempotency.request_hash,
            "state": "done", "election": election[:100], "response_status": status, "response_body": body,
            "created_at": now, "completed_at": now}


def store_refusal(session: Session, idempotency: Idempotency, election: str, status: int,
                  body: str) -> StoredAnswer | None:
    """Keep a refusal's answer for its key, in a transaction of its own. None: kept. When a request with the
    same key stored an answer first, that first answer (which both then get)."""
    begin_write(session)
    try:
        session.add(IdempotencyKey(**row_values(idempotency, election, status, body)))
        session.commit()
        return None
    except IntegrityError:
        session.rollback()
    first = stored(session, idempotency)
    session.rollback()
    return first
