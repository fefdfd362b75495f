"""The declaration row. Append-only: triggers in the migration refuse UPDATE and DELETE (H 4 lid 6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db, utcnow


class Declaration(db.Model):
    __tablename__ = "declarations"
    __table_args__ = (
        # One declaration per voter per election (H 4 lid 5). Every channel inserts ordinal 1, so the
        # database refuses a second one; only a paper declaration that already exists as a fact is
        # kept with ordinal 2, 3, … and then voids them all (I 2 lid 1 a).
        UniqueConstraint("election_id", "voter_key", "ordinal"),
        Index("ix_declarations_list_district", "list_id", "district_id"),
        # A paper declaration is what the voter signed: sent twice, it is still one (I 2 lid 1 a).
        Index("uq_declarations_paper_signature", "election_id", "voter_key", "list_version_id", "signed_at",
              unique=True, sqlite_where=text("channel = 'batch'"), postgresql_where=text("channel = 'batch'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    list_id: Mapped[int] = mapped_column(ForeignKey("candidate_lists.id"))
    list_version_id: Mapped[int] = mapped_column(ForeignKey("list_versions.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    municipality_code: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(10))  # counter | online | batch
    voter_key: Mapped[str] = mapped_column(String(64))  # HMAC-SHA-256 of the BSN, per election
    ordinal: Mapped[int] = mapped_column(SmallInteger, default=1)
    receipt_code: Mapped[str] = mapped_column(String(20), unique=True)
    name_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)  # AES-GCM, per-election data key
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when the voter signed (paper: earlier)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The burgemeester's note (H 4 lid 4) or the registry's own BRP check for the online channel.
    attestation: Mapped[dict[str, Any]] = mapped_column(JSON)
