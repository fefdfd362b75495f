""""Has this person declared?" asked at a counter or by a municipal system.

The answer (already declared, or not) is political-opinion data about whoever the BSN belongs to, so
every such lookup is an audit event: who asked, for which municipality, when; never the BSN. The CSB
sees per desk how many lookups did not lead to a declaration (a desk that looks up far more people than
it records is worth a question). The rate limits per clerk and per system client are on the views.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.db import begin_write

LOOKUP = "voter.lookup"  # the counter's first step: may lead to a declaration by the same clerk
REFUSED_LOOKUP = "voter.lookup_refused"  # the API answered something about the person and recorded nothing
RECORDED = "declaration.recorded"


def record_lookup(session: Session, *, actor: str, election: str, municipality: str, refused: bool = False) -> None:
    """One audit event, in a transaction of its own (the lookup itself writes nothing else)."""
    begin_write(session)
    try:
        audit.append(session, actor=actor, action=REFUSED_LOOKUP if refused else LOOKUP, election=election,
                     subject=f"municipality:{municipality}", payload={"municipality": municipality})
        session.commit()
    except BaseException:
        session.rollback()
        raise


@dataclass(frozen=True)
class DeskLookups:
    actor: str
    municipality: str
    lookups: int  # at the counter's first step
    refused: int  # API attempts answered about the person without recording
    declarations: int  # recorded at the counter by the same actor

    @property
    def without_declaration(self) -> int:
        return max(0, self.lookups - self.declarations) + self.refused


def lookups_per_desk(session: Session, election: str) -> list[DeskLookups]:
    """Per actor that looked anyone up in this election, counted in the audit chain."""
    asked = session.execute(
        select(AuditEvent.actor, AuditEvent.subject, AuditEvent.action, func.count())
        .where(AuditEvent.election == election, AuditEvent.action.in_((LOOKUP, REFUSED_LOOKUP)))
        .group_by(AuditEvent.actor, AuditEvent.subject, AuditEvent.action)).all()
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for actor, subject, action, count in asked:
        desk = counts.setdefault((actor, (subject or "").removeprefix("municipality:")), {LOOKUP: 0, REFUSED_LOOKUP: 0})
        desk[action] += count
    actors = {actor for actor, _municipality in counts}
    # The payload is canonical JSON (registry.audit.services.canonical): no spaces around the colon.
    recorded = dict(session.execute(
        select(AuditEvent.actor, func.count())
        .where(AuditEvent.election == election, AuditEvent.action == RECORDED, AuditEvent.actor.in_(actors),
               AuditEvent.payload.contains('"channel":"counter"'))
        .group_by(AuditEvent.actor)).all()) if actors else {}
    return [DeskLookups(actor, municipality, desk[LOOKUP], desk[REFUSED_LOOKUP], recorded.get(actor, 0))
            for (actor, municipality), desk in sorted(counts.items(), key=lambda item: (item[0][1], item[0][0]))]
