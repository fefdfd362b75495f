"""Audit events: no foreign keys, so the trail outlives whatever it describes (Abacus convention)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    # seq is assigned under the chain lock, never by a sequence: gaps would hide deletions.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    election: Mapped[str | None] = mapped_column(String(80))
    subject: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, never a BSN or a name
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
