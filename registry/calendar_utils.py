"""Local-time helpers for the Flask side (the rules themselves live in registry.domain.calendar)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

AMS = ZoneInfo("Europe/Amsterdam")


def today_local() -> date:
    return datetime.now(AMS).date()


def local(moment: datetime) -> datetime:
    return moment.astimezone(AMS)


MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


# --- Dutch dates, independent of the machine's locale --------------------------------------------

def dutch_date(day: date | datetime) -> str:
    """``10 september 2025``. A datetime is first put in Europe/Amsterdam time."""
    if isinstance(day, datetime):
        day = local(day).date()
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def dutch_time(moment: datetime) -> str:
    """``12.00 uur`` in Europe/Amsterdam time (the Dutch way of writing a time)."""
    moment = local(moment)
    return f"{moment.hour:02d}.{moment.minute:02d} uur"


def dutch_datetime(moment: datetime) -> str:
    return f"{dutch_date(moment)}, {dutch_time(moment)}"
