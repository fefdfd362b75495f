"""Valid declarations per list, kieskring and version, against the minimum of H 4 lid 1.

Reading never counts the declarations themselves: it reads ``progress_counts``. When that is older
than ``max_age`` the reader recomputes it with one grouped query, in a write transaction that first
takes over ``progress_refresh`` with a compare-and-set on ``refreshed_at``. Of several readers that
find the data stale, one recomputes; the others (PostgreSQL: SKIP LOCKED, so without waiting) serve
the slightly older numbers. No row is touched per declaration.

Counted (I 1, I 2 lid 1 a): a declaration is valid unless its voter has more than one declaration in
this election, in which case all of that voter's declarations are void. A list needs its minimum for
the version that voters now sign in that kieskring: declarations for an earlier version supported
other candidates (H 4 lid 1) and are shown apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.config import value
from registry.db import begin_write, utcnow
from registry.declarations.models import Declaration
from registry.domain import ElectionType, ListStatus, list_status, required_declarations
from registry.elections.models import CandidateList, District, Election, ListDistrict, ListVersion
from registry.progress.models import ProgressCount, ProgressRefresh

STATUS_LABELS = {
    ListStatus.MEETS.value: "genoeg verklaringen",
    ListStatus.SHORT.value: "nog niet genoeg",
    ListStatus.EXEMPT.value: "vrijgesteld",
    "unknown": "minimum nog onbekend",
}


@dataclass(frozen=True)
class DistrictProgress:
    """One kieskring of one list: the version voters sign there now and its valid declarations."""

    kieskring: int
    name: str
    version: int
    declarations: int
    valid: int
    void_multiple: int
    required: int | None  # None: exempt (H 4 lid 8), or a GR election whose number of seats is not set
    status: str  # meets | short | exempt | unknown
    shortage: int
    earlier_versions: int  # declarations in this kieskring for versions that no longer stand here

    @property
    def status_label(self) -> str:
        if self.status == ListStatus.SHORT.value:
            return f"nog {self.shortage} nodig"
        return STATUS_LABELS[self.status]

    def as_api(self) -> dict[str, Any]:
        return {"kieskring": self.kieskring, "name": self.name, "version": self.version,
                "declarations": self.declarations, "valid": self.valid, "void_multiple": self.void_multiple,
                "required": self.required, "status": self.status, "shortage": self.shortage,
                "earlier_versions": self.earlier_versions}


@dataclass(frozen=True)
class VersionProgress:
    version: int
    created_at: datetime
    candidates: int
    declarations: int
    valid: int
    kieskringen: list[int]  # where this version stands now (empty: replaced everywhere)

    def as_api(self) -> dict[str, Any]:
        return {"version": self.version, "created_at": self.created_at.isoformat(), "candidates": self.candidates,
                "declarations": self.declarations, "valid": self.valid, "kieskringen": self.kieskringen}


@dataclass(frozen=True)
class ListProgress:
    list_id: int
    number: int | None
    designation: str | None
    label: str
    exempt: bool
    exempt_basis: str | None
    districts: list[DistrictProgress] = field(default_factory=list)
    versions: list[VersionProgress] = field(default_factory=list)

    @property
    def kieskringen_met(self) -> int:
        return sum(d.status in (ListStatus.MEETS.value, ListStatus.EXEMPT.value) for d in self.districts)

    def as_api(self, election: Election, refreshed_at: datetime | None) -> dict[str, Any]:
        return {"election": election.identifier, "list": self.list_id, "number": self.number,
                "designation": self.designation, "exempt": self.exempt, "exempt_basis": self.exempt_basis,
                "refreshed_at": refreshed_at.isoformat() if refreshed_at else None,
                "kieskringen": [d.as_api() for d in self.districts],
                "versions": [v.as_api() for v in self.versions]}


# --- the aggregates --------------------------------------------------------------------------------

def ensure_fresh(session: Session, election: Election, max_age: timedelta,
                 now: datetime | None = None) -> datetime | None:
    """When this election's aggregates were computed; recomputes them first when they are older than
    ``max_age`` and no other request is doing so already."""
    now = now or utcnow()
    seen = session.scalar(select(ProgressRefresh.refreshed_at).where(ProgressRefresh.election_id == election.id))
    if seen is not None and now - seen <= max_age:
        return seen
    if refresh(session, election.id, seen, now):
        return now
    session.rollback()  # end the read: the winner's numbers are committed by now, or about to be
    return session.scalar(select(ProgressRefresh.refreshed_at).where(ProgressRefresh.election_id == election.id))


def refresh(session: Session, election_id: int, seen: datetime | None, now: datetime) -> bool:
    """Recompute the aggregates if ``progress_refresh`` still says ``seen``; False when another request
    took over (or finished) the refresh first."""
    begin_write(session)
    try:
        if seen is None:
            session.add(ProgressRefresh(election_id=election_id, refreshed_at=now))
            session.flush()  # a second first-time refresher fails here on the primary key
        else:
            current = session.execute(
                select(ProgressRefresh.refreshed_at).where(ProgressRefresh.election_id == election_id)
                .with_for_update(skip_locked=True)  # PostgreSQL: a refresh in progress is skipped, not awaited
            ).scalar_one_or_none()
            if current != seen:
                session.rollback()
                return False
            taken = session.execute(
                update(ProgressRefresh)
                .where(ProgressRefresh.election_id == election_id, ProgressRefresh.refreshed_at == seen)
                .values(refreshed_at=now)
            ).rowcount
            if taken != 1:
                session.rollback()
                return False
        _recompute(session, election_id, now)
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    except BaseException:
        session.rollback()
        raise
    return True


def _recompute(session: Session, election_id: int, now: datetime) -> None:
    # ONE grouped query: per (list, kieskring, version) all declarations, and those of voters who have
    # more than one declaration in this election (void, I 2 lid 1 a).
    per_voter = (select(Declaration.voter_key, func.count().label("n"))
                 .where(Declaration.election_id == election_id)
                 .group_by(Declaration.voter_key).subquery("per_voter"))
    rows = session.execute(
        select(Declaration.list_id, Declaration.district_id, Declaration.list_version_id,
               func.count().label("declarations"),
               func.coalesce(func.sum(case((per_voter.c.n > 1, 1), else_=0)), 0).label("void_multiple"))
        .join(per_voter, per_voter.c.voter_key == Declaration.voter_key)
        .where(Declaration.election_id == election_id)
        .group_by(Declaration.list_id, Declaration.district_id, Declaration.list_version_id)
    ).all()
    session.execute(delete(ProgressCount).where(ProgressCount.election_id == election_id))
    if rows:
        session.execute(insert(ProgressCount), [
            {"election_id": election_id, "list_id": list_id, "district_id": district_id,
             "list_version_id": version_id, "declarations": int(total), "void_multiple": int(void),
             "valid": int(total) - int(void), "refreshed_at": now}
            for list_id, district_id, version_id, total, void in rows
        ])


# --- reading -----------------------------------------------------------------------------------------

def required_for(election: Election, kieskring: int) -> int | None:
    """The minimum of H 4 lid 1 in this kieskring, or None while a GR election has no number of seats."""
    try:
        return required_declarations(ElectionType(election.category), kieskring, election.seats)
    except ValueError:
        return None


def list_progress(session: Session, election: Election, lists: list[CandidateList], max_age: timedelta,
                  now: datetime | None = None) -> tuple[list[ListProgress], datetime | None]:
    """Progress of these lists (all of ``election``), and when the numbers were computed."""
    refreshed_at = ensure_fresh(session, election, max_age, now)
    ids = [cl.id for cl in lists]
    if not ids:
        return [], refreshed_at
    counts = session.scalars(select(ProgressCount).where(ProgressCount.election_id == election.id,
                                                         ProgressCount.list_id.in_(ids))).all()
    links = session.execute(
        select(ListDistrict.list_id, ListDistrict.version_id, District.id, District.number, District.name)
        .join(District, District.id == ListDistrict.district_id)
        .where(ListDistrict.list_id.in_(ids)).order_by(District.number)
    ).all()
    versions = session.scalars(select(ListVersion).where(ListVersion.list_id.in_(ids))
                               .order_by(ListVersion.list_id, ListVersion.version)).all()
    by_key = {(c.list_id, c.district_id, c.list_version_id): c for c in counts}
    version_numbers = {v.id: v.version for v in versions}

    result = []
    for candidate_list in lists:
        districts = []
        for list_id, version_id, district_id, number, name in links:
            if list_id != candidate_list.id:
                continue
            current = by_key.get((list_id, district_id, version_id))
            earlier = sum(c.declarations for (lid, did, vid), c in by_key.items()
                          if lid == list_id and did == district_id and vid != version_id)
            valid = current.valid if current else 0
            required = None if candidate_list.exempt else required_for(election, number)
            if candidate_list.exempt:
                status, shortage = ListStatus.EXEMPT.value, 0
            elif required is None:
                status, shortage = "unknown", 0
            else:
                outcome, shortage = list_status(True, False, valid, required)
                status = outcome.value
            districts.append(DistrictProgress(
                kieskring=number, name=name, version=version_numbers.get(version_id, 0),
                declarations=current.declarations if current else 0, valid=valid,
                void_multiple=current.void_multiple if current else 0, required=required, status=status,
                shortage=shortage, earlier_versions=earlier))
        list_versions = []
        for version in versions:
            if version.list_id != candidate_list.id:
                continue
            mine = [c for (lid, _did, vid), c in by_key.items() if lid == candidate_list.id and vid == version.id]
            list_versions.append(VersionProgress(
                version=version.version, created_at=version.created_at, candidates=len(version.candidates or []),
                declarations=sum(c.declarations for c in mine), valid=sum(c.valid for c in mine),
                kieskringen=[n for lid, vid, _d, n, _name in links if lid == candidate_list.id and vid == version.id]))
        result.append(ListProgress(
            list_id=candidate_list.id, number=candidate_list.number, designation=candidate_list.designation,
            label=candidate_list.label, exempt=candidate_list.exempt, exempt_basis=candidate_list.exempt_basis,
            districts=districts, versions=list_versions))
    return result, refreshed_at


def max_age_from(settings: dict[str, Any] | None) -> timedelta:
    """PROGRESS_MAX_AGE (seconds) as a timedelta; read on every call, so a test may change it."""
    return timedelta(seconds=value(settings, "PROGRESS_MAX_AGE"))


# --- the answer of GET …/lists/<id>/progress, kept per process ------------------------------------------

@dataclass
class AnswerCache:
    """The progress answer per (election, list), with the reference version and the aggregates' time it was
    computed at: a party's dashboard polls, and between two refreshes of the aggregates the answer is the
    same. Checked with one statement per request (reference_state and progress_refresh)."""

    entries: dict[tuple[str, int], tuple[int, datetime, dict[str, Any]]] = field(default_factory=dict)


ANSWERS = "steunregister.progress_answers"
MAX_CACHED_ANSWERS = 10_000


def cached_answer(session: Session, answers: AnswerCache, election: str, list_id: int, max_age: timedelta,
                  now: datetime | None = None) -> tuple[dict[str, Any] | None, int]:
    """The kept answer if it still stands (same reference version, same aggregates, not older than
    ``max_age``), and the reference version read now (to keep a freshly computed answer under)."""
    row = session.execute(text(
        "SELECT r.version, p.refreshed_at FROM reference_state r "
        "LEFT JOIN elections e ON e.identifier = :election "
        "LEFT JOIN progress_refresh p ON p.election_id = e.id WHERE r.id = 1"), {"election": election}).one()
    version, refreshed_at = int(row[0]), row[1]
    entry = answers.entries.get((election, list_id))
    if entry is None or refreshed_at is None:
        return None, version
    if isinstance(refreshed_at, str):  # SQLite gives the text it stored
        refreshed_at = datetime.fromisoformat(refreshed_at)
    if refreshed_at.tzinfo is None:
        refreshed_at = refreshed_at.replace(tzinfo=UTC)
    kept_version, kept_refreshed, body = entry
    if kept_version != version or kept_refreshed != refreshed_at or (now or utcnow()) - refreshed_at > max_age:
        return None, version
    return body, version


def keep_answer(answers: AnswerCache, election: str, list_id: int, version: int, refreshed_at: datetime | None,
                body: dict[str, Any]) -> None:
    if refreshed_at is None:
        return
    if len(answers.entries) >= MAX_CACHED_ANSWERS:
        answers.entries.clear()
    answers.entries[(election, list_id)] = (version, refreshed_at, body)
