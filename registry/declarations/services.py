"""The one path that records a declaration, for every channel (counter, online, batch).

It checks every rule first (BSN, document, list, BRP eligibility, own municipality, kieskring,
window), then writes the declaration and its audit event in one transaction. The unique constraint on
(election, voter_key, ordinal) settles races: of two simultaneous attempts exactly one commits.
A refusal never says for which list an earlier declaration was made.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, joinedload

from registry.audit import services as audit
from registry.brp import Person, PersonRegistry, PersonRegistryUnavailable
from registry.db import begin_write, single_statements, utcnow
from registry.declarations.idempotency import (
    ID_PLACEHOLDER,
    Idempotency,
    StoredAnswer,
    answer_of,
    row_values,
    store_refusal,
    stored,
)
from registry.declarations.models import Declaration, IdempotencyKey
from registry.domain import (
    Acceptance,
    Channel,
    ElectionType,
    Ineligible,
    InvalidBsn,
    Period,
    VoterFacts,
    acceptance,
    check_counter_municipality,
    check_eligibility,
    normalize_bsn,
)
from registry.domain.documents import (
    DUTCH,
    FOREIGN_TYPES,
    DocumentType,
    document_number_ok,
    parse_country,
    parse_document_type,
)
from registry.domain.phase import RepairState
from registry.elections.models import CandidateList, District, Election, ListDistrict, Municipality
from registry.elections.phase import repair_state
from registry.elections.reference import DistrictRef, ElectionRef, MunicipalityRef, read_version, reference_cache
from registry.privacy.keys import ElectionKeysDestroyed
from registry.privacy.services import election_cipher

log = logging.getLogger(__name__)

RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a counter
MAX_ORDINAL_RETRIES = 5
# A paper declaration's signing time may not lie in the future (a little clock skew allowed).
FUTURE_SKEW = timedelta(minutes=5)


class Refusal(StrEnum):
    """Stable slugs; the API's problem types end in these."""

    INVALID_BSN = "invalid-bsn"
    INVALID_DOCUMENT = "invalid-document"
    UNKNOWN_ELECTION = "unknown-election"
    UNKNOWN_LIST = "unknown-list"
    NOT_ELIGIBLE = "not-eligible"
    NOT_REGISTERED_HERE = "not-registered-here"
    WRONG_KIESKRING = "wrong-kieskring"
    WINDOW_CLOSED = "window-closed"
    ONLINE_CLOSED = "online-closed"
    ALREADY_DECLARED = "already-declared"
    REGISTRY_UNAVAILABLE = "registry-unavailable"
    DATA_DESTROYED = "data-destroyed"
    LIST_EXEMPT = "list-exempt"  # H 4 lid 8: this list needs no declarations
    LIST_CHANGED = "list-changed"  # H 4 lid 1: the list changed after the voter was shown it


# The HTTP status each refusal has in the API (and is stored with for its idempotency key); 422 otherwise.
REFUSAL_STATUS = {
    Refusal.ALREADY_DECLARED: 409,
    Refusal.LIST_CHANGED: 409,
    Refusal.UNKNOWN_ELECTION: 404,
    Refusal.REGISTRY_UNAVAILABLE: 503,
    Refusal.DATA_DESTROYED: 410,
}

# Sentences for the person at the counter or at home, with what to do next (Dutch, or English on
# an English page: lazy, so each is read in the language of the request that shows it).
INELIGIBLE_REASONS = {
    Ineligible.NOT_REGISTERED: lazy_gettext("Deze persoon staat niet ingeschreven in een Nederlandse gemeente."),
    Ineligible.DECEASED: lazy_gettext("Deze persoon staat in de BRP als overleden."),
    Ineligible.UNDERAGE: lazy_gettext("Deze persoon is op de dag van de stemming nog geen 18 jaar (art. B 1)."),
    Ineligible.NATIONALITY: lazy_gettext("Deze persoon heeft niet de nationaliteit die deze verkiezing vraagt "
                                         "(art. B 1)."),
    Ineligible.EXCLUDED: lazy_gettext("Deze persoon is uitgesloten van het kiesrecht."),
    Ineligible.OUTSIDE_ELECTION: lazy_gettext("Deze persoon woont niet in het gebied van deze verkiezing."),
    Ineligible.WRONG_DISTRICT: lazy_gettext("Deze lijst doet niet mee in de kieskring van deze persoon."),
}
WITHHELD_REASON = lazy_gettext("Deze persoon kan volgens de BRP geen ondersteuningsverklaring afleggen voor deze "
                               "verkiezing. De reden wordt hier niet getoond: de persoon kan die zelf opvragen bij "
                               "de eigen gemeente (inzage in de BRP).")


class DeclarationRefused(Exception):
    def __init__(self, code: Refusal, message: Any, **details: Any) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = str(message)  # a lazy translation becomes text in the language of this request
        self.details = details


@dataclass(frozen=True)
class DeclarationRequest:
    election: str
    list_id: int
    channel: Channel
    bsn: str
    actor: str  # who acts: "clerk:GM0363:<employee>", "voter:<sub>", "system:<client id>"
    counter_municipality: str | None = None  # the clerk's or municipal system's municipality
    document_type: str | None = None
    document_number: str | None = None  # checked for shape, never stored
    document_country: str | None = None  # ISO 3166 code of the issuing state; None: the Netherlands
    # The list version the voter was shown (its number or content hash): a declaration supports exactly
    # those candidates in that order (H 4 lid 1). None: the version that stands now (an API client that
    # shows the list itself and did not say which).
    list_version: int | str | None = None
    signed_at: datetime | None = None  # batch: when the voter signed on paper
    keep_if_duplicate: bool = False  # batch: a paper declaration is a fact, kept even when it voids
    attestation_extra: dict[str, Any] | None = None  # e.g. the DigiD level for the online channel


@dataclass(frozen=True)
class DeclarationRecorded:
    id: int
    receipt_code: str
    election: str
    list_id: int
    list_number: int | None
    list_label: str
    list_version: int
    district_number: int
    district_name: str
    municipality_code: str
    municipality_name: str
    channel: str
    signed_at: datetime
    recorded_at: datetime
    ordinal: int
    voter_name: str
    list_version_hash: str = ""
    # The same paper declaration sent again (same voter, list version and signing time): not recorded a
    # second time; this is the declaration recorded the first time.
    resent: bool = False

    @property
    def void_for_multiple(self) -> bool:
        # A kept second declaration voids all of that voter's declarations (I 2 lid 1 a).
        return self.ordinal > 1

    def as_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "receipt_code": self.receipt_code,
            "election": self.election,
            "list": self.list_id,
            "kieskring": self.district_number,
            "municipality": self.municipality_code,
            "channel": self.channel,
            "list_version": self.list_version,
            "list_version_hash": self.list_version_hash,
            "recorded_at": self.recorded_at.isoformat(),
        }


def new_receipt_code() -> str:
    # 60 random bits, 5 per character of the 32-letter alphabet (one call to the system's random source).
    value = int.from_bytes(secrets.token_bytes(8), "big") >> 4
    raw = "".join(RECEIPT_ALPHABET[(value >> (5 * i)) & 31] for i in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def voter_facts(person: Person) -> VoterFacts:
    return VoterFacts(
        birth_date=person.birth_date,
        nationality_codes=frozenset(person.nationality_codes),
        municipality_code=person.municipality_code,
        excluded_from_voting=person.excluded_from_voting,
        deceased=person.deceased,
        lawful_residence_since=person.lawful_residence_since,
    )


@dataclass(frozen=True)
class VoterCheck:
    """What the rules say about one voter for one election, before a list is chosen."""

    election: Election
    person: Person
    facts: VoterFacts
    district: District
    municipality: Municipality
    lists: list[Any]  # the lists this voter may support, with the version
    repair: RepairState  # read once per declaration: the examination and notified shortages


def _person(registry: PersonRegistry, bsn_input: str, counter_municipality: str | None) -> tuple[str, Person]:
    """The BSN's 11-proof, the BRP lookup and, at a counter, whether the person is registered here."""
    try:
        bsn = normalize_bsn(bsn_input)
    except InvalidBsn as exc:
        raise DeclarationRefused(Refusal.INVALID_BSN, _bsn_message(exc.reason)) from None
    try:
        person = registry.lookup(bsn)
    except PersonRegistryUnavailable:
        raise DeclarationRefused(
            Refusal.REGISTRY_UNAVAILABLE,
            gettext("De BRP is nu niet bereikbaar. Er is niets vastgelegd. Probeer het over een paar minuten "
                    "opnieuw, of gebruik het papieren formulier (model H 4)."),
        ) from None
    # At a counter (or a municipal system) someone of another municipality, or nobody, is "not registered
    # here" and nothing more: checked before eligibility, which would tell any clerk in the country about a
    # death, an age or a court's exclusion from the vote (BRP facts), or where the person lives.
    if counter_municipality is not None and (
            person is None or not check_counter_municipality(voter_facts(person), counter_municipality)):
        raise DeclarationRefused(
            Refusal.NOT_REGISTERED_HERE,
            gettext("Deze persoon staat niet ingeschreven in deze gemeente. Een verklaring aan de balie kan alleen "
                    "in de gemeente waar de kiezer staat ingeschreven (art. H 4 lid 3)."))
    if person is None:
        raise DeclarationRefused(Refusal.NOT_ELIGIBLE, INELIGIBLE_REASONS[Ineligible.NOT_REGISTERED],
                                 reason=Ineligible.NOT_REGISTERED.value)
    return bsn, person


def _eligible(election: Any, facts: VoterFacts, district_numbers: dict[str, int], at_counter: bool) -> None:
    """Art. B 1 and B 3 for this election; B 3 lid 2 b counts five years of residence to nomination day."""
    result = check_eligibility(ElectionType(election.category), election.election_date, facts, district_numbers,
                               nomination_day=election.nomination_date)
    if result.ok:
        return
    assert result.reason is not None
    if at_counter and result.reason is Ineligible.EXCLUDED:
        # Special-category data (a court's sanction): the screen and the API say only that the person
        # cannot declare; the person can learn why from their own BRP record.
        raise DeclarationRefused(Refusal.NOT_ELIGIBLE, WITHHELD_REASON, reason="withheld")
    raise DeclarationRefused(Refusal.NOT_ELIGIBLE, INELIGIBLE_REASONS[result.reason], reason=result.reason.value)


def check_voter(session: Session, registry: PersonRegistry, election: Election, bsn_input: str,
                counter_municipality: str | None) -> VoterCheck:
    """Eligibility in this election (and at this counter), with the lists this voter may support: what the
    first step of the counter and online forms shows. Recording checks the same rules in record()."""
    _bsn, person = _person(registry, bsn_input, counter_municipality)
    facts = voter_facts(person)
    municipalities = _municipality(session, election, facts.municipality_code)
    _eligible(election, facts, {code: m.district.number for code, m in municipalities.items()},
              counter_municipality is not None)
    code = facts.municipality_code or ""
    municipality = municipalities.get(code) or municipalities[code.strip().upper()]
    lists = list(session.execute(
        select(CandidateList, ListDistrict)
        .join(ListDistrict, ListDistrict.list_id == CandidateList.id)
        .where(ListDistrict.district_id == municipality.district_id, CandidateList.election_id == election.id,
               CandidateList.exempt.is_(False))  # H 4 lid 8: a list that needs none is not offered
        .order_by(CandidateList.number, CandidateList.designation)
    ).all())
    state = repair_state(session, election)
    if state.examined:  # after the examination only lists with a notified shortage here (I 2 lid 3)
        lists = [(cl, ld) for cl, ld in lists if (cl.id, municipality.district.number) in state.notified]
    return VoterCheck(election, person, facts, municipality.district, municipality, lists, state)


def has_declared(session: Session, election: Election, bsn: str) -> bool:
    """Whether this voter already has a declaration in this election, in any municipality or channel.
    Says nothing about which list: callers only ever get this yes or no."""
    voter_key = election_cipher(session, election).voter_key(normalize_bsn(bsn))
    return session.scalar(select(Declaration.id).where(Declaration.election_id == election.id,
                                                       Declaration.voter_key == voter_key).limit(1)) is not None


# --- recording: one entry point for every channel ----------------------------------------------------

@dataclass(frozen=True)
class Recorded:
    """Recorded now (201), or a paper declaration sent again (``declaration.resent``: 200)."""

    declaration: DeclarationRecorded


@dataclass(frozen=True)
class Replayed:
    """The key was answered before: the first answer, as stored (``answer()`` reads it)."""

    status: int
    body: str

    def answer(self) -> dict[str, Any]:
        return dict(json.loads(self.body or "{}"))


@dataclass(frozen=True)
class KeyReused(Replayed):
    """The key was used before for another request: nothing is done. The first request's answer is kept
    here for a form that shows it (the API refuses the key instead)."""


@dataclass(frozen=True)
class Refused:
    """A rule refused it: nothing is recorded. ``status`` is the HTTP status the API gives it."""

    error: DeclarationRefused

    @property
    def status(self) -> int:
        return REFUSAL_STATUS.get(self.error.code, 422)


Outcome = Recorded | Replayed | KeyReused | Refused


def refusal_answer(error: DeclarationRefused) -> dict[str, Any]:
    """How a refusal is kept for its key, and what every channel renders (the first time and on replay)."""
    return {"code": error.code.value, "detail": error.message, "details": error.details}


def refusal_from_answer(answer: dict[str, Any]) -> DeclarationRefused:
    """A stored refusal, as the exception the channels render."""
    return DeclarationRefused(Refusal(answer["code"]), answer.get("detail", ""), **(answer.get("details") or {}))


@dataclass(frozen=True)
class _Voter:
    """What the rules established about the voter, from the reference snapshot: feeds the write and the note."""

    election: ElectionRef
    person: Person
    bsn: str
    municipality: MunicipalityRef

    @property
    def district(self) -> DistrictRef:
        return self.municipality.district


@dataclass(frozen=True)
class _Prepared:
    recorded: DeclarationRecorded
    row: dict[str, Any]
    audit_payload: dict[str, Any]


# The audit chain's trigger refuses a declaration whose reference version no longer stands (migration 0009).
STALE_REFERENCE = "SR409"
MAX_REFERENCE_RETRIES = 5  # reference data changed between the check and the write: check again


def record(session: Session, registry: PersonRegistry, request: DeclarationRequest,
           idempotency: Idempotency | None = None, now: datetime | None = None) -> Outcome:
    """Record one declaration for any channel and say what happened; never raises for a rule.

    Two round trips on PostgreSQL: (1) the reference version with the idempotency key's stored answer, if
    any; the rules then run on this process's snapshot of the reference data and one BRP lookup; (2) one
    statement that inserts the declaration, its audit event and the key with its answer, only while the
    reference version is unchanged, and commits. The unique constraint (election, voter, ordinal) settles
    a second declaration or a race; a refusal is stored for its key in a transaction of its own.
    """
    now = now or utcnow()
    postgres = session.get_bind().dialect.name == "postgresql"
    for _attempt in range(MAX_REFERENCE_RETRIES):
        if postgres:  # one statement, one commit: no BEGIN and COMMIT round trips around it
            single_statements(session)
        version, answer = _version_and_answer(session, idempotency)
        if answer is not None:
            return _stored(session, answer)
        election = reference_cache().election(session, request.election, version)
        try:
            prepared = _prepare(session, registry, election, request, now)
        except DeclarationRefused as error:
            if idempotency is not None and error.code is not Refusal.REGISTRY_UNAVAILABLE:
                first = store_refusal(session, idempotency, request.election, REFUSAL_STATUS.get(error.code, 422),
                                      json.dumps(refusal_answer(error), default=str))
                if first is not None:  # the same key was answered meanwhile: that answer
                    return _stored(session, first)
            _end(session)
            return Refused(error)
        if request.keep_if_duplicate:
            outcome = _write_paper(session, request, prepared, version, idempotency)
        elif postgres:
            outcome = _write_postgres(session, request, prepared, version, idempotency)
        else:
            outcome = _write_sqlite(session, request, prepared, version, idempotency)
        if outcome is not None:
            _end(session)
            return outcome
    raise RuntimeError("reference data kept changing while recording")  # pragma: no cover


def record_declaration(session: Session, registry: PersonRegistry, request: DeclarationRequest,
                       now: datetime | None = None) -> DeclarationRecorded:
    """record() without an idempotency key, for callers that want the declaration or the refusal raised."""
    outcome = record(session, registry, request, now=now)
    if isinstance(outcome, Refused):
        raise outcome.error
    assert isinstance(outcome, Recorded)
    return outcome.declaration


def _end(session: Session) -> None:
    """Give the connection back (on PostgreSQL it was in autocommit for this one use)."""
    session.rollback()


_VERSION_AND_ANSWER = ("SELECT r.version, k.request_hash, k.response_status, k.response_body FROM reference_state r "
                       "LEFT JOIN idempotency_keys k ON k.scope = {scope} AND k.key = {key} WHERE r.id = 1")
_VERSION_AND_ANSWER_SQLITE = _VERSION_AND_ANSWER.format(scope=":scope", key=":key")
_VERSION_AND_ANSWER_DRIVER = _VERSION_AND_ANSWER.format(scope="%(scope)s", key="%(key)s")


def _version_and_answer(session: Session, idempotency: Idempotency | None) -> tuple[int, StoredAnswer | None]:
    if idempotency is None:
        return read_version(session), None
    values = {"scope": idempotency.scope, "key": idempotency.key}
    if session.get_bind().dialect.name == "postgresql":
        row = session.connection().exec_driver_sql(_VERSION_AND_ANSWER_DRIVER, values).one()
    else:
        row = session.execute(text(_VERSION_AND_ANSWER_SQLITE), values).one()
    return int(row[0]), answer_of(idempotency.request_hash, row[1], row[2], row[3])


def _stored(session: Session, answer: StoredAnswer) -> Outcome:
    _end(session)
    return (KeyReused if answer.mismatch else Replayed)(answer.status, answer.body)


def _prepare(session: Session, registry: PersonRegistry, election: ElectionRef | None,
             request: DeclarationRequest, now: datetime) -> _Prepared:
    """Every rule, on the snapshot: raises DeclarationRefused, or returns what the write needs."""
    if election is None:
        raise DeclarationRefused(Refusal.UNKNOWN_ELECTION, gettext("Verkiezing %(election)s bestaat niet.",
                                                                   election=request.election))
    if request.channel is Channel.ONLINE and not election.online_open:
        raise DeclarationRefused(
            Refusal.ONLINE_CLOSED,
            gettext("Voor deze verkiezing kunt u nog niet online een verklaring afleggen. "
                    "Dat kan wel aan de balie van uw eigen gemeente."),
        )
    document_type = _check_document(request)
    candidate_list = election.lists.get(request.list_id) if isinstance(request.list_id, int) else None
    if candidate_list is None:
        raise DeclarationRefused(Refusal.UNKNOWN_LIST,
                                 gettext("Lijst %(list)s bestaat niet in %(election)s.", list=request.list_id,
                                         election=election.identifier))
    if candidate_list.exempt:
        # A voter has one declaration per election: spent on a list that needs none, it would be lost, and
        # a second one for another list would void both (H 4 lid 5).
        raise DeclarationRefused(
            Refusal.LIST_EXEMPT,
            gettext("%(list)s heeft geen ondersteuningsverklaringen nodig: deze aanduiding won bij de vorige "
                    "verkiezing een zetel (art. H 4 lid 8). Er is niets vastgelegd; de kiezer kan zijn ene "
                    "verklaring aan een andere lijst geven.", list=candidate_list.label),
            exempt_basis=candidate_list.exempt_basis)

    counter = request.counter_municipality if request.channel is not Channel.ONLINE else None
    bsn, person = _person(registry, request.bsn, counter)
    facts = voter_facts(person)
    _eligible(election, facts, election.district_numbers, counter is not None)
    code = facts.municipality_code or ""
    municipality = election.municipalities.get(code) or election.municipalities[code.strip().upper()]
    voter = _Voter(election, person, bsn, municipality)
    district = municipality.district
    version = candidate_list.versions.get(district.id)
    state = election.repair
    if version is not None and state.examined and (candidate_list.id, district.number) not in state.notified:
        # The list stands here but is not offered: after the examination only notified shortages are.
        _check_moment(now, election, state, -1, district.number)
    if version is None:
        raise DeclarationRefused(
            Refusal.WRONG_KIESKRING,
            gettext("%(list)s doet niet mee in kieskring %(number)s (%(name)s), waar deze kiezer woont. Kies een "
                    "lijst die hier meedoet.", list=candidate_list.label, number=district.number,
                    name=district.name),
            kieskring=district.number,
        )
    if request.list_version is not None and request.list_version not in (version.version, version.content_hash):
        raise DeclarationRefused(
            Refusal.LIST_CHANGED,
            gettext("%(list)s is gewijzigd nadat de kiezer de lijst zag: er staan nu andere kandidaten of een "
                    "andere volgorde op (versie %(version)s). Er is niets vastgelegd. Laat de kiezer de lijst "
                    "opnieuw zien; een verklaring steunt precies de kandidaten die de kiezer zag (art. H 4 lid 1).",
                    list=candidate_list.label, version=version.version),
            list=candidate_list.id, list_version=version.version, list_version_hash=version.content_hash)

    signed_at = now
    if request.channel is Channel.BATCH:
        if request.signed_at is None or request.signed_at.tzinfo is None:
            raise DeclarationRefused(Refusal.WINDOW_CLOSED, gettext("Geef het tijdstip van ondertekenen met tijdzone."))
        if request.signed_at > now + FUTURE_SKEW:
            raise DeclarationRefused(Refusal.WINDOW_CLOSED,
                                     gettext("Het tijdstip van ondertekenen ligt in de toekomst."))
        signed_at = request.signed_at
    _check_moment(signed_at, election, state, candidate_list.id, district.number)

    try:
        cipher = election_cipher(session, election)
    except ElectionKeysDestroyed:
        raise DeclarationRefused(Refusal.DATA_DESTROYED,
                                 gettext("De gegevens van deze verkiezing zijn vernietigd.")) from None
    recorded = DeclarationRecorded(
        id=0, receipt_code=new_receipt_code(), election=election.identifier, list_id=candidate_list.id,
        list_number=candidate_list.number, list_label=candidate_list.label, list_version=version.version,
        list_version_hash=version.content_hash, district_number=district.number, district_name=district.name,
        municipality_code=municipality.code, municipality_name=municipality.name,
        channel=request.channel.value, signed_at=signed_at, recorded_at=now, ordinal=1,
        voter_name=person.full_name,
    )
    row = {
        "election_id": election.id, "list_id": candidate_list.id, "list_version_id": version.id,
        "district_id": district.id, "municipality_code": municipality.code, "channel": request.channel.value,
        "voter_key": cipher.voter_key(bsn), "name_ciphertext": cipher.encrypt(person.full_name, "declarant-name"),
        "signed_at": signed_at, "recorded_at": now, "receipt_code": recorded.receipt_code,
        "attestation": _attestation(request, document_type, voter, now),
    }
    audit_payload = {"list": candidate_list.id, "version": version.id, "kieskring": district.number,
                     "municipality": municipality.code, "channel": request.channel.value,
                     "signed_at": signed_at.isoformat()}
    return _Prepared(recorded, row, audit_payload)


def _actor(request: DeclarationRequest) -> str:
    # A voter's own login subject stays out of the chain, which outlives the I 19 purge.
    return "voter" if request.channel is Channel.ONLINE else request.actor


def _answer_template(prepared: _Prepared) -> str:
    """The 201 answer with the id left for the database to fill in (idempotency.ID_PLACEHOLDER)."""
    return json.dumps({**prepared.recorded.as_api(), "id": "__declaration_id__"})


_PG_WRITE = """
WITH current_reference AS (
  SELECT set_config('steunregister.reference_version', %(reference_version_text)s, true)
  FROM reference_state WHERE id = 1 AND version = %(reference_version)s),
declaration AS (
  INSERT INTO declarations (election_id, list_id, list_version_id, district_id, municipality_code, channel,
                            voter_key, ordinal, receipt_code, name_ciphertext, signed_at, recorded_at, attestation)
  SELECT %(election_id)s, %(list_id)s, %(list_version_id)s, %(district_id)s, %(municipality_code)s, %(channel)s,
         %(voter_key)s, 1, %(receipt_code)s, %(name_ciphertext)s, %(signed_at)s, %(recorded_at)s,
         CAST(%(attestation)s AS json)
  FROM current_reference RETURNING id),
event AS (
  INSERT INTO audit_events (seq, occurred_at, actor, action, election, subject, payload, prev_hash, hash)
  SELECT 0, %(recorded_at)s, %(actor)s, 'declaration.recorded', %(election)s, 'declaration:' || declaration.id,
         %(payload)s, '', ''
  FROM declaration RETURNING seq){key}
SELECT id FROM declaration
"""
_PG_KEY = """,
answer AS (
  INSERT INTO idempotency_keys (scope, key, request_hash, state, election, response_status, response_body,
                                created_at, completed_at)
  SELECT %(scope)s, %(key)s, %(request_hash)s, 'done', %(key_election)s, 201,
         replace(%(response_body)s, %(id_placeholder)s, declaration.id::text), %(recorded_at)s, %(recorded_at)s
  FROM declaration)"""
_PG_STATEMENTS = {False: _PG_WRITE.format(key=""), True: _PG_WRITE.format(key=_PG_KEY)}


def _write_postgres(session: Session, request: DeclarationRequest, prepared: _Prepared, version: int,
                    idempotency: Idempotency | None) -> Outcome | None:
    """The declaration, its audit event (linked by the database: migration 0009) and the key, in one
    statement that commits on its own. None: the reference data changed since the check."""
    row = prepared.row
    params = {**row, "attestation": json.dumps(row["attestation"]), "reference_version": version,
              "reference_version_text": str(version),
              "actor": _actor(request), "election": prepared.recorded.election,
              "payload": audit.canonical({**prepared.audit_payload, "ordinal": 1})}
    if idempotency is not None:
        params.update(scope=idempotency.scope, key=idempotency.key, request_hash=idempotency.request_hash,
                      key_election=prepared.recorded.election[:100], response_body=_answer_template(prepared),
                      id_placeholder=ID_PLACEHOLDER)
    try:
        # The driver's own statement (psycopg's %(name)s parameters): no SQLAlchemy compilation on the hot path.
        declaration_id = session.connection().exec_driver_sql(_PG_STATEMENTS[idempotency is not None],
                                                              params).scalar()
    except IntegrityError:
        session.rollback()
        return _duplicate(session, request, idempotency)
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != STALE_REFERENCE:
            raise
        session.rollback()
        return None  # a CSB session or another change committed while this waited for the chain: check again
    if declaration_id is None:
        return None
    return Recorded(dataclasses.replace(prepared.recorded, id=int(declaration_id)))


def _write_sqlite(session: Session, request: DeclarationRequest, prepared: _Prepared, version: int,
                  idempotency: Idempotency | None) -> Outcome | None:
    """The same writes in one short transaction: SQLite's BEGIN IMMEDIATE holds its only write lock."""
    begin_write(session)
    try:
        if read_version(session) != version:
            session.rollback()
            return None
        declaration = Declaration(**prepared.row, ordinal=1)
        session.add(declaration)
        session.flush()
        _audit(session, request, prepared, declaration.id, 1)
        recorded = dataclasses.replace(prepared.recorded, id=declaration.id)
        if idempotency is not None:
            answer = json.dumps(recorded.as_api())
            session.add(IdempotencyKey(**row_values(idempotency, recorded.election, 201, answer)))
        session.commit()
    except IntegrityError:
        session.rollback()
        return _duplicate(session, request, idempotency)
    except BaseException:
        session.rollback()
        raise
    return Recorded(recorded)


def _audit(session: Session, request: DeclarationRequest, prepared: _Prepared, declaration_id: int,
           ordinal: int) -> None:
    audit.append(session, actor=_actor(request), action="declaration.recorded", election=prepared.recorded.election,
                 subject=f"declaration:{declaration_id}", payload={**prepared.audit_payload, "ordinal": ordinal},
                 occurred_at=prepared.recorded.recorded_at)


def _duplicate(session: Session, request: DeclarationRequest, idempotency: Idempotency | None) -> Outcome:
    """The unique constraint refused the write: this key's first answer, or the voter already declared."""
    if idempotency is not None:
        first = stored(session, idempotency)
        session.rollback()
        if first is not None:
            return (KeyReused if first.mismatch else Replayed)(first.status, first.body)
        error = _already_declared()
        first = store_refusal(session, idempotency, request.election, REFUSAL_STATUS[error.code],
                              json.dumps(refusal_answer(error)))
        return Refused(error) if first is None else _stored(session, first)
    return Refused(_already_declared())


def _write_paper(session: Session, request: DeclarationRequest, prepared: _Prepared, version: int,
                 idempotency: Idempotency | None) -> Outcome | None:
    """A paper declaration is a fact: kept even when the voter declared before (then with the next ordinal,
    and all of that voter's declarations are void, I 2 lid 1 a); the same paper sent again is not a second."""
    row = prepared.row
    for _attempt in range(MAX_ORDINAL_RETRIES):
        begin_write(session)
        try:
            if read_version(session) != version:
                session.rollback()
                return None
            same = _same_paper_declaration(session, row)
            if same is not None:  # read in this write transaction: a concurrent re-send waits for it
                resent = _as_resent(prepared.recorded, same)
                if idempotency is not None:
                    session.add(IdempotencyKey(**row_values(idempotency, resent.election, 200,
                                                            json.dumps({**resent.as_api(), "resent": True}))))
                session.commit()
                return Recorded(resent)
            existing = session.scalar(select(func.max(Declaration.ordinal)).where(
                Declaration.election_id == row["election_id"], Declaration.voter_key == row["voter_key"]))
            ordinal = (existing or 0) + 1
            declaration = Declaration(**row, ordinal=ordinal)
            session.add(declaration)
            session.flush()
            _audit(session, request, prepared, declaration.id, ordinal)
            result = dataclasses.replace(prepared.recorded, id=declaration.id, ordinal=ordinal)
            if idempotency is not None:
                session.add(IdempotencyKey(**row_values(idempotency, result.election, 201,
                                                        json.dumps(result.as_api()))))
            session.commit()
        except IntegrityError:
            session.rollback()
            if idempotency is not None:
                first = stored(session, idempotency)
                session.rollback()
                if first is not None:
                    return (KeyReused if first.mismatch else Replayed)(first.status, first.body)
            continue  # another paper declaration of this voter took the ordinal (or was this one): again
        except BaseException:
            session.rollback()
            raise
        if ordinal > 1:
            log.warning("declaration %s kept as ordinal %s: all declarations of this voter are void",
                        declaration.id, ordinal)
        return Recorded(result)
    return Refused(_already_declared())


def _same_paper_declaration(session: Session, row_values: dict[str, Any]) -> Declaration | None:
    """A paper declaration is what the voter signed: voter, list version and signing time. The same
    one sent again (another batch item id, a second batch) is that declaration, not a second signature
    (I 2 lid 1 a voids only a voter who signed more than once). The database holds this as a unique
    index on paper declarations."""
    return session.scalar(select(Declaration).where(
        Declaration.election_id == row_values["election_id"], Declaration.voter_key == row_values["voter_key"],
        Declaration.channel == Channel.BATCH.value, Declaration.list_version_id == row_values["list_version_id"],
        Declaration.signed_at == row_values["signed_at"]))


def _as_resent(recorded: DeclarationRecorded, same: Declaration) -> DeclarationRecorded:
    return dataclasses.replace(recorded, id=same.id, receipt_code=same.receipt_code, ordinal=same.ordinal,
                               recorded_at=same.recorded_at, resent=True)


def _check_moment(signed_at: datetime, election: Election | ElectionRef, state: RepairState, list_id: int,
                  district_number: int) -> None:
    """H 4 lid 3 and I 2 lid 3: inside the window; after the CSB's examination only in a repair period and
    only for a (list, kieskring) it notified of a shortage; after its decision never."""
    if state.decided:
        raise DeclarationRefused(
            Refusal.WINDOW_CLOSED,
            gettext("Het centraal stembureau heeft al over de lijsten beslist (art. I 4). Er worden geen "
                    "verklaringen meer vastgelegd. Er is niets vastgelegd."))
    window = Period(election.window_opens_at, election.window_closes_at)
    outcome = acceptance(signed_at, window, state.repairs, state.notified, list_id, district_number)
    if outcome is Acceptance.REPAIR or (outcome is Acceptance.OPEN and not state.examined):
        return
    if state.examined:
        raise DeclarationRefused(
            Refusal.WINDOW_CLOSED,
            gettext("De termijn voor ondersteuningsverklaringen is gesloten. Alleen in de hersteltermijn na het "
                    "onderzoek van het centraal stembureau (art. I 2) kan nog een verklaring worden afgelegd, en dan "
                    "alleen voor een lijst en kieskring waarvoor een tekort is gemeld. Dat geldt niet voor deze lijst "
                    "hier, of de hersteltermijn is nu niet open. Er is niets vastgelegd."),
            repair=[[p.starts_at.isoformat(), p.ends_at.isoformat()] for p in state.repairs])
    raise DeclarationRefused(
        Refusal.WINDOW_CLOSED,
        gettext("De termijn voor ondersteuningsverklaringen is gesloten (art. H 4 lid 3). Er is niets vastgelegd."),
        opens_at=election.window_opens_at.isoformat(), closes_at=election.window_closes_at.isoformat(),
    )


def _already_declared() -> DeclarationRefused:
    # Deliberately the same sentence whatever list, channel or place the earlier one had.
    return DeclarationRefused(
        Refusal.ALREADY_DECLARED,
        gettext("Deze kiezer heeft voor deze verkiezing al een ondersteuningsverklaring afgelegd. Er kan er maar "
                "één zijn: een tweede zou beide ongeldig maken (art. H 4 lid 5). Er is niets nieuws vastgelegd."),
    )


def _bsn_message(reason: str) -> str:
    if reason == "checksum":
        return gettext("Dit BSN klopt niet: het voldoet niet aan de elfproef. Controleer de cijfers.")
    if reason == "zeros":
        return gettext("Dit BSN bestaat niet (alleen nullen). Controleer de cijfers.")
    return gettext("Een BSN bestaat uit 9 cijfers. Controleer wat u hebt ingevuld.")


def _check_document(request: DeclarationRequest) -> DocumentType | None:
    if request.channel is Channel.ONLINE:
        return None  # DigiD is the identification; there is no document at home
    document_type = parse_document_type(request.document_type)
    if document_type is None:
        raise DeclarationRefused(
            Refusal.INVALID_DOCUMENT,
            gettext("Kies het soort identiteitsbewijs: paspoort, identiteitskaart, rijbewijs of verblijfsdocument."),
            field="type",
        )
    country = parse_country(request.document_country)
    if country is None:
        raise DeclarationRefused(
            Refusal.INVALID_DOCUMENT,
            gettext("Een buitenlands identiteitsbewijs kan alleen een paspoort of identiteitskaart zijn van een land "
                    "van de Europese Unie, de Europese Economische Ruimte of Zwitserland. Geef het land als "
                    "landcode, zoals DE."), field="country")
    if country != DUTCH and document_type not in FOREIGN_TYPES:
        raise DeclarationRefused(
            Refusal.INVALID_DOCUMENT,
            gettext("Van een buitenlands document gelden alleen een paspoort en een identiteitskaart "
                    "(Wet op de identificatieplicht)."), field="type")
    if not document_number_ok(document_type, request.document_number, country):
        raise DeclarationRefused(
            Refusal.INVALID_DOCUMENT,
            gettext("Het documentnummer past niet bij een %(document)s. Controleer het nummer op het document.",
                    document=document_type.value),
            field="number",
        )
    return document_type


def _attestation(request: DeclarationRequest, document_type: DocumentType | None, check: _Voter,
                 now: datetime) -> dict[str, Any]:
    if request.channel is Channel.ONLINE:
        # The registry's own BRP check stands in for the burgemeester's note (rules.md §3).
        return {"kind": "registry-brp-check", "checked_at": now.isoformat(),
                "legal_basis": check.election.online_legal_basis, "municipality": check.municipality.code,
                "kieskring": check.district.number, **(request.attestation_extra or {})}
    # H 4 lid 4: the burgemeester's note: registered as kiezer here, kieskring, date and official.
    return {"kind": "burgemeester-note", "checked_at": now.isoformat(), "official": request.actor,
            "municipality": check.municipality.code, "municipality_name": check.municipality.name,
            "kieskring": check.district.number, "document_type": document_type.value if document_type else None,
            **_foreign_issuer(request),
            "paper": request.channel is Channel.BATCH, **(request.attestation_extra or {})}


def _foreign_issuer(request: DeclarationRequest) -> dict[str, str]:
    """The issuing state of a foreign document, for the burgemeester's note; nothing for a Dutch one."""
    country = parse_country(request.document_country) or DUTCH
    return {"document_country": country} if country != DUTCH else {}


def _municipality(session: Session, election: Election, code: str | None) -> dict[str, Municipality]:
    """The voter's own municipality, if it is in this election: all the rules need to know. (Loading
    all ~345 of them took a third of every declaration's time.)"""
    if not code:
        return {}
    rows = session.scalars(select(Municipality).options(joinedload(Municipality.district))
                           .where(Municipality.election_id == election.id,
                                  Municipality.code.in_({code, code.strip().upper()}))).all()
    return {m.code: m for m in rows}
