"""What the registry needs to know about a person, and the interface of a person register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Person:
    """The facts about one person that kiesgerechtigdheid needs, as the BRP gives them.

    nationality_codes: BRP Landelijke tabel 32 codes ('0001' = Nederlandse).
    municipality_code: CBS-style code of the municipality of registration ('GM0363'); the BRP gives
        '0363'. The Caribbean public bodies get 'GM' + their EML region number ('GM9001' Bonaire),
        as in registry.reference. None when the person does not live in a Dutch municipality
        (RNI, emigrated, whereabouts unknown).
    lawful_residence_since: datumIngang of a verblijfstitel that counts as lawful residence
        (Vreemdelingenwet 2000 art. 8 a-e, l); None otherwise.
    """

    bsn: str
    given_names: str | None
    prefix: str | None
    surname: str
    birth_date: date | None
    nationality_codes: frozenset[str]
    municipality_code: str | None
    municipality_name: str | None
    deceased: bool = False
    excluded_from_voting: bool = False
    lawful_residence_since: date | None = None

    @property
    def full_name(self) -> str:
        """'Jan van der Berg': given names, prefix (voorvoegsel) and surname."""
        return " ".join(part for part in (self.given_names, self.prefix, self.surname) if part)

    def __repr__(self) -> str:
        # The BSN stays out of reprs, so a Person in a log line or traceback does not leak it.
        return f"Person(full_name={self.full_name!r}, municipality_code={self.municipality_code!r})"


class PersonRegistryUnavailable(Exception):
    """The person register could not answer (network error, timeout, 4xx/5xx, malformed answer).

    The message never contains the BSN that was asked for.
    """


@runtime_checkable
class PersonRegistry(Protocol):
    def lookup(self, bsn: str) -> Person | None:
        """The person with this BSN, or None when the register does not know it.

        `bsn` is already normalised to 9 digits and passed the 11-proof (registry.domain.bsn).
        Raises PersonRegistryUnavailable when the register cannot be asked.
        """
        ...
