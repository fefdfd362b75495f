"""Reads the election's phase from the database: the CSB sessions held and the notified shortages.

The rules themselves are pure (registry.domain.phase); the recording path, the channels' pages and the
CSB's own pages all read the phase here, so none of them needs the CSB package.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.domain import Period
from registry.domain.phase import NOT_EXAMINED, Calendar, RepairState, csb_calendar
from registry.elections.models import CsbSession, Election, Shortage


def sessions(session: Session, election: Election) -> dict[str, CsbSession]:
    rows = session.scalars(select(CsbSession).where(CsbSession.election_id == election.id)).all()
    return {row.kind: row for row in rows}


def calendar(election: Election, held: dict[str, CsbSession]) -> Calendar:
    return csb_calendar(election.nomination_date, election.window_closes_at,
                        {kind: row.held_at for kind, row in held.items()})


def repair_state(session: Session, election: Election) -> RepairState:
    held = sessions(session, election)
    if "examination" not in held:
        return NOT_EXAMINED
    notified = frozenset((list_id, kieskring) for list_id, kieskring in session.execute(
        select(Shortage.list_id, Shortage.kieskring).where(Shortage.election_id == election.id)).all())
    return RepairState(True, "decision" in held, calendar(election, held).repairs, notified)


def accepting(session: Session, election: Election, now: datetime) -> bool:
    """Whether the channels take declarations now at all (see RepairState.accepting)."""
    return repair_state(session, election).accepting(Period(election.window_opens_at, election.window_closes_at),
                                                     now)
