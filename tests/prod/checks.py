"""What must hold in the database after any load: checks shared by the load and crash tests."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.declarations.models import Declaration
from registry.elections.models import Election
from registry.progress.models import ProgressCount
from registry.progress.services import ensure_fresh


def expected_counts(session: Any, election_id: int) -> dict[tuple[int, int, int], tuple[int, int]]:
    """(list, district, version) -> (declarations, void) counted row by row, without the app's query:
    a voter with more than one declaration makes all of them void (I 2 lid 1 a)."""
    rows = session.execute(select(Declaration.list_id, Declaration.district_id, Declaration.list_version_id,
                                  Declaration.voter_key).where(Declaration.election_id == election_id)).all()
    per_voter = Counter(voter_key for *_key, voter_key in rows)
    counts: dict[tuple[int, int, int], list[int]] = {}
    for list_id, district_id, version_id, voter_key in rows:
        entry = counts.setdefault((list_id, district_id, version_id), [0, 0])
        entry[0] += 1
        entry[1] += per_voter[voter_key] > 1
    return {key: (total, void) for key, (total, void) in counts.items()}


def assert_aggregates_match(session: Any, election: str = "TK2025") -> dict[tuple[int, int, int], tuple[int, int]]:
    """Refresh the progress aggregates now and compare every row with the declarations it summarises."""
    session.rollback()  # a fresh snapshot: the instances wrote in their own transactions
    record = session.scalar(select(Election).where(Election.identifier == election))
    ensure_fresh(session, record, timedelta(0))
    session.rollback()
    expected = expected_counts(session, record.id)
    stored = {(c.list_id, c.district_id, c.list_version_id): (c.declarations, c.void_multiple, c.valid)
              for c in session.scalars(select(ProgressCount).where(ProgressCount.election_id == record.id))}
    assert stored == {key: (total, void, total - void) for key, (total, void) in expected.items()}
    return expected


def assert_ledger_sound(session: Any) -> int:
    """Every declaration has its one audit event, the chain verifies, and no voter has two declarations
    with the same ordinal (the unique constraint). Returns the number of declarations."""
    session.rollback()
    declarations = session.scalar(select(func.count()).select_from(Declaration))
    events = session.scalar(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == "declaration.recorded"))
    assert events == declarations
    report = audit.verify(session)
    assert report.ok, report
    duplicates = session.execute(
        select(Declaration.voter_key, Declaration.ordinal, func.count())
        .group_by(Declaration.election_id, Declaration.voter_key, Declaration.ordinal)
        .having(func.count() > 1)).all()
    assert duplicates == []
    session.rollback()
    return declarations
