"""Helpers for tests that play a database superuser against the audit chain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text


def disable_triggers(session: Any) -> None:
    """What only a superuser (or the table's owner) can do: switch off the append-only triggers."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))
    session.commit()
