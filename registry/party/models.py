"""Which organisation registered a list it created itself (eHerkenning: the party's KvK number)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db, utcnow


class ListAgent(db.Model):
    """A list created by a party agent through the party pages, linked to the agent's organisation.

    Roles come from the identity provider (``agent:<list id>``) and cannot know a list that did not
    exist at login; this row lets the same organisation manage the list it just created."""

    __tablename__ = "list_agents"

    list_id: Mapped[int] = mapped_column(ForeignKey("candidate_lists.id"), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    created_by: Mapped[str] = mapped_column(String(255))  # the agent's audit actor
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
