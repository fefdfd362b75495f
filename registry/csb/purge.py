"""I 19: the destruction of the personal data once the decision is final (dry run first)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import String, cast, delete, func, literal, or_, select, update
from sqlalchemy.orm import Session

from registry.audit import services as audit
from registry.csb import documents
from registry.csb.base import PURGED_PREFIX, CsbRefused
from registry.csb.sessions import _store
from registry.db import begin_write, utcnow
from registry.declarations.models import Declaration, IdempotencyKey
from registry.elections.models import (
    Election,
)
from registry.elections.phase import sessions
from registry.privacy.models import ElectionKeys
from registry.privacy.services import key_ring

# --- I 19: destruction ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PurgeReport:
    election: str
    declarations: int
    names: int  # encrypted names still present
    pseudonyms: int  # pseudonyms still present
    keys_present: bool  # the election's data key and pseudonym secret
    idempotency_rows: int  # stored API answers about this election
    executed: bool
    session_id: int | None = None


def _idempotency_filter(election: Election) -> Any:
    # Every row of the election, refusals included; rows from before migration 0007 that named no election
    # go with the first purge (their replay window is long over by then).
    quoted = f'"{election.identifier}"'
    return IdempotencyKey, or_(IdempotencyKey.election == election.identifier, IdempotencyKey.election.is_(None),
                               IdempotencyKey.response_body.contains(f'"election": {quoted}'),
                               IdempotencyKey.response_body.contains(f'"election":{quoted}'))


def purge(session: Session, election: Election, actor: str, *, execute: bool = False,
          now: datetime | None = None) -> PurgeReport:
    """I 19: destroy the personal data of ``election`` once its decision is final. A dry run (the default)
    only reports what would go. Executing deletes the election's keys (crypto-shredding), nulls the
    encrypted names, replaces each pseudonym by a neutral group label and each receipt code by a neutral
    value, drops stored API answers about the election, and writes the proces-verbaal of destruction.
    Counts, rulings, sessions and the audit chain stay."""
    now = now or utcnow()
    held = sessions(session, election)
    if "purge" in held:
        raise CsbRefused("purged", gettext("De persoonsgegevens van deze verkiezing zijn al vernietigd."))
    if "final" not in held:
        raise CsbRefused("not-final", gettext(
            "Vernietigen kan pas als het centraal stembureau heeft vastgelegd dat de beslissing onherroepelijk is "
            "(art. I 19)."))
    model, about_election = _idempotency_filter(election)
    in_election = Declaration.election_id == election.id
    not_purged = ~Declaration.voter_key.startswith(PURGED_PREFIX)
    report = PurgeReport(
        election=election.identifier,
        declarations=session.scalar(select(func.count()).where(in_election)) or 0,
        names=session.scalar(select(func.count()).where(in_election, Declaration.name_ciphertext.is_not(None))) or 0,
        pseudonyms=session.scalar(select(func.count()).where(in_election, not_purged)) or 0,
        keys_present=session.get(ElectionKeys, election.id) is not None,
        idempotency_rows=session.scalar(select(func.count()).select_from(model).where(about_election)) or 0,
        executed=False)
    if not execute:
        session.rollback()
        return report
    session.rollback()
    begin_write(session)
    try:
        # Names first: the declarations guard lets nothing else change while a name is still there.
        neutral = literal(PURGED_PREFIX) + cast(Declaration.id, String)
        session.execute(update(Declaration).where(in_election).values(name_ciphertext=None, receipt_code=neutral))
        # Voters with more than one declaration keep one shared label, so the void count stays provable.
        groups = session.execute(
            select(Declaration.voter_key, func.min(Declaration.id)).where(in_election, not_purged)
            .group_by(Declaration.voter_key).having(func.count() > 1)).all()
        for voter_key, first_id in groups:
            session.execute(update(Declaration).where(in_election, Declaration.voter_key == voter_key)
                            .values(voter_key=f"{PURGED_PREFIX}{first_id}"))
        session.execute(update(Declaration).where(in_election, not_purged).values(voter_key=neutral))
        session.execute(delete(ElectionKeys).where(ElectionKeys.election_id == election.id))
        session.execute(delete(model).where(about_election))
        head = audit.head(session)
        pdf = documents.purge_report(election, report, actor, now, head)
        row = _store(session, election, "purge", actor, now, asdict(report), pdf, head)
        audit.append(session, actor=actor, action="csb.purged", election=election.identifier,
                     subject=f"csb_session:{row.id}",
                     payload={"report_sha256": row.report_sha256, "declarations": report.declarations,
                              "names": report.names, "pseudonyms": report.pseudonyms,
                              "keys_deleted": report.keys_present, "idempotency_rows": report.idempotency_rows},
                     occurred_at=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    key_ring().forget(election.identifier)  # and no unwrapped key stays in this process's memory
    return PurgeReport(**{**asdict(report), "executed": True, "session_id": row.id})
