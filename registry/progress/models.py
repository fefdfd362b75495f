"""Aggregates of the declarations per list, kieskring and list version, refreshed every few seconds.

A party's progress page reads these rows instead of counting the declarations on every view; no row
is updated per declaration (that would make every declaration of an election wait for one shared row).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db


class ProgressRefresh(db.Model):
    """One row per election: when its aggregates were last recomputed. A refresh takes it over with a
    compare-and-set on refreshed_at, so only one request recomputes at a time."""

    __tablename__ = "progress_refresh"

    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProgressCount(db.Model):
    """Declarations for one version of one list in one kieskring, as of refreshed_at. Counts only:
    nothing here says who declared."""

    __tablename__ = "progress_counts"

    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("candidate_lists.id"), primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), primary_key=True)
    list_version_id: Mapped[int] = mapped_column(ForeignKey("list_versions.id"), primary_key=True)
    declarations: Mapped[int] = mapped_column(Integer)
    void_multiple: Mapped[int] = mapped_column(Integer)  # the voter has more than one (I 2 lid 1 a)
    valid: Mapped[int] = mapped_column(Integer)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())
