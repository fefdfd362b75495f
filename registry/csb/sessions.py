"""The CSB's sessions: the examination (I 1), the decision (I 4) and "final" (I 7), each once, each one
write transaction with its audit event and its proces-verbaal; the counts are taken under the chain lock."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.audit import services as audit
from registry.csb import documents
from registry.csb.base import GROUND_PURPOSE, REASON_MAX, REASON_MIN, CsbRefused, dutch_moment
from registry.csb.examination import Examination, ExaminationRow, _sealed_text, examine
from registry.db import begin_write, utcnow
from registry.domain import (
    ListStatus,
    repair_periods,
)
from registry.domain.phase import APPEAL_DAYS, local_day
from registry.elections.models import (
    CsbSession,
    District,
    Election,
    Shortage,
)
from registry.elections.phase import calendar, sessions
from registry.transparency.services import seal_after_session

# --- the sessions -----------------------------------------------------------------------------------

def _lock_chain(session: Session) -> None:
    # Holding the chain lock stops any declaration from committing, so the counts and the chain head
    # the report names belong together. On SQLite BEGIN IMMEDIATE already holds the only write lock.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(audit.CHAIN_LOCK_ID)))


def _results(examination: Examination) -> dict[str, Any]:
    return {"rows": [row.as_api() for row in examination.rows], "totals": examination.totals()}


def _store(session: Session, election: Election, kind: str, actor: str, now: datetime,
           results: dict[str, Any], pdf: bytes | None, head: tuple[int, str], note: str | None = None) -> CsbSession:
    row = CsbSession(election_id=election.id, kind=kind, held_at=now, held_by=actor, note=note, results=results,
                     audit_seq=head[0], audit_hash=head[1], report_pdf=pdf,
                     report_sha256=hashlib.sha256(pdf).hexdigest() if pdf is not None else None)
    session.add(row)
    session.flush()
    return row


def _require_not_held(held: dict[str, CsbSession], kind: str, message: str) -> None:
    if kind in held:
        raise CsbRefused(f"{kind}-held", message)


def hold_examination(session: Session, election: Election, actor: str, now: datetime | None = None) -> CsbSession:
    """I 1: count per list per kieskring, write the proces-verbaal and notify every shortage (I 2),
    which opens repair for exactly those (list, kieskring) pairs."""
    now = now or utcnow()
    held = sessions(session, election)
    _require_not_held(held, "examination", gettext("Het onderzoek (art. I 1) is al gehouden."))
    when = calendar(election, held).examination_from
    if now < when:
        raise CsbRefused("too-early", gettext(
            "Het onderzoek kan pas worden gehouden vanaf %(when)s (art. I 1): de dag na de dag van "
            "kandidaatstelling, 16.00 uur, en niet voordat de termijn voor verklaringen is gesloten.",
            when=dutch_moment(when)))
    session.rollback()
    begin_write(session)
    try:
        _lock_chain(session)
        held = sessions(session, election)
        _require_not_held(held, "examination", gettext("Het onderzoek (art. I 1) is al gehouden."))
        examination = examine(session, election, live=True, now=now)
        if any(row.status == "unknown" for row in examination.rows):
            raise CsbRefused("seats-unknown", gettext(
                "Het aantal zetels van deze verkiezing is niet vastgelegd, dus het vereiste aantal verklaringen is "
                "onbekend (art. H 4 lid 1). Leg eerst het aantal zetels vast."), 422)
        head = audit.head(session)
        examination = Examination(examination.election, now, examination.rows, False, head[0], head[1],
                                  examination.lists)
        repairs = repair_periods(local_day(now))
        pdf = documents.examination_report(election, examination, repairs, actor)
        row = _store(session, election, "examination", actor, now, _results(examination), pdf, head)
        districts = dict(session.execute(select(District.number, District.id)
                                         .where(District.election_id == election.id)).all())
        for short in examination.shortages():
            assert short.required is not None
            session.add(Shortage(election_id=election.id, session_id=row.id, list_id=short.list_id,
                                 district_id=districts[short.kieskring], kieskring=short.kieskring, valid=short.valid,
                                 required=short.required, shortage=short.shortage, notified_at=now))
        audit.append(session, actor=actor, action="csb.examination_held", election=election.identifier,
                     subject=f"csb_session:{row.id}",
                     payload={"report_sha256": row.report_sha256, "head": list(head), **examination.totals(),
                              "shortages": [[s.list_id, s.kieskring, s.shortage] for s in examination.shortages()]},
                     occurred_at=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    seal_after_session(session, election, now)  # the log's I 1 head (docs/transparency.md)
    return row


def hold_decision(session: Session, election: Election, actor: str, now: datetime | None = None) -> CsbSession:
    """I 4: decide per list per kieskring, valid or invalid (I 5 c); the counts freeze."""
    now = now or utcnow()
    held = sessions(session, election)
    _require_not_held(held, "decision", gettext("De beslissing (art. I 4) is al genomen."))
    if "examination" not in held:
        raise CsbRefused("not-examined", gettext("Houd eerst het onderzoek (art. I 1)."))
    when = calendar(election, held).decision_from
    assert when is not None
    if now < when:
        raise CsbRefused("too-early", gettext(
            "De beslissing kan pas worden genomen vanaf %(when)s: de laatste dag van het herstel van verzuim, "
            "16.00 uur (art. I 4).", when=dutch_moment(when)))
    session.rollback()
    begin_write(session)
    try:
        _lock_chain(session)
        held = sessions(session, election)
        _require_not_held(held, "decision", gettext("De beslissing (art. I 4) is al genomen."))
        head = audit.head(session)
        live = examine(session, election, live=True, now=now)
        rows = [ExaminationRow(**{**row.as_api(), "decision": _decision(row.status)}) for row in live.rows]
        examination = Examination(live.election, now, rows, True, head[0], head[1], live.lists)
        shortages = session.scalars(select(Shortage).where(Shortage.election_id == election.id)).all()
        pdf = documents.decision_report(election, examination, shortages, actor)
        row = _store(session, election, "decision", actor, now, _results(examination), pdf, head)
        audit.append(session, actor=actor, action="csb.decision_taken", election=election.identifier,
                     subject=f"csb_session:{row.id}",
                     payload={"report_sha256": row.report_sha256, "head": list(head),
                              "invalid": [[r.list_id, r.kieskring] for r in rows if r.decision == "invalid"]},
                     occurred_at=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    seal_after_session(session, election, now)  # the log's I 4 head: the one every dossier carries
    return row


def _decision(status: str) -> str | None:
    if status in (ListStatus.MEETS.value, ListStatus.EXEMPT.value):
        return "valid"
    if status == ListStatus.SHORT.value:
        return "invalid"  # I 5 c: fewer valid declarations than required in this kieskring
    return None


def record_final(session: Session, election: Election, actor: str, ground: str,
                 now: datetime | None = None) -> CsbSession:
    """The CSB records that its decision is final: the appeal term passed (I 7) or the Raad van State
    decided. Only then may the personal data be destroyed (I 19)."""
    now = now or utcnow()
    ground = check_final(session, election, ground, now)
    session.rollback()
    begin_write(session)
    try:
        head = audit.head(session)
        # The ground may name an appellant: stored under the data key, the chain keeps only its hash.
        row = _store(session, election, "final", actor, now, {}, None, head,
                     note=_sealed_text(session, election, ground, GROUND_PURPOSE))
        audit.append(session, actor=actor, action="csb.decision_final", election=election.identifier,
                     subject=f"csb_session:{row.id}",
                     payload={"ground_sha256": hashlib.sha256(ground.encode()).hexdigest()}, occurred_at=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return row


def check_final(session: Session, election: Election, ground: str, now: datetime | None = None) -> str:
    """Whether the CSB may record now that its decision is final (raises CsbRefused if not): what the
    confirmation step asks before anything is written. Returns the ground, whitespace normalised."""
    now = now or utcnow()
    ground = " ".join((ground or "").split())
    if not REASON_MIN <= len(ground) <= REASON_MAX:
        raise CsbRefused("invalid-ground", gettext(
            "Schrijf op waarom de beslissing onherroepelijk is, bijvoorbeeld: 'geen beroep ingesteld' (5 tot 500 "
            "tekens)."), 422)
    held = sessions(session, election)
    _require_not_held(held, "final", gettext("Er is al vastgelegd dat de beslissing onherroepelijk is."))
    if "decision" not in held:
        raise CsbRefused("not-decided", gettext("Er is nog geen beslissing (art. I 4)."))
    when = calendar(election, held).final_from
    assert when is not None
    if now < when:
        raise CsbRefused("appeal-term", gettext(
            "De beroepstermijn van %(days)s dagen (art. I 7) loopt nog. De beslissing kan op zijn vroegst vanaf "
            "%(when)s onherroepelijk zijn.", days=APPEAL_DAYS, when=dutch_moment(when)))
    return ground
