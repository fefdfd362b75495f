"""The reference data the recording path checks every declaration against, as a per-process snapshot.

An election, its municipalities and kieskringen, its lists with the version that stands in each
kieskring, and the CSB's phase (registry.elections.phase) change a few times per election; a declaration
reads them hundreds of times a second. So each process keeps them as plain values, read once per
*reference version*: a number in ``reference_state`` that a trigger on every one of those tables (and the
demo clock) raises in the same transaction as the change (migration 0008). The recording path reads the
number with its idempotency lookup and its write only succeeds while the number is unchanged, so a rule is
never checked against data that changed before the declaration was written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.domain.phase import RepairState
from registry.elections.models import CandidateList, District, Election, ListDistrict, ListVersion, Municipality
from registry.elections.phase import repair_state

STATE_TABLE = "reference_state"
# Every table whose rows a declaration is checked against: a change to any of them raises the version.
REFERENCE_TABLES = ("elections", "districts", "municipalities", "candidate_lists", "list_versions",
                    "list_districts", "csb_sessions", "csb_shortages", "election_keys")


@dataclass(frozen=True)
class DistrictRef:
    id: int
    number: int
    name: str


@dataclass(frozen=True)
class MunicipalityRef:
    code: str
    name: str
    district: DistrictRef


@dataclass(frozen=True)
class VersionRef:
    id: int
    version: int
    content_hash: str


@dataclass(frozen=True)
class ListRef:
    id: int
    number: int | None
    label: str
    exempt: bool
    exempt_basis: str | None
    versions: dict[int, VersionRef]  # district id -> the version that stands there (where submitted)


@dataclass(frozen=True)
class ElectionRef:
    """One election as the rules see it. Duck-types the ``Election`` columns the rules read."""

    reference_version: int
    id: int
    identifier: str
    category: str
    election_date: date
    nomination_date: date
    window_opens_at: datetime
    window_closes_at: datetime
    online_open: bool
    online_legal_basis: str | None
    municipalities: dict[str, MunicipalityRef]
    district_numbers: dict[str, int]  # municipality code -> kieskring number, for check_eligibility
    lists: dict[int, ListRef]
    repair: RepairState


def read_version(session: Session) -> int:
    return int(session.execute(text(f"SELECT version FROM {STATE_TABLE} WHERE id = 1")).scalar_one())  # noqa: S608


def bump_version(session: Session) -> None:
    """For a change no trigger sees (the demo clock): raise the version in the caller's transaction."""
    session.execute(text(f"UPDATE {STATE_TABLE} SET version = version + 1 WHERE id = 1"))  # noqa: S608


def load(session: Session, identifier: str, version: int) -> ElectionRef | None:
    election = session.scalar(select(Election).where(Election.identifier == identifier))
    if election is None:
        return None
    municipalities: dict[str, MunicipalityRef] = {}
    districts: dict[int, DistrictRef] = {}
    for code, name, district_id, number, district_name in session.execute(
            select(Municipality.code, Municipality.name, District.id, District.number, District.name)
            .join(District, Municipality.district_id == District.id).where(Municipality.election_id == election.id)):
        district = districts.setdefault(district_id, DistrictRef(district_id, number, district_name))
        municipalities[code] = MunicipalityRef(code, name, district)
    lists: dict[int, dict[str, Any]] = {}
    for candidate_list in session.scalars(select(CandidateList).where(CandidateList.election_id == election.id)):
        lists[candidate_list.id] = {"id": candidate_list.id, "number": candidate_list.number,
                                    "label": candidate_list.label, "exempt": candidate_list.exempt,
                                    "exempt_basis": candidate_list.exempt_basis, "versions": {}}
    for list_id, district_id, version_id, number, content_hash in session.execute(
            select(ListDistrict.list_id, ListDistrict.district_id, ListVersion.id, ListVersion.version,
                   ListVersion.content_hash)
            .join(ListVersion, ListDistrict.version_id == ListVersion.id)
            .join(CandidateList, ListDistrict.list_id == CandidateList.id)
            .where(CandidateList.election_id == election.id)):
        lists[list_id]["versions"][district_id] = VersionRef(version_id, number, content_hash)
    return ElectionRef(
        reference_version=version, id=election.id, identifier=election.identifier, category=election.category,
        election_date=election.election_date, nomination_date=election.nomination_date,
        window_opens_at=election.window_opens_at, window_closes_at=election.window_closes_at,
        online_open=election.online_open, online_legal_basis=election.online_legal_basis,
        municipalities=municipalities, district_numbers={code: m.district.number for code, m in municipalities.items()},
        lists={list_id: ListRef(**values) for list_id, values in lists.items()},
        repair=repair_state(session, election),
    )


@dataclass
class ReferenceCache:
    """One per app (so per database): the elections read at the current reference version."""

    version: int = -1
    elections: dict[str, ElectionRef | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Called once per new version, before anything is read at it (the demo clock takes over its offset).
    on_new_version: list[Callable[[Session], None]] = field(default_factory=list)

    def _at(self, session: Session, version: int) -> None:
        if version != self.version:
            for hook in self.on_new_version:
                hook(session)
            self.version, self.elections = version, {}

    def check(self, session: Session) -> None:
        """Read the version now and take over whatever changed (for pages: the recording core does it itself)."""
        version = read_version(session)
        with self.lock:
            self._at(session, version)

    def election(self, session: Session, identifier: str, version: int) -> ElectionRef | None:
        """The election as it stands at ``version`` (read from ``session`` when this process has not yet)."""
        with self.lock:
            self._at(session, version)
            if identifier in self.elections:
                return self.elections[identifier]
        loaded = load(session, identifier, version)
        with self.lock:
            if self.version == version:
                self.elections[identifier] = loaded
        return loaded



CACHE = "steunregister.reference"


def reference_cache() -> ReferenceCache:
    """This app's cache (one app, one database)."""
    cache = current_app.extensions.get(CACHE)
    if cache is None:
        cache = current_app.extensions.setdefault(CACHE, ReferenceCache())
    return cache
