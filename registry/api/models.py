"""Idempotency keys: a replayed request gets the first answer, never a second declaration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db, utcnow


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"

    # scope: who sent it, so two clients never collide on a key. A keyed hash of (election, actor), never the
    # login subject itself: that is the same in every election and would link a voter's choices across them.
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))  # in_flight | done
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)  # never a BSN: responses carry none
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The election the request was about (as the client named it): its purge removes the row.
    election: Mapped[str | None] = mapped_column(String(100), index=True)
