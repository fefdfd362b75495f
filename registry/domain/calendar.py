"""The legal calendar: declaration window (H 4 lid 3), CSB sessions and repair (I 1, I 2, I 4).

All datetimes are timezone-aware. Instants are built from local wall-clock times in
Europe/Amsterdam, so they stay right across a change to or from summer time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

AMS: Final = ZoneInfo("Europe/Amsterdam")

# Local wall-clock times named by the law.
WINDOW_OPENS: Final = time(0, 0)  # H 4 lid 3: from 14 days before nomination day
WINDOW_CLOSES: Final = time(17, 0)  # H 4 lid 3: nomination day, 17:00
WINDOW_DAYS_BEFORE_NOMINATION: Final = 14
EXAMINATION_TIME: Final = time(16, 0)  # I 1: day after nomination day, 16:00
REPAIR_OPENS: Final = time(9, 0)  # I 2: each repair day from 09:00
REPAIR_CLOSES: Final = (time(17, 0), time(17, 0), time(15, 0))  # I 2: days 1, 2 until 17:00; day 3 15:00
DECISION_TIME: Final = time(16, 0)  # I 4: last repair day, 16:00


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime")
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"{name} must be timezone-aware")


def _local(day: date, at: time) -> datetime:
    """The instant at wall-clock time `at` on `day` in Europe/Amsterdam."""
    return datetime.combine(day, at, tzinfo=AMS)


@dataclass(frozen=True)
class Period:
    """A half-open period [starts_at, ends_at): the start is inside, the end is not."""

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.starts_at, "starts_at")
        _require_aware(self.ends_at, "ends_at")
        if self.ends_at.astimezone(UTC) <= self.starts_at.astimezone(UTC):
            raise ValueError("a period must end after it starts")

    def contains(self, moment: datetime) -> bool:
        """True when starts_at <= moment < ends_at (compared as instants, in UTC)."""
        _require_aware(moment, "moment")
        instant = moment.astimezone(UTC)
        return self.starts_at.astimezone(UTC) <= instant < self.ends_at.astimezone(UTC)


def default_declaration_window(nomination_day: date) -> Period:
    """H 4 lid 3: from 00:00 local time 14 days before nomination day until nomination day 17:00
    local time (17:00:00 itself is outside)."""
    opens = nomination_day - timedelta(days=WINDOW_DAYS_BEFORE_NOMINATION)
    return Period(_local(opens, WINDOW_OPENS), _local(nomination_day, WINDOW_CLOSES))


def list_content_frozen_at(nomination_day: date, window_closes_at: datetime | None = None) -> datetime:
    """Lists are submitted until nomination day 17:00 (H 1, I 1); from then the candidates and the
    kieskringen of a list are what the CSB examines, and a declaration made later (in a repair period)
    supports that list. An election whose declaration window was set to close later (a pilot, a test)
    keeps its lists open as long as its window."""
    frozen = _local(nomination_day, WINDOW_CLOSES)
    if window_closes_at is not None:
        _require_aware(window_closes_at, "window_closes_at")
        frozen = max(frozen, window_closes_at)
    return frozen


def examination_session(nomination_day: date) -> datetime:
    """I 1: the CSB examines the lists the day after nomination day at 16:00 local time."""
    return _local(nomination_day + timedelta(days=1), EXAMINATION_TIME)


def repair_periods(examination_day: date) -> tuple[Period, Period, Period]:
    """I 2: verzuimherstel on the three days after the examination day:
    days 1 and 2 09:00–17:00, day 3 09:00–15:00 local time."""
    day1, day2, day3 = (
        Period(
            _local(examination_day + timedelta(days=n), REPAIR_OPENS),
            _local(examination_day + timedelta(days=n), closes),
        )
        for n, closes in enumerate(REPAIR_CLOSES, start=1)
    )
    return day1, day2, day3


def decision_session(examination_day: date) -> datetime:
    """I 4: the public session deciding on the lists, on the last repair day at 16:00 local time."""
    return _local(examination_day + timedelta(days=len(REPAIR_CLOSES)), DECISION_TIME)


class Acceptance(StrEnum):
    """Whether a declaration for a (list, kieskring) may be made at a moment."""

    OPEN = "open"  # inside the declaration window (H 4 lid 3)
    REPAIR = "repair"  # inside a repair period, for a notified shortage (I 2 lid 3)
    CLOSED = "closed"


def acceptance(
    moment: datetime,
    window: Period,
    repairs: Sequence[Period],
    notified: Collection[tuple[int, int]],
    list_id: int,
    district_number: int,
) -> Acceptance:
    """OPEN inside the window; REPAIR inside a repair period only for a (list_id, district_number)
    the CSB notified of a shortage (I 2 lid 3); otherwise CLOSED."""
    if window.contains(moment):
        return Acceptance.OPEN
    if (list_id, district_number) in notified and any(p.contains(moment) for p in repairs):
        return Acceptance.REPAIR
    return Acceptance.CLOSED
