"""The transparency log in public: no login, since heads and proofs reveal counts and hashes only.

    GET /api/v1/elections/<e>/log/heads[?from=N]                the signed tree heads (pages of 1,000), the key
    GET /api/v1/elections/<e>/log/consistency?first=N&second=M  between two published heads
    GET /api/v1/elections/<e>/log/proof?receipt=CODE            the voter's inclusion proof (rate-limited)
    GET /logboek/<e>                                            the heads as a page
    GET /logboek/<e>/bewijs?code=CODE                           the voter's proof page (the browser verifies)
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import gettext

from registry.db import MAX_ID, db
from registry.declarations.models import RECEIPT_PATTERN
from registry.limits import limiter, per_address_limit
from registry.problems import problem
from registry.signing import SigningKeyError
from registry.transparency import services as transparency
from registry.transparency.services import LogNotFound

log_api = Blueprint("log_api", __name__, url_prefix="/api/v1")
log_pages = Blueprint("log_pages", __name__, url_prefix="/logboek")

_RECEIPT = re.compile(RECEIPT_PATTERN.rstrip("$") + r"\Z")
_SIZE = re.compile(r"(0|[1-9][0-9]{0,9})\Z")
PAGE_HEADS = 50  # the page shows the latest heads and every fixed moment's; the JSON has them all

PROBLEMS = {
    "election": (404, "unknown-election", "Onbekende verkiezing"),
    "receipt": (404, "unknown-receipt", "Onbekende ontvangstcode"),
    "pending": (404, "not-yet-in-log", "Nog niet in het logboek"),
    "head": (404, "unknown-head", "Geen gepubliceerde boomkop"),
    "order": (404, "unknown-head", "Geen gepubliceerde boomkop"),
}


def _not_found(error: LogNotFound) -> Response:
    status, slug, title = PROBLEMS.get(error.what, PROBLEMS["head"])
    return problem(status, slug, title, str(error))


def _key_unavailable() -> Response:
    return problem(503, "signing-key-unavailable", "Ondertekenen niet mogelijk",
                   "De sleutel die de boomkoppen van het logboek ondertekent is niet bruikbaar; de beheerder moet "
                   "de instelling STEUNREGISTER_LOG_SIGNING_KEY_FILE nakijken.")


def _size(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if _SIZE.match(raw) and int(raw) <= MAX_ID else None


@log_api.get("/elections/<election>/log/heads")
def heads(election: str) -> Any:
    start = _size("from") if "from" in request.args else 0
    if start is None:
        return problem(422, "invalid-request", "Ongeldig verzoek",
                       "from moet een geheel getal zijn: de plaats van de eerste boomkop (0 is de eerste); "
                       "next in het vorige antwoord geeft de volgende.", pointer="/from")
    try:
        found = transparency.find_election(db.session, election)
        transparency.lazy_seal(db.session, found)
        return jsonify(transparency.heads_document(db.session, found, start))
    except LogNotFound as exc:
        return _not_found(exc)
    except SigningKeyError:
        return _key_unavailable()


@log_api.get("/elections/<election>/log/consistency")
def consistency(election: str) -> Any:
    first, second = _size("first"), _size("second")
    if first is None or second is None:
        return problem(422, "invalid-request", "Ongeldig verzoek",
                       "first en second moeten gehele getallen zijn: de groottes van twee gepubliceerde boomkoppen.",
                       pointer="/first" if first is None else "/second")
    try:
        found = transparency.find_election(db.session, election)
        return jsonify(transparency.consistency(db.session, found, first, second))
    except LogNotFound as exc:
        return _not_found(exc)


@log_api.get("/elections/<election>/log/proof")
@limiter.limit(per_address_limit)
def proof(election: str) -> Any:
    code = request.args.get("receipt", "")
    if not _RECEIPT.match(code):
        return problem(422, "invalid-request", "Ongeldig verzoek",
                       "receipt moet een ontvangstcode zijn zoals ABCD-EFGH-JKLM.", pointer="/receipt")
    try:
        found = transparency.find_election(db.session, election)
        transparency.lazy_seal(db.session, found)
        return jsonify(transparency.inclusion(db.session, found, code))
    except LogNotFound as exc:
        return _not_found(exc)
    except SigningKeyError:
        return _key_unavailable()


@log_pages.get("/<election>")
def heads_page(election: str) -> Any:
    try:
        found = transparency.find_election(db.session, election)
        transparency.lazy_seal(db.session, found)
        total = transparency.head_count(db.session, found)
        latest = transparency.heads(db.session, found, max(0, total - PAGE_HEADS))
        fixed = transparency.fixed_heads(db.session, found)
        _pem, key_id = transparency.public_key()
    except LogNotFound as exc:
        return render_template("csb/not_found.html", message=str(exc)), 404
    return render_template("transparency/heads.html", election=found, heads=list(reversed(latest)), fixed=fixed,
                           total=total, key_id=key_id)


@log_pages.get("/<election>/bewijs")
@limiter.limit(per_address_limit)
def proof_page(election: str) -> Any:
    code = request.args.get("code", "").strip()
    try:
        found = transparency.find_election(db.session, election)
    except LogNotFound as exc:
        return render_template("csb/not_found.html", message=str(exc)), 404
    result: dict[str, Any] | None = None
    message = None
    if code:
        if not _RECEIPT.match(code):
            message = gettext("Dit is geen ontvangstcode. Een ontvangstcode ziet eruit als ABCD-EFGH-JKLM.")
        else:
            try:
                transparency.lazy_seal(db.session, found)
                result = transparency.inclusion(db.session, found, code)
            except LogNotFound as exc:
                message = (gettext("Uw verklaring is vastgelegd, maar staat nog niet in het logboek. Dat gebeurt "
                                   "binnen een minuut. Probeer het zo opnieuw.") if exc.what == "pending" else
                           gettext("Er is geen verklaring met deze ontvangstcode in deze verkiezing. Controleer de "
                                   "code op uw ontvangstbewijs."))
    status = 200 if result or not code else 404
    return render_template("transparency/proof.html", election=found, code=code, result=result,
                           message=message), status
