"""Where an election stands in its calendar, as every page needs it: the voter's and the clerk's deadline
(the window, or after the examination the repair days), which lists may still be supported, and what the
CSB decided. One read of the CSB's sessions; the rules themselves are in ``registry.domain.phase``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext, ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.csb import documents
from registry.csb.models import CsbSession, Shortage
from registry.csb.services import Calendar, Phase, calendar, phase_of, sessions
from registry.db import utcnow
from registry.domain import Period
from registry.elections.models import CandidateList, Election


@dataclass(frozen=True)
class RepairDay:
    number: int  # 1, 2 or 3
    period: Period
    now: bool  # running now
    past: bool


@dataclass(frozen=True)
class ElectionPhase:
    election: Election
    phase: Phase
    now: datetime
    calendar: Calendar
    held: dict[str, CsbSession]

    @property
    def window(self) -> Period:
        return Period(self.election.window_opens_at, self.election.window_closes_at)

    @property
    def in_window(self) -> bool:
        return self.phase is Phase.COLLECTING and self.window.contains(self.now)

    @property
    def before_window(self) -> bool:
        return self.phase is Phase.COLLECTING and self.now < self.election.window_opens_at

    @property
    def repair_days(self) -> list[RepairDay]:
        return [RepairDay(n, period, period.contains(self.now), self.now >= period.ends_at)
                for n, period in enumerate(self.calendar.repairs, start=1)]

    @property
    def in_repair(self) -> bool:
        """Between the examination and the end of the last repair day (the evenings in between included):
        the time in which the notified shortages can still be repaired."""
        ends = self.calendar.repair_ends
        return self.phase is Phase.EXAMINED and ends is not None and self.now < ends

    @property
    def repair_running(self) -> RepairDay | None:
        return next((day for day in self.repair_days if day.now), None)

    @property
    def next_repair(self) -> RepairDay | None:
        return next((day for day in self.repair_days if self.now < day.period.starts_at), None)

    @property
    def deadline(self) -> datetime | None:
        """Until when a declaration can be made at all: the window's end, or in the repair period the end
        of the last repair day (I 2); None when nothing can be declared any more."""
        if self.phase is Phase.COLLECTING and self.now < self.election.window_closes_at:
            return self.election.window_closes_at
        if self.in_repair:
            return self.calendar.repair_ends
        return None


def election_phase(session: Session, election: Election, now: datetime | None = None) -> ElectionPhase:
    held = sessions(session, election)
    return ElectionPhase(election, phase_of(held), now or utcnow(), calendar(election, held), held)


@dataclass(frozen=True)
class Notified:
    """A notified shortage (I 2), with the list's name: what a clerk, voter or party agent is told."""

    list_id: int
    label: str
    kieskring: int
    valid: int
    required: int
    shortage: int


def notified_shortages(session: Session, election: Election, kieskring: int | None = None,
                       list_id: int | None = None) -> list[Notified]:
    query = (select(Shortage, CandidateList).join(CandidateList, CandidateList.id == Shortage.list_id)
             .where(Shortage.election_id == election.id).order_by(CandidateList.number, Shortage.kieskring))
    if kieskring is not None:
        query = query.where(Shortage.kieskring == kieskring)
    if list_id is not None:
        query = query.where(Shortage.list_id == list_id)
    return [Notified(s.list_id, cl.label, s.kieskring, s.valid, s.required, s.shortage)
            for s, cl in session.execute(query)]


def shortage_notice_pdf(session: Session, election: Election, candidate_list: CandidateList) -> bytes | None:
    """The shortage notice (I 2) of one list, as the CSB and the list's own party agent download it;
    None when no shortage of this list was notified."""
    shortages = session.scalars(select(Shortage).where(Shortage.list_id == candidate_list.id)
                                .order_by(Shortage.kieskring)).all()
    if not shortages:
        return None
    return documents.shortage_notice(election, candidate_list, shortages,
                                     calendar(election, sessions(session, election)).repairs)


@dataclass(frozen=True)
class ListOutcome:
    """What the party agent of one list reads about the CSB's sessions: the notified shortages per
    kieskring after I 1, and the decision per kieskring after I 4 (I 5 c)."""

    phase: ElectionPhase
    shortages: list[tuple[Notified, str]]  # with the kieskring's name
    decisions: list[dict[str, object]]  # the decision session's rows for this list, where it was submitted


def list_outcome(session: Session, election: Election, candidate_list: CandidateList,
                 now: datetime | None = None) -> ListOutcome:
    phase = election_phase(session, election, now)
    names = {d.number: d.name for d in election.districts}
    shortages = [(item, names.get(item.kieskring, "")) for item in
                 notified_shortages(session, election, list_id=candidate_list.id)]
    decisions: list[dict[str, object]] = []
    if "decision" in phase.held:
        decisions = [row for row in phase.held["decision"].results["rows"]
                     if row["list_id"] == candidate_list.id and row.get("decision")]
    return ListOutcome(phase, shortages, decisions)


def countdown(now: datetime, until: datetime) -> str:
    """``nog 2 dagen en 5 uur`` / ``nog 3 uur en 10 minuten``: how long until ``until``, for a page
    (no script needed: the page says when it was made)."""
    minutes = max(0, math.ceil((until - now).total_seconds() / 60))  # up: a few seconds past 10.00 is still 5 uur
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return gettext("nog %(days)s en %(hours)s", days=ngettext("%(num)s dag", "%(num)s dagen", days),
                       hours=ngettext("%(num)s uur", "%(num)s uur", hours))
    return gettext("nog %(hours)s en %(minutes)s", hours=ngettext("%(num)s uur", "%(num)s uur", hours),
                   minutes=ngettext("%(num)s minuut", "%(num)s minuten", mins))
