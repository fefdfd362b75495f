"""Per-election key material, wrapped by the master key that lives outside the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db, utcnow


class ElectionKeys(db.Model):
    """Deleting this row is the crypto-shredding of I 19: names and pseudonyms become unrecoverable."""

    __tablename__ = "election_keys"

    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    wrapped_data_key: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_pseudonym_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
