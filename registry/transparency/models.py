"""The transparency log's tables. Leaves and heads are append-only (triggers in migration 0008); they hold
hashes, sizes and times, never a name, a pseudonym, a BSN or the list of a declaration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db


class LogState(db.Model):
    """One row per election: how many leaves its log has. The sealer locks it (SELECT … FOR UPDATE on
    PostgreSQL; SQLite's write lock does the same), so one sealer at a time appends."""

    __tablename__ = "log_states"

    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LogLeaf(db.Model):
    """Leaf ``leaf_index`` of an election's log: SHA-256(0x00 || the declaration's canonical record)."""

    __tablename__ = "log_leaves"

    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    leaf_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id"), unique=True)
    appended_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TreeHead(db.Model):
    """A signed tree head: (size, root, timestamp, kind) signed with Ed25519 (docs/transparency.md)."""

    __tablename__ = "log_heads"
    # Every lookup of a round or an endpoint is one of these (migration 0010): the latest head, the fixed
    # moments' heads, whether a size was published; none reads all heads of an election.
    __table_args__ = (
        Index("ix_log_heads_election_id_id", "election_id", "id"),
        Index("ix_log_heads_election_id_kind", "election_id", "kind", "id"),
        Index("ix_log_heads_election_id_tree_size", "election_id", "tree_size"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    tree_size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp: Mapped[str] = mapped_column(String(32))  # exactly as signed: 2026-03-02T17:00:00.000Z
    kind: Mapped[str] = mapped_column(String(20))  # periodic | window-close | i1 | i4
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(64))  # SHA-256 (hex) of the raw Ed25519 public key
