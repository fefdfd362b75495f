"""What the centraal stembureau records. Every row is a fact: triggers in migration 0005 refuse
UPDATE and DELETE, as for declarations and audit events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db

# The sessions and notified shortages are the election's phase, which every channel reads: they live with the
# election (registry.elections.models) and are named here too for the CSB's own code.
from registry.elections.models import CsbSession, Shortage  # noqa: F401


class Ruling(db.Model):
    """The CSB rules one declaration invalid, with a reason (I 1). Nothing about the declaration changes."""

    __tablename__ = "csb_rulings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    ruled_by: Mapped[str] = mapped_column(String(200))
    ruled_at: Mapped[datetime] = mapped_column(UTCDateTime())
