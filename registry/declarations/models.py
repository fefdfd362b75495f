"""The declaration row. Append-only: triggers in the migration refuse UPDATE and DELETE (H 4 lid 6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db, utcnow

# A receipt code as a voter types it (either case; no 0/O, 1/I): the API's schema and the proof lookup.
RECEIPT_PATTERN = "^[A-Za-z2-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}$"


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


class IdempotencyKey(db.Model):
    """Idempotency keys of every channel: a replayed request gets the first answer, never a second
    declaration. Written in the same statement as the declaration it answers (services.record)."""

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
