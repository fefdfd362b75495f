"""/api/v1: elections and lists, declarations (single and batch), the OpenAPI document.

Errors are RFC 9457 problem+json whose type ends in a stable slug (registry.problems).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from auth.access import Identity, api_role_required, current_identity, require_election
from registry.admission import BUSY_DETAIL, BUSY_RETRY_AFTER_SECONDS, BUSY_TITLE, SlotGuard
from registry.api.openapi import BATCH_FIELDS, DECLARATION_FIELDS, MAX_BATCH, openapi_document
from registry.config import value as setting
from registry.db import MAX_ID, db, single_statements
from registry.declarations import idempotency
from registry.declarations.idempotency import Idempotency
from registry.declarations.lookups import record_lookup
from registry.declarations.services import (
    REFUSAL_STATUS,
    DeclarationRefused,
    DeclarationRequest,
    KeyReused,
    Outcome,
    Recorded,
    Refusal,
    Refused,
    Replayed,
    record,
    refusal_answer,
    refusal_from_answer,
)
from registry.domain import Channel
from registry.elections.models import CandidateList, District, Election, ListDistrict, ListVersion
from registry.input_guard import forbidden_in_body, refusal
from registry.limits import limiter, per_address_limit, per_client_limit, session_key
from registry.online.services import all_own_declarations
from registry.party.services import require_agent_list
from registry.people import person_registry
from registry.problems import problem
from registry.progress.services import ANSWERS, AnswerCache, cached_answer, keep_answer, max_age_from
from registry.progress.services import list_progress as progress_of

api = Blueprint("api", __name__, url_prefix="/api/v1")
F = TypeVar("F", bound=Callable[..., Any])

RETRY_AFTER_SECONDS = 5
# The declaration endpoints, which the process sheds in a burst (registry.admission.Shedder).
DECLARATION_PATHS = re.compile(r"/api/v1/elections/[^/]+/declarations(/batch)?")

REFUSAL_TITLES = {
    Refusal.INVALID_BSN: "Ongeldig BSN",
    Refusal.INVALID_DOCUMENT: "Ongeldig identiteitsbewijs",
    Refusal.UNKNOWN_ELECTION: "Onbekende verkiezing",
    Refusal.UNKNOWN_LIST: "Onbekende lijst",
    Refusal.NOT_ELIGIBLE: "Geen kiesrecht voor deze verkiezing",
    Refusal.NOT_REGISTERED_HERE: "Ingeschreven in een andere gemeente",
    Refusal.WRONG_KIESKRING: "Lijst doet niet mee in deze kieskring",
    Refusal.WINDOW_CLOSED: "Termijn gesloten",
    Refusal.ONLINE_CLOSED: "Online kanaal gesloten",
    Refusal.ALREADY_DECLARED: "Al een verklaring afgelegd",
    Refusal.REGISTRY_UNAVAILABLE: "BRP niet bereikbaar",
    Refusal.DATA_DESTROYED: "Gegevens vernietigd",
    Refusal.LIST_EXEMPT: "Lijst heeft geen verklaringen nodig",
    Refusal.LIST_CHANGED: "Lijst is gewijzigd",
}


# Refusals that tell a clerk or system something about the person (and record nothing): audited as lookups.
ANSWERS_ABOUT_THE_PERSON = frozenset({Refusal.ALREADY_DECLARED, Refusal.NOT_ELIGIBLE, Refusal.NOT_REGISTERED_HERE,
                                      Refusal.WRONG_KIESKRING})


# --- admission: the declaration endpoints shed a burst instead of queueing it ----------------------

GUARD = "steunregister.api_guard"


def install_guard(app: Flask) -> None:
    """At most API_MAX_CONCURRENT declaration requests per process (registry/admission.py)."""
    settings = app.config.get("STEUNREGISTER") or {}
    app.extensions[GUARD] = SlotGuard(setting(settings, "API_MAX_CONCURRENT"), queue=setting(settings, "API_QUEUE"),
                                      wait=setting(settings, "API_QUEUE_WAIT_MS") / 1000)


def admitted(view: F) -> F:
    """After the token check: read the body (bounded by BODY_TIMEOUT), then take a slot. So neither an
    anonymous client nor a slow body ever holds one of the few slots; with every slot taken the answer is
    503 + Retry-After at once, with nothing recorded."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request.get_data(cache=True)
        where = forbidden_in_body()  # the input guard's body check, deferred to here (BODY_AFTER_AUTHENTICATION)
        if where is not None:
            return refusal(where)
        guard: SlotGuard = current_app.extensions[GUARD]
        if not guard.try_acquire():
            return problem(503, "busy", BUSY_TITLE, BUSY_DETAIL, headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})
        try:
            return view(*args, **kwargs)
        finally:
            guard.release()
    return cast(F, wrapper)


class BadBody(Exception):
    """A body that cannot be used: 400 when it is not a JSON object at all, 422 when its content is wrong."""

    def __init__(self, detail: str, pointer: str | None = None, syntax: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pointer = pointer
        self.syntax = syntax


# --- reading -------------------------------------------------------------------------------------

@api.get("/elections")
@api_role_required("voter", "clerk", "csb", "party_agent", "system")
def list_elections() -> Response:
    elections = db.session.scalars(select(Election).order_by(Election.election_date, Election.identifier)).all()
    return jsonify([_election_json(e) for e in elections])


@api.get("/elections/<election>/lists")
@api_role_required("voter", "clerk", "csb", "party_agent", "system")
def list_lists(election: str) -> Response:
    record = _election_or_404(election)
    if isinstance(record, Response):
        return record
    rows = db.session.execute(
        select(CandidateList, District.number, ListVersion)
        .join(ListDistrict, ListDistrict.list_id == CandidateList.id)
        .join(District, District.id == ListDistrict.district_id)
        .join(ListVersion, ListVersion.id == ListDistrict.version_id)
        .where(CandidateList.election_id == record.id)
        .order_by(CandidateList.number, District.number)
    ).all()
    lists: dict[int, dict[str, Any]] = {}
    for candidate_list, district_number, version in rows:
        item = lists.setdefault(candidate_list.id, {
            "id": candidate_list.id, "number": candidate_list.number, "designation": candidate_list.designation,
            "exempt": candidate_list.exempt, "kieskringen": [], "versions": {},
        })
        item["kieskringen"].append(district_number)
        item["versions"].setdefault(version.id, {"version": version.version, "content_hash": version.content_hash,
                                                 "kieskringen": [], "candidates": version.candidates})
        item["versions"][version.id]["kieskringen"].append(district_number)
    result = []
    for item in lists.values():
        versions = list(item.pop("versions").values())
        # Most lists have one version everywhere; then the candidates sit on the list itself.
        item["candidates"] = versions[0]["candidates"] if len(versions) == 1 else None
        item["versions"] = versions
        result.append(item)
    return jsonify(result)


# --- declaring -----------------------------------------------------------------------------------

@api.post("/elections/<election>/declarations")
@api_role_required("voter", "clerk", "system")
@limiter.limit(per_client_limit, key_func=session_key)  # per token holder: each attempt is a lookup too
@admitted
def create_declaration(election: str) -> Response:
    identity = _identity()
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return problem(400, "idempotency-key-missing", "Idempotency-Key ontbreekt",
                       "Stuur een unieke Idempotency-Key-header mee, zodat een herhaald verzoek nooit twee keer "
                       "vastlegt.")
    if not idempotency.key_ok(key):
        return problem(400, "idempotency-key-invalid", "Ongeldige Idempotency-Key",
                       f"Een Idempotency-Key is 1 tot {idempotency.MAX_KEY_LENGTH} zichtbare ASCII-tekens zonder "
                       "spaties, zoals een UUID.")
    try:
        body = _json_object()
    except BadBody as exc:
        return _bad_body(exc)
    return _declare(identity, election, key, body)


@api.post("/elections/<election>/declarations/batch")
@api_role_required("clerk", "system")
@limiter.limit(per_client_limit, key_func=session_key)
@admitted
def create_batch(election: str) -> Response:
    """Paper declarations signed at the counter (e.g. during an outage); each item has its own id."""
    identity = _identity()
    record = _election_or_404(election)  # one answer for the batch, not one refusal per item
    if isinstance(record, Response):
        return record
    try:
        body = _json_object()
        items = body.get("declarations")
        _refuse_unknown_members(body, {"declarations"})
        if not isinstance(items, list) or not items:
            raise BadBody("'declarations' moet een niet-lege lijst zijn.", "/declarations")
        if len(items) > MAX_BATCH:
            raise BadBody(f"Hoogstens {MAX_BATCH} verklaringen per batch; deze heeft er {len(items)}.",
                          "/declarations")
        ids = [item.get("id") if isinstance(item, dict) else None for item in items]
        for index, item_id in enumerate(ids):
            if not isinstance(item_id, str) or not 1 <= len(item_id) <= 100:
                raise BadBody("Elke verklaring heeft een 'id': een tekst van 1 tot 100 tekens.",
                              f"/declarations/{index}/id")
        if len(set(ids)) != len(ids):
            raise BadBody("De ids in één batch moeten verschillend zijn.", "/declarations")
    except BadBody as exc:
        return _bad_body(exc)
    results = []
    for item in items:
        response = _declare(identity, election, f"batch-item:{item['id']}", item, paper=True)
        results.append({"id": item["id"], "status": response.status_code, "result": response.get_json()})
    summary = {"recorded": sum(r["status"] == 201 for r in results),
               "resent": sum(r["status"] == 200 for r in results),
               "refused": sum(r["status"] not in (200, 201) for r in results)}
    return jsonify({"results": results, **summary})


def _declare(identity: Identity, election: str, key: str, body: dict[str, Any], paper: bool = False) -> Response:
    """One declaration through the recording core; its outcome as JSON or problem+json."""
    try:
        declaration = _declaration_request(identity, election, body, paper)
    except BadBody as exc:
        return _bad_body(exc)
    key_of_request = Idempotency.for_request(election, identity.actor, key, request.method, request.path, body)
    try:
        outcome = record(db.session, person_registry(), declaration, key_of_request)
    except OperationalError:
        db.session.rollback()
        current_app.logger.exception("database unavailable while declaring")
        return _unavailable()
    return _response(outcome, identity, election, body)


def _response(outcome: Outcome, identity: Identity, election: str, body: dict[str, Any]) -> Response:
    if isinstance(outcome, Recorded):
        recorded = outcome.declaration
        # A paper declaration sent again is the one recorded the first time: 200, not a new 201.
        response = jsonify({**recorded.as_api(), "resent": True} if recorded.resent else recorded.as_api())
        response.status_code = 200 if recorded.resent else 201
        return response
    if isinstance(outcome, KeyReused):
        return problem(422, "idempotency-key-reused", "Idempotency-Key al gebruikt",
                       "Deze Idempotency-Key hoort bij een ander verzoek. Gebruik een nieuwe sleutel.")
    if isinstance(outcome, Replayed):
        replayed = _replayed(outcome)
        replayed.headers["Idempotent-Replayed"] = "true"
        return replayed
    assert isinstance(outcome, Refused)
    if outcome.error.code in ANSWERS_ABOUT_THE_PERSON and identity.kind != "voter":
        record_lookup(db.session, actor=identity.actor, election=election, refused=True,
                      municipality=str(body.get("municipality") or ",".join(sorted(identity.municipalities()))))
    # Rendered from the answer as it is kept for the key, so a replay is the same, byte for byte.
    return _refusal(refusal_from_answer(json.loads(json.dumps(refusal_answer(outcome.error), default=str))))


def _replayed(outcome: Replayed) -> Response:
    if outcome.status in (200, 201):
        return Response(outcome.body, status=outcome.status, mimetype="application/json")
    answer = outcome.answer()
    if "code" not in answer:  # kept before the recording core: the problem document itself
        return Response(outcome.body, status=outcome.status, mimetype="application/problem+json")
    return _refusal(refusal_from_answer(answer))


def _declaration_request(identity: Identity, election: str, body: dict[str, Any], paper: bool) -> DeclarationRequest:
    _refuse_unknown_members(body, DECLARATION_FIELDS.keys() | (BATCH_FIELDS.keys() if paper else set()))
    list_id = body.get("list")
    # A list id is a database integer: a number beyond it is no list (and would overflow the driver).
    if not isinstance(list_id, int) or isinstance(list_id, bool) or not 0 < list_id <= MAX_ID:
        raise BadBody("'list' moet het nummer (id) van een lijst zijn, zoals GET …/lists het geeft.", "/list")
    list_version = _list_version(body.get("list_version"))
    if identity.kind == "voter":
        unexpected = set(body) - {"list", "list_version"}
        if unexpected:
            raise BadBody(f"Een kiezer stuurt alleen 'list' en 'list_version'; niet: {', '.join(sorted(unexpected))}.")
        declaration = DeclarationRequest(
            election=election, list_id=list_id, channel=Channel.ONLINE, bsn=identity.bsn or "",
            actor=identity.actor, attestation_extra={"acr": identity.acr}, list_version=list_version)
    else:
        municipality = _acting_municipality(identity, body)
        bsn = body.get("bsn")
        if not isinstance(bsn, str):
            raise BadBody("'bsn' moet een tekst van 9 cijfers zijn.", "/bsn")
        document = body.get("identity_document")
        if not isinstance(document, dict) or not all(isinstance(document.get(k), str) for k in ("type", "number")):
            raise BadBody("'identity_document' moet {\"type\": …, \"number\": …} zijn.", "/identity_document")
        country = document.get("country")
        if country is not None and not isinstance(country, str):
            raise BadBody("'identity_document.country' moet een landcode zijn, zoals \"DE\".",
                          "/identity_document/country")
        signed_at = None
        if paper:
            signed_at = _parse_time(body.get("signed_at"))
        declaration = DeclarationRequest(
            election=election, list_id=list_id, channel=Channel.BATCH if paper else Channel.COUNTER, bsn=bsn,
            actor=identity.actor, counter_municipality=municipality, document_type=document["type"],
            document_number=document["number"], document_country=country, signed_at=signed_at,
            keep_if_duplicate=paper, list_version=list_version)
    return declaration


def _list_version(value: Any) -> int | str | None:
    """The list version the voter was shown: its number (``version`` in GET …/lists) or its content_hash."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value):
        return value
    raise BadBody("'list_version' moet het versienummer of de content_hash zijn van de lijst die de kiezer zag, "
                  "zoals GET …/lists ze geeft.", "/list_version")


def _refuse_unknown_members(body: dict[str, Any], known: Collection[str]) -> None:
    """A member the OpenAPI document does not name is a mistake (a typo would otherwise be silently ignored)."""
    unknown = sorted(set(body) - set(known))
    if unknown:
        pointer = "/" + unknown[0].replace("~", "~0").replace("/", "~1")  # RFC 6901
        raise BadBody(f"Onbekend veld: {', '.join(unknown)}. Zie /api/v1/openapi.json.", pointer)


def _acting_municipality(identity: Identity, body: dict[str, Any]) -> str:
    """The municipality comes from the token; with several, the body names which one."""
    mine = sorted(identity.municipalities())
    asked = body.get("municipality")
    if asked is None and len(mine) == 1:
        return mine[0]
    if isinstance(asked, str) and asked in mine:
        return asked
    raise BadBody("Noem in 'municipality' voor welke van uw gemeenten u werkt: " + ", ".join(mine) + ".",
                  "/municipality")


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise BadBody("'signed_at' moet een tijdstip zijn zoals 2025-09-10T14:30:00+02:00.", "/signed_at")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadBody(f"'signed_at' is geen tijdstip: {value[:40]!r}.", "/signed_at") from None
    if moment.tzinfo is None:
        raise BadBody("'signed_at' heeft een tijdzone nodig, zoals +02:00 of Z.", "/signed_at")
    return moment


def _refusal(exc: DeclarationRefused) -> Response:
    status = REFUSAL_STATUS.get(exc.code, 422)
    response = problem(status, exc.code.value, REFUSAL_TITLES[exc.code], exc.message, **exc.details)
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _unavailable() -> Response:
    response = problem(503, "service-unavailable", "Tijdelijk niet beschikbaar",
                       "De registratie is even niet bereikbaar. Er is niets vastgelegd. Probeer het zo opnieuw.")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _json_object() -> dict[str, Any]:
    if not request.is_json:
        raise BadBody("Stuur JSON met Content-Type: application/json.", syntax=True)
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # the parser gives up on very deep nesting with this, not a ValueError
        raise BadBody("De JSON is te diep genest.", syntax=True) from None
    if data is None:
        raise BadBody("De body is geen geldige JSON.", syntax=True)
    if not isinstance(data, dict):
        raise BadBody("De body moet een JSON-object zijn.", syntax=True)
    return data


def _bad_body(exc: BadBody) -> Response:
    extra = {"pointer": exc.pointer} if exc.pointer else {}
    return problem(400 if exc.syntax else 422, "invalid-request", "Ongeldig verzoek", exc.detail, **extra)


def _identity() -> Identity:
    identity = current_identity()
    assert identity is not None  # api_role_required let the request through
    return identity


def _election_or_404(identifier: str) -> Election | Response:
    record = db.session.scalar(select(Election).where(Election.identifier == identifier))
    if record is None:
        return problem(404, "unknown-election", "Onbekende verkiezing", f"Verkiezing {identifier} bestaat niet.")
    return record


def _election_json(election: Election) -> dict[str, Any]:
    return {
        "id": election.identifier, "name": election.name, "category": election.category,
        "election_date": election.election_date.isoformat(),
        "nomination_date": election.nomination_date.isoformat(),
        "window": {"opens_at": election.window_opens_at.isoformat(),
                   "closes_at": election.window_closes_at.isoformat()},
        "online": {"open": election.online_open, "legal_basis": election.online_legal_basis},
    }


# --- issue 5: the voter's own declarations, a list's progress --------------------------------------

@api.get("/me/declarations")
@api_role_required("voter")
@limiter.limit(per_address_limit)
def my_declarations() -> Response:
    """The voter's own declarations in every election of this registry, with their status."""

    identity = _identity()
    return jsonify([d.as_api() for d in all_own_declarations(db.session, identity.bsn or "")])


@api.get("/elections/<election>/lists/<int:list_id>/progress")
@api_role_required("party_agent", "csb")
@limiter.limit(per_address_limit)
def list_progress(election: str, list_id: int) -> Response:
    """Valid declarations per kieskring against the minimum, as the party page shows them (counts only).
    The CSB of this election may see every list; a party agent only their own."""
    identity = _identity()
    # 403 problem before anything about the election or list is disclosed.
    if election not in identity.elections():
        if "party_agent" in identity.role_names():
            require_agent_list(db.session, list_id)
        else:
            require_election(election)
    max_age = max_age_from(current_app.config.get("STEUNREGISTER"))
    answers = current_app.extensions.setdefault(ANSWERS, AnswerCache())
    single_statements(db.session)  # a dashboard polls: one statement when the answer stands
    body, version = cached_answer(db.session, answers, election, list_id, max_age)
    if body is not None:
        return jsonify(body)
    db.session.rollback()
    record = _election_or_404(election)
    if isinstance(record, Response):
        return record
    candidate_list = db.session.get(CandidateList, list_id)
    if candidate_list is None or candidate_list.election_id != record.id:
        return problem(404, "unknown-list", "Onbekende lijst", f"Lijst {list_id} bestaat niet in {election}.")
    (progress,), refreshed_at = progress_of(db.session, record, [candidate_list], max_age)
    body = progress.as_api(record, refreshed_at)
    keep_answer(answers, election, list_id, version, refreshed_at, body)
    return jsonify(body)


@api.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document({refusal.value: REFUSAL_STATUS.get(refusal, 422) for refusal in Refusal}))
