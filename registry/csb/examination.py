"""The examination (I 1): counts per list per kieskring, the declarations behind them, and rulings."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.csb.base import (
    EARLIER_VERSION_REASON,
    GROUND_PURPOSE,
    MULTIPLE_REASON,
    PURGED_REASON,
    PURGED_TEXT,
    REASON_MAX,
    REASON_MIN,
    REASON_PURPOSE,
    SEALED_REASON_PREFIX,
    CsbRefused,
)
from registry.csb.models import Ruling
from registry.db import begin_write, utcnow
from registry.declarations.models import Declaration
from registry.domain import (
    ElectionType,
    ListStatus,
    list_status,
    required_declarations,
)
from registry.domain.phase import local_day
from registry.elections.models import (
    CandidateList,
    CsbSession,
    District,
    Election,
    ListDistrict,
    ListVersion,
    Municipality,
)
from registry.elections.phase import sessions
from registry.privacy.keys import ElectionKeysDestroyed
from registry.privacy.services import election_cipher

# --- the examination: counts per list per kieskring ------------------------------------------------

@dataclass(frozen=True)
class ExaminationRow:
    list_id: int
    list_number: int | None
    designation: str | None
    label: str
    kieskring: int
    district_name: str
    required: int | None  # None: exempt (H 4 lid 8) or a GR election without its number of seats
    declarations: int
    valid: int
    void_multiple: int
    void_other: int
    status: str  # meets | short | exempt | not_submitted | unknown
    shortage: int
    version: int | None  # the version of the list that stands in this kieskring
    version_hash: str | None
    decision: str | None = None  # after I 4: valid | invalid (I 5 c); None where the list was not submitted

    @property
    def submitted(self) -> bool:
        return self.status != ListStatus.NOT_SUBMITTED.value

    def as_api(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ListSummary:
    list_id: int
    list_number: int | None
    label: str
    exempt: bool
    submitted: int
    meets: int  # kieskringen where the list meets the minimum or is exempt
    short: int

    @property
    def shortage_pairs(self) -> int:
        return self.short


@dataclass(frozen=True)
class Examination:
    election: str
    computed_at: datetime
    rows: list[ExaminationRow]
    frozen: bool  # True: the numbers the I 4 decision fixed
    audit_seq: int | None = None
    audit_hash: str | None = None
    lists: list[ListSummary] = field(default_factory=list)

    def rows_for(self, list_id: int) -> list[ExaminationRow]:
        return [row for row in self.rows if row.list_id == list_id]

    def submitted_rows(self) -> list[ExaminationRow]:
        return [row for row in self.rows if row.submitted]

    def shortages(self) -> list[ExaminationRow]:
        return [row for row in self.rows if row.status == ListStatus.SHORT.value]

    def totals(self) -> dict[str, int]:
        rows = self.submitted_rows()
        return {"declarations": sum(r.declarations for r in rows), "valid": sum(r.valid for r in rows),
                "void_multiple": sum(r.void_multiple for r in rows), "void_other": sum(r.void_other for r in rows)}

    def as_api(self) -> dict[str, Any]:
        return {"election": self.election, "computed_at": self.computed_at.isoformat(), "frozen": self.frozen,
                "audit_head": {"seq": self.audit_seq, "hash": self.audit_hash} if self.audit_seq else None,
                "totals": self.totals(),
                "lists": [{"list": s.list_id, "number": s.list_number, "label": s.label, "exempt": s.exempt,
                           "kieskringen_submitted": s.submitted, "kieskringen_met": s.meets,
                           "kieskringen_short": s.short,
                           "kieskringen": [r.as_api() for r in self.rows_for(s.list_id)]}
                          for s in self.lists]}


def _required(election: Election, kieskring: int) -> int | None:
    try:
        return required_declarations(ElectionType(election.category), kieskring, election.seats)
    except ValueError:
        return None


def _with_multiplicity(election_id: int) -> Any:
    """The election's declarations, each with how many declarations its voter has in this election.
    A window over one scan: a join against a grouped subquery made PostgreSQL pick a nested loop
    before ANALYZE had run (132 s for 20,000 rows); one sort has no plan to get wrong."""
    return (select(Declaration.id, Declaration.list_id, Declaration.district_id, Declaration.list_version_id,
                   Declaration.municipality_code, Declaration.channel, Declaration.signed_at,
                   Declaration.recorded_at, Declaration.attestation, Declaration.name_ciphertext,
                   func.count().over(partition_by=Declaration.voter_key).label("n"))
            .where(Declaration.election_id == election_id).subquery("declared"))


def _counts(session: Session, election_id: int) -> dict[tuple[int, int, int], tuple[int, int, int]]:
    """(list, district, version) -> (declarations, void for multiple, ruled invalid and not multiple).
    One grouped query over the election's declarations."""
    declared = _with_multiplicity(election_id)
    multiple = case((declared.c.n > 1, 1), else_=0)
    ruled = case((and_(declared.c.n <= 1, Ruling.id.is_not(None)), 1), else_=0)
    rows = session.execute(
        select(declared.c.list_id, declared.c.district_id, declared.c.list_version_id, func.count(),
               func.coalesce(func.sum(multiple), 0), func.coalesce(func.sum(ruled), 0))
        .select_from(declared)
        .outerjoin(Ruling, Ruling.declaration_id == declared.c.id)
        .group_by(declared.c.list_id, declared.c.district_id, declared.c.list_version_id)
    ).all()
    return {(lid, did, vid): (int(n), int(m), int(r)) for lid, did, vid, n, m, r in rows}


def examine(session: Session, election: Election, *, live: bool = False,
            now: datetime | None = None) -> Examination:
    """Per list per kieskring: required, valid, void (multiple / other) and the status. After the I 4
    decision this returns the numbers the decision fixed, unless ``live`` asks for a recount."""
    held = sessions(session, election)
    if "decision" in held and not live:
        decision = held["decision"]
        rows = [ExaminationRow(**row) for row in decision.results["rows"]]
        return Examination(election.identifier, decision.held_at, rows, True, decision.audit_seq,
                           decision.audit_hash, _summaries(session, election, rows))
    now = now or utcnow()
    counts = _counts(session, election.id)
    lists = session.scalars(select(CandidateList).where(CandidateList.election_id == election.id)
                            .order_by(CandidateList.number, CandidateList.id)).all()
    districts = session.scalars(select(District).where(District.election_id == election.id)
                                .order_by(District.number)).all()
    links = {(ld.list_id, ld.district_id): ld for ld in session.scalars(
        select(ListDistrict).join(CandidateList).where(CandidateList.election_id == election.id))}
    versions = {v.id: v for v in session.scalars(
        select(ListVersion).join(CandidateList).where(CandidateList.election_id == election.id))}
    # An aanduiding's exemption recorded before its list was submitted is no list to examine yet.
    lists = [cl for cl in lists if any(list_id == cl.id for list_id, _district in links)]
    rows = []
    for candidate_list in lists:
        for district in districts:
            link = links.get((candidate_list.id, district.id))
            declarations = void_multiple = void_other = valid = 0
            for (lid, did, vid), (n, m, r) in counts.items():
                if lid != candidate_list.id or did != district.id:
                    continue
                declarations += n
                void_multiple += m
                if link is not None and vid == link.version_id:
                    void_other += r
                    valid += n - m - r
                else:  # signed for a version that no longer stands here: other candidates (H 4 lid 1)
                    void_other += n - m
            required = None if candidate_list.exempt else _required(election, district.number)
            if link is None:
                status, shortage = ListStatus.NOT_SUBMITTED.value, 0
            elif candidate_list.exempt:
                status, shortage = ListStatus.EXEMPT.value, 0
            elif required is None:
                status, shortage = "unknown", 0
            else:
                outcome, shortage = list_status(True, False, valid, required)
                status = outcome.value
            version = versions.get(link.version_id) if link is not None else None
            rows.append(ExaminationRow(
                list_id=candidate_list.id, list_number=candidate_list.number,
                designation=candidate_list.designation, label=candidate_list.label, kieskring=district.number,
                district_name=district.name, required=required, declarations=declarations, valid=valid,
                void_multiple=void_multiple, void_other=void_other, status=status, shortage=shortage,
                version=version.version if version else None,
                version_hash=version.content_hash if version else None))
    return Examination(election.identifier, now, rows, False, lists=_summaries(session, election, rows))


def _summaries(session: Session, election: Election, rows: list[ExaminationRow]) -> list[ListSummary]:
    exempt = dict(session.execute(select(CandidateList.id, CandidateList.exempt)
                                  .where(CandidateList.election_id == election.id)).all())
    seen: dict[int, ListSummary] = {}
    for row in rows:
        current = seen.get(row.list_id) or ListSummary(row.list_id, row.list_number, row.label,
                                                        bool(exempt.get(row.list_id)), 0, 0, 0)
        seen[row.list_id] = ListSummary(
            current.list_id, current.list_number, current.label, current.exempt,
            current.submitted + row.submitted,
            current.meets + (row.status in (ListStatus.MEETS.value, ListStatus.EXEMPT.value)),
            current.short + (row.status == ListStatus.SHORT.value))
    return list(seen.values())


def declarations_per_day(session: Session, election: Election) -> list[tuple[date, int]]:
    """Declarations per local day of signing, over the whole window (days without any included).
    Grouped per UTC hour in SQL, then put on the Amsterdam calendar: offsets are whole hours."""
    column = Declaration.signed_at
    if session.get_bind().dialect.name == "postgresql":
        hour = func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    else:
        hour = func.strftime("%Y-%m-%d %H", column)
    counts: dict[date, int] = {}
    for bucket, n in session.execute(select(hour, func.count()).where(Declaration.election_id == election.id)
                                     .group_by(hour)):
        moment = datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=UTC)
        day = local_day(moment)
        counts[day] = counts.get(day, 0) + int(n)
    first = min([local_day(election.window_opens_at), *counts])
    last = max([local_day(election.window_closes_at), *counts])
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [(day, counts.get(day, 0)) for day in days]


# --- the declarations behind the numbers ----------------------------------------------------------

@dataclass(frozen=True)
class DeclarationLine:
    sequence: int
    declaration_id: int
    kieskring: int
    municipality_code: str
    channel: str
    signed_at: datetime
    recorded_at: datetime
    attestation: dict[str, Any]
    list_version: int
    status: str  # valid | void_multiple | void_other
    void_reason: str | None
    name: str | None  # None after the I 19 purge

    def as_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "declaration_id": self.declaration_id, "kieskring": self.kieskring,
                "municipality_code": self.municipality_code, "channel": self.channel,
                "signed_at": self.signed_at.isoformat(), "recorded_at": self.recorded_at.isoformat(),
                "attestation": self.attestation, "list_version": self.list_version, "status": self.status,
                "void_reason": self.void_reason, "name": self.name}


def _sealed_text(session: Session, election: Election, text: str, purpose: str) -> str:
    """Free text that may name a person, under the election's data key: the I 19 purge destroys it."""
    try:
        sealed = election_cipher(session, election).encrypt(text, purpose)
    except ElectionKeysDestroyed:
        raise CsbRefused("data-destroyed", gettext("De gegevens van deze verkiezing zijn vernietigd."),
                         410) from None
    return SEALED_REASON_PREFIX + base64.b64encode(sealed).decode()


def _text_reader(session: Session, election: Election, purpose: str, purged: str) -> Any:
    try:
        cipher = election_cipher(session, election)
    except ElectionKeysDestroyed:
        cipher = None

    def read(stored: str | None) -> str | None:
        if stored is None or not stored.startswith(SEALED_REASON_PREFIX):
            return stored
        if cipher is None:
            return purged
        return cipher.decrypt(base64.b64decode(stored[len(SEALED_REASON_PREFIX):]), purpose)
    return read


def _reason_reader(session: Session, election: Election) -> Any:
    return _text_reader(session, election, REASON_PURPOSE, PURGED_REASON)


def final_ground(session: Session, election: Election, final: CsbSession | None) -> str | None:
    """Why the decision is final, as the CSB wrote it; after the purge only that it was destroyed."""
    return _text_reader(session, election, GROUND_PURPOSE, PURGED_TEXT)(final.note) if final else None


def _name_reader(session: Session, election: Election, with_names: bool) -> Any:
    if not with_names:
        return lambda _blob: None
    try:
        cipher = election_cipher(session, election)
    except ElectionKeysDestroyed:
        return lambda _blob: None
    return lambda blob: cipher.decrypt(blob, "declarant-name") if blob is not None else None


def declaration_lines(session: Session, election: Election, list_id: int, with_names: bool = True,
                      kieskring: int | None = None, batch: int = 1000,
                      declaration_id: int | None = None) -> Iterator[DeclarationLine]:
    """The declarations for one list, in kieskring and recording order, streamed ``batch`` rows at a
    time, each with its status as the examination counts it. Names only for the CSB's own use."""
    declared = _with_multiplicity(election.id)
    query = (
        select(declared.c.id, District.number, declared.c.municipality_code, declared.c.channel,
               declared.c.signed_at, declared.c.recorded_at, declared.c.attestation, ListVersion.version,
               declared.c.list_version_id, declared.c.n, Ruling.reason, declared.c.name_ciphertext,
               ListDistrict.version_id)
        .select_from(declared)
        .join(District, District.id == declared.c.district_id)
        .join(ListVersion, ListVersion.id == declared.c.list_version_id)
        .outerjoin(Ruling, Ruling.declaration_id == declared.c.id)
        .outerjoin(ListDistrict, and_(ListDistrict.list_id == declared.c.list_id,
                                      ListDistrict.district_id == declared.c.district_id))
        .where(declared.c.list_id == list_id)
        .order_by(District.number, declared.c.recorded_at, declared.c.id)
        .execution_options(yield_per=batch)
    )
    if kieskring is not None:
        query = query.where(District.number == kieskring)
    if declaration_id is not None:  # one line (its sequence is then 1), not a walk through the whole list
        query = query.where(declared.c.id == declaration_id)
    read_name = _name_reader(session, election, with_names)
    read_reason = _reason_reader(session, election)
    for sequence, row in enumerate(session.execute(query), start=1):
        (declaration_id, number, municipality, channel, signed_at, recorded_at, attestation, version,
         version_id, per_voter_count, ruling_reason, name_blob, current_version_id) = row
        if per_voter_count > 1:
            status, reason = "void_multiple", MULTIPLE_REASON
        elif ruling_reason is not None:
            status, reason = "void_other", read_reason(ruling_reason)
        elif version_id != current_version_id:
            status, reason = "void_other", EARLIER_VERSION_REASON
        else:
            status, reason = "valid", None
        yield DeclarationLine(sequence, declaration_id, number, municipality, channel, signed_at, recorded_at,
                              attestation or {}, version, status, reason, read_name(name_blob))


@dataclass(frozen=True)
class DeclarationDetail:
    line: DeclarationLine
    list_label: str
    municipality_name: str
    events: list[AuditEvent]
    ruling: Ruling | None


def declaration_detail(session: Session, election: Election, declaration_id: int) -> DeclarationDetail:
    declaration = session.get(Declaration, declaration_id)
    if declaration is None or declaration.election_id != election.id:
        raise CsbRefused("unknown-declaration", gettext("Deze verklaring bestaat niet in deze verkiezing."), 404)
    line = next(declaration_lines(session, election, declaration.list_id, declaration_id=declaration_id))
    candidate_list = session.get(CandidateList, declaration.list_id)
    municipality = session.scalar(select(Municipality.name).where(
        Municipality.election_id == election.id, Municipality.code == declaration.municipality_code))
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.subject == f"declaration:{declaration_id}")
                                  .order_by(AuditEvent.seq)))
    ruling = session.scalar(select(Ruling).where(Ruling.declaration_id == declaration_id))
    assert candidate_list is not None
    return DeclarationDetail(line, candidate_list.label, municipality or declaration.municipality_code, events, ruling)


@dataclass(frozen=True)
class SignerDeclaration:
    declaration_id: int
    list_label: str
    kieskring: int
    municipality_code: str
    municipality_name: str
    channel: str
    signed_at: datetime
    recorded_at: datetime
    name: str | None


def multiple_signers(session: Session, election: Election) -> list[list[SignerDeclaration]]:
    """Every voter with more than one declaration in this election, each as the list of their
    declarations (where, how and when). All of them are void (I 2 lid 1 a)."""
    keys = (select(Declaration.voter_key).where(Declaration.election_id == election.id)
            .group_by(Declaration.voter_key).having(func.count() > 1))
    rows = session.execute(
        select(Declaration, CandidateList, District.number, Municipality.name)
        .join(CandidateList, CandidateList.id == Declaration.list_id)
        .join(District, District.id == Declaration.district_id)
        .outerjoin(Municipality, and_(Municipality.election_id == Declaration.election_id,
                                      Municipality.code == Declaration.municipality_code))
        .where(Declaration.election_id == election.id, Declaration.voter_key.in_(keys))
        .order_by(Declaration.voter_key, Declaration.recorded_at, Declaration.id)
    ).all()
    read_name = _name_reader(session, election, True)
    groups: dict[str, list[SignerDeclaration]] = {}
    for declaration, candidate_list, number, municipality_name in rows:
        groups.setdefault(declaration.voter_key, []).append(SignerDeclaration(
            declaration.id, candidate_list.label, number, declaration.municipality_code,
            municipality_name or declaration.municipality_code, declaration.channel, declaration.signed_at,
            declaration.recorded_at, read_name(declaration.name_ciphertext)))
    # Ordered by the first declaration of each voter; the pseudonym itself is never shown.
    return sorted(groups.values(), key=lambda group: (group[0].recorded_at, group[0].declaration_id))


# --- rulings ----------------------------------------------------------------------------------------

def rule_invalid(session: Session, election: Election, declaration_id: int, reason: str, actor: str,
                 now: datetime | None = None) -> Ruling:
    """Record that the CSB rules one declaration invalid, with its reason: a new fact (H 4 lid 6)."""
    now = now or utcnow()
    reason = " ".join((reason or "").split())
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise CsbRefused("invalid-reason", gettext("Geef een reden van %(min)s tot %(max)s tekens.", min=REASON_MIN,
                                                     max=REASON_MAX), 422)
    held = sessions(session, election)
    if "decision" in held:
        raise CsbRefused("decided", gettext(
            "Het centraal stembureau heeft al beslist (art. I 4): de aantallen liggen vast en er kan geen verklaring "
            "meer ongeldig worden verklaard."))
    declaration = session.get(Declaration, declaration_id)
    if declaration is None or declaration.election_id != election.id:
        raise CsbRefused("unknown-declaration", gettext("Deze verklaring bestaat niet in deze verkiezing."), 404)
    session.rollback()  # end the read; the write below starts its own transaction
    begin_write(session)
    try:
        if session.scalar(select(Ruling.id).where(Ruling.declaration_id == declaration_id)) is not None:
            raise CsbRefused("already-ruled", gettext(
                "Deze verklaring is al ongeldig verklaard. Een uitspraak staat vast; er komt geen tweede bij."))
        ruling = Ruling(election_id=election.id, declaration_id=declaration_id, ruled_by=actor, ruled_at=now,
                        reason=_sealed_text(session, election, reason, REASON_PURPOSE))
        session.add(ruling)
        session.flush()
        # The reason may name people; the chain keeps only its hash, which still proves the text.
        audit.append(session, actor=actor, action="declaration.ruled_invalid", election=election.identifier,
                     subject=f"declaration:{declaration_id}",
                     payload={"ruling": ruling.id, "reason_sha256": hashlib.sha256(reason.encode()).hexdigest()},
                     occurred_at=now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return ruling
