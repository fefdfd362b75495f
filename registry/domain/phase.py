"""The election's phase and the CSB's calendar (Kieswet I 1, I 2, I 4, I 7, I 19), as pure rules.

The sessions the centraal stembureau held decide the phase; from when each was held follow the repair
periods (I 2), the earliest decision (I 4) and when the decision is final (I 7). Whether a declaration
is taken for a (list, kieskring) at a moment follows from that and the window (H 4 lid 3). Drawn in
docs/csb.md; read from the database by registry.elections.phase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from .calendar import AMS, Period, decision_session, examination_session, repair_periods

APPEAL_DAYS = 4  # I 7: appeal to the Raad van State within four days after the decision


class Phase(StrEnum):
    COLLECTING = "collecting"
    EXAMINED = "examined"
    DECIDED = "decided"
    FINAL = "final"
    PURGED = "purged"


PHASE_LABELS = {
    Phase.COLLECTING: "verklaringen worden verzameld; het onderzoek (art. I 1) is nog niet gehouden",
    Phase.EXAMINED: "onderzocht (art. I 1); herstel van verzuim loopt (art. I 2)",
    Phase.DECIDED: "beslist (art. I 4); de aantallen liggen vast",
    Phase.FINAL: "de beslissing is onherroepelijk (art. I 7)",
    Phase.PURGED: "de persoonsgegevens zijn vernietigd (art. I 19)",
}


def phase_of(held: Mapping[str, object]) -> Phase:
    """The phase from the kinds of session held (examination, decision, final, purge): one way only."""
    for kind, phase in (("purge", Phase.PURGED), ("final", Phase.FINAL), ("decision", Phase.DECIDED),
                        ("examination", Phase.EXAMINED)):
        if kind in held:
            return phase
    return Phase.COLLECTING


def local_day(moment: datetime) -> date:
    return moment.astimezone(AMS).date()


@dataclass(frozen=True)
class Calendar:
    """When each session may be held, from the law's calendar and the sessions already held."""

    examination_from: datetime  # I 1: the day after nomination day 16:00, and never before the window closed
    repairs: tuple[Period, ...]  # I 2: the three repair periods after the examination actually held
    decision_from: datetime | None  # I 4: the last repair day, 16:00
    final_from: datetime | None  # I 7: the day after the appeal term of four days

    @property
    def repair_ends(self) -> datetime | None:
        return self.repairs[-1].ends_at if self.repairs else None


def csb_calendar(nomination_date: date, window_closes_at: datetime, held_at: Mapping[str, datetime]) -> Calendar:
    """``held_at``: when each session held so far was held, by kind."""
    examination_from = max(examination_session(nomination_date), window_closes_at)
    repairs: tuple[Period, ...] = ()
    decision_from = final_from = None
    if "examination" in held_at:
        day = local_day(held_at["examination"])
        repairs = repair_periods(day)
        decision_from = decision_session(day)
    if "decision" in held_at:
        decided = local_day(held_at["decision"])
        final_from = datetime.combine(decided + timedelta(days=APPEAL_DAYS + 1), time(0, 0), tzinfo=AMS)
    return Calendar(examination_from, repairs, decision_from, final_from)


@dataclass(frozen=True)
class RepairState:
    """What the recording path needs: after I 1 only notified pairs, only in the repair periods."""

    examined: bool
    decided: bool
    repairs: tuple[Period, ...]
    notified: frozenset[tuple[int, int]]  # (list id, kieskring number)

    def accepting(self, window: Period, now: datetime) -> bool:
        """Whether the channels take declarations now at all: inside the window before the examination, or
        inside a repair period after it while shortages are notified (I 2 lid 3), never after the decision."""
        if self.decided:
            return False
        if not self.examined:
            return window.contains(now)
        return bool(self.notified) and any(period.contains(now) for period in self.repairs)


NOT_EXAMINED = RepairState(False, False, (), frozenset())
