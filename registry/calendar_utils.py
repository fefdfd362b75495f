"""Local-time helpers for the Flask side (the rules themselves live in registry.domain.calendar)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

AMS = ZoneInfo("Europe/Amsterdam")


def today_local() -> date:
    return datetime.now(AMS).date()


def local(moment: datetime) -> datetime:
    return moment.astimezone(AMS)
