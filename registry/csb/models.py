"""What the centraal stembureau records. Every row is a fact: triggers in migration 0005 refuse
UPDATE and DELETE, as for declarations and audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db


class Ruling(db.Model):
    """The CSB rules one declaration invalid, with a reason (I 1). Nothing about the declaration changes."""

    __tablename__ = "csb_rulings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    ruled_by: Mapped[str] = mapped_column(String(200))
    ruled_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CsbSession(db.Model):
    """One session of the CSB for one election: examination (I 1), decision (I 4), final (the decision
    can no longer be appealed, I 7) and purge (I 19). Each happens once; its report is kept as issued."""

    __tablename__ = "csb_sessions"
    __table_args__ = (UniqueConstraint("election_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # examination | decision | final | purge
    held_at: Mapped[datetime] = mapped_column(UTCDateTime())
    held_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)  # final: on what ground the decision is final
    results: Mapped[dict[str, Any]] = mapped_column(JSON)  # the numbers as they stood; never a name
    audit_seq: Mapped[int] = mapped_column(Integer)  # the chain head the report names
    audit_hash: Mapped[str] = mapped_column(String(64))
    report_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)  # the proces-verbaal as issued
    report_sha256: Mapped[str | None] = mapped_column(String(64))


class Shortage(db.Model):
    """A notified shortage (verzuim, I 2) of one list in one kieskring: exactly these pairs may be
    repaired with new declarations during the repair period."""

    __tablename__ = "csb_shortages"
    __table_args__ = (UniqueConstraint("list_id", "district_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("csb_sessions.id"))
    list_id: Mapped[int] = mapped_column(ForeignKey("candidate_lists.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    kieskring: Mapped[int] = mapped_column(Integer)
    valid: Mapped[int] = mapped_column(Integer)
    required: Mapped[int] = mapped_column(Integer)
    shortage: Mapped[int] = mapped_column(Integer)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime())
