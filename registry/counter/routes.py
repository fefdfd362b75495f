"""The clerk's screen: at most four steps — voter and document, list and confirmation, receipt.

Step 1 checks the BSN, the document, the BRP, the voter's own municipality, the window and whether
the voter already declared (never for which list). Every step that succeeds answers with a redirect
(post/redirect/get), so the browser's Back and reload never ask to send a form again: step 1 keeps the
voter sealed (AES-GCM, never the BSN in clear, never in a URL or the database) in the session cookie
for step 2's page, and step 2 carries it sealed in its form. The confirmation is idempotent on a
one-time submission id kept with that seal, so a double click, a resubmitted form or step 2 confirmed
again after Back never records twice.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from auth.access import current_identity, require_municipality, role_required
from registry.calendar_utils import local
from registry.counter.forms import ConfirmForm, VoterForm
from registry.csb.phase import election_phase, notified_shortages
from registry.db import db, utcnow
from registry.declarations import idempotency, messages
from registry.declarations.idempotency import Idempotency
from registry.declarations.lookups import record_lookup
from registry.declarations.models import Declaration, IdempotencyKey
from registry.declarations.services import (
    DeclarationRefused,
    DeclarationRequest,
    Recorded,
    Refusal,
    Replayed,
    VoterCheck,
    check_voter,
    has_declared,
    refusal_from_answer,
)
from registry.declarations.services import record as record_outcome
from registry.documents import DocumentNotFound, blank_h4_pdf
from registry.documents import receipt_pdf as render_receipt_pdf
from registry.domain import Channel
from registry.elections.models import CandidateList, District, Election, ListDistrict, Municipality
from registry.elections.phase import accepting
from registry.i18n import page_list_label
from registry.limits import limiter, lookup_limit, session_key
from registry.people import person_registry
from registry.privacy.sealed import TokenInvalid, seal, unseal

counter = Blueprint("counter", __name__, url_prefix="/balie")

SEAL_PURPOSE = "counter-voter"
SEAL_TTL = 15 * 60  # a voter at the counter; long enough to choose, short enough to be harmless
COUNTER_CHANNELS = (Channel.COUNTER.value, Channel.BATCH.value)  # made at the counter, on screen or on paper
STEP2_STATE = "counter_voter"  # session key: the voter of step 2, sealed, and the form's submission id


def _clerk_municipality(election: Election) -> Municipality:
    """The clerk's own municipality in this election; a clerk acts for no other (role clerk:GMxxxx)."""
    identity = current_identity()
    codes = sorted(identity.municipalities()) if identity else []
    asked = request.args.get("gemeente") or (codes[0] if codes else None)
    if asked is None:
        abort(403)
    require_municipality(asked)
    municipality = db.session.scalar(select(Municipality).where(Municipality.election_id == election.id,
                                                                Municipality.code == asked))
    if municipality is None:
        abort(404)
    return municipality


def _election(identifier: str) -> Election:
    election = db.session.scalar(select(Election).where(Election.identifier == identifier))
    if election is None:
        abort(404)
    return election


@counter.get("/<election>/")
@role_required("clerk")
def start(election: str) -> str:
    record = _election(election)
    municipality = _clerk_municipality(record)
    session.pop(STEP2_STATE, None)  # a new voter: the previous one's seal leaves the browser
    return _step1(record, municipality, VoterForm())


@counter.post("/<election>/")
@role_required("clerk")
@limiter.limit(lookup_limit, key_func=session_key)  # per clerk: whether someone declared is political data
def check(election: str) -> str | Response:
    record = _election(election)
    municipality = _clerk_municipality(record)
    form = VoterForm()
    if not form.validate_on_submit():
        return _step1(record, municipality, form), 422
    outcome = _check(record, municipality, form.bsn.data)
    record_lookup(db.session, actor=current_identity().actor, election=record.identifier,
                  municipality=municipality.code)
    if isinstance(outcome, DeclarationRefused):
        return render_template("counter/outcome.html", election=record, municipality=municipality,
                               refusal=outcome, form=form, paper_lists=_paper_lists(record, municipality)), 200
    voter = {
        "bsn": form.bsn.data, "document_type": form.document_type.data,
        "document_number": form.document_number.data, "document_country": form.document_country.data,
        "municipality": municipality.code, "election": record.identifier, "clerk": current_identity().actor,
        # One submission id for this voter's step 2, however often its page is shown (Back, reload): a
        # second confirmation is then the same submission and shows the first answer.
        "submission": secrets.token_urlsafe(18),
    }
    session[STEP2_STATE] = seal(current_app.extensions["steunregister.keyring"], SEAL_PURPOSE, voter, SEAL_TTL)
    return redirect(_here("counter.choose", record), 303)


@counter.get("/<election>/kiezer")
@role_required("clerk")
def choose(election: str) -> str | Response | tuple[str, int]:
    """Step 2 as a page of its own: reached by the redirect after step 1, and again by Back after the
    receipt. Reads the voter sealed in the session; no BSN in the URL."""
    record = _election(election)
    municipality = _clerk_municipality(record)
    try:
        sealed = unseal(current_app.extensions["steunregister.keyring"], SEAL_PURPOSE, session.get(STEP2_STATE, ""))
    except TokenInvalid:
        if STEP2_STATE not in session:  # nobody typed a BSN yet (or "Volgende kiezer" was chosen)
            return redirect(_here("counter.start", record))
        session.pop(STEP2_STATE, None)
        return render_template("counter/expired.html", election=record, municipality=municipality), 400
    if sealed["municipality"] != municipality.code or sealed["election"] != record.identifier or \
            sealed["clerk"] != current_identity().actor:
        return redirect(_here("counter.start", record))
    # "Already declared" is not asked again here: after Back from the receipt this voter has declared,
    # and the page is step 2 as it was, saying so; confirming it again replays the first answer.
    voter = _check(record, municipality, sealed["bsn"], ask_declared=False)
    if isinstance(voter, DeclarationRefused):
        return render_template("counter/outcome.html", election=record, municipality=municipality,
                               refusal=voter, form=None, paper_lists=_paper_lists(record, municipality))
    scope, key = _submission_key(record, sealed["submission"])
    return _step2(record, municipality, voter, sealed, recorded=_recorded_code(scope, key))


def _here(endpoint: str, election: Election) -> str:
    """A URL of this counter for the same municipality the clerk chose (``?gemeente=``)."""
    chosen = request.args.get("gemeente")
    return url_for(endpoint, election=election.identifier, **({"gemeente": chosen} if chosen else {}))


def _submission_key(election: Election, submission: str) -> tuple[str, str]:
    return idempotency.scope_for(election.identifier, current_identity().actor), f"counter-form:{submission}"


def _recorded_code(scope: str, key: str) -> str | None:
    """The receipt code when this submission was already recorded."""
    row = db.session.get(IdempotencyKey, (scope, key))
    if row is None or row.state != "done" or row.response_status != 201:
        return None
    return json.loads(row.response_body or "{}").get("receipt_code")


def _step2(election: Election, municipality: Municipality, voter: VoterCheck, sealed: dict[str, Any],
           changed: DeclarationRefused | None = None, recorded: str | None = None) -> tuple[str, int]:
    """Step 2 with the lists as they stand now. The seal carries the version of each list shown, so the
    declaration supports exactly what the voter saw (H 4 lid 1); ``changed``: shown again after a change;
    ``recorded``: the receipt code when this step was already confirmed (the clerk came Back)."""
    shown = {**sealed, "versions": {str(cl.id): link.version.version for cl, link in voter.lists}}
    token = seal(current_app.extensions["steunregister.keyring"], SEAL_PURPOSE, shown, SEAL_TTL)
    confirm = ConfirmForm(formdata=None, token=token, submission=sealed.get("submission") or secrets.token_urlsafe(18))
    confirm.list_id.choices = [(cl.id, page_list_label(cl.label)) for cl, _ in voter.lists]
    return render_template("counter/step2.html", election=election, municipality=municipality, voter=voter,
                           form=confirm, changed=changed, recorded=recorded), 409 if changed else 200


def _step1(election: Election, municipality: Municipality, form: VoterForm) -> str:
    """Step 1, with where the calendar stands before any BSN is typed: the window, or in the repair
    period (I 2) the lists that may still be supported in this municipality's kieskring."""
    return render_template("counter/step1.html", election=election, municipality=municipality, form=form,
                           window_open=_window_open(election), phase=election_phase(db.session, election),
                           notified=notified_shortages(db.session, election, kieskring=municipality.district.number))


def _check(election: Election, municipality: Municipality, bsn: str,
           ask_declared: bool = True) -> VoterCheck | DeclarationRefused:
    try:
        outcome = check_voter(db.session, person_registry(), election, bsn, municipality.code)
    except DeclarationRefused as refusal:
        return refusal
    if not _window_open(election):
        return DeclarationRefused(Refusal.WINDOW_CLOSED, messages.COUNTER_WINDOW_CLOSED)
    if ask_declared and has_declared(db.session, election, bsn):
        return DeclarationRefused(Refusal.ALREADY_DECLARED, messages.COUNTER_ALREADY_DECLARED)
    if not outcome.lists:
        return DeclarationRefused(Refusal.WRONG_KIESKRING, _("In kieskring %(number)s (%(name)s) staat nog geen "
                                                              "lijst die verklaringen nodig heeft.",
                                                              number=outcome.district.number,
                                                              name=outcome.district.name))
    return outcome


@counter.post("/<election>/vastleggen")
@role_required("clerk")
def confirm(election: str) -> str | Response:
    record = _election(election)
    municipality = _clerk_municipality(record)
    form = ConfirmForm()
    ring = current_app.extensions["steunregister.keyring"]
    try:
        sealed = unseal(ring, SEAL_PURPOSE, form.token.data or "")
    except TokenInvalid:
        return render_template("counter/expired.html", election=record, municipality=municipality), 400
    if sealed["municipality"] != municipality.code or sealed["election"] != record.identifier:
        abort(403)
    identity = current_identity()
    # The lists shown in step 2 are sealed with their versions: the form takes one of those, and the core
    # checks every rule again, with this declaration's one BRP lookup.
    versions: dict[str, int] = sealed.get("versions", {})
    form.list_id.choices = [(int(list_id), list_id) for list_id in versions]
    if not form.validate_on_submit():
        voter = _check(record, municipality, sealed["bsn"])
        if isinstance(voter, DeclarationRefused):
            return _outcome_page(record, municipality, voter)
        form.list_id.choices = [(cl.id, page_list_label(cl.label)) for cl, _ in voter.lists]
        return render_template("counter/step2.html", election=record, municipality=municipality, voter=voter,
                               form=form), 422
    scope, key = _submission_key(record, form.submission.data or "")
    digest = idempotency.request_hash("POST", request.path, {"token": form.token.data, "list": form.list_id.data})
    outcome = record_outcome(db.session, person_registry(), DeclarationRequest(
        election=record.identifier, list_id=form.list_id.data, channel=Channel.COUNTER, bsn=sealed["bsn"],
        actor=identity.actor, counter_municipality=municipality.code,
        document_type=sealed["document_type"], document_number=sealed["document_number"],
        document_country=sealed.get("document_country"),
        # A list not on the clerk's screen has no version shown: 0 matches none, so it is refused.
        list_version=versions.get(str(form.list_id.data), 0),
    ), Idempotency(scope, key, digest))
    if isinstance(outcome, Recorded):
        return redirect(url_for("counter.receipt", election=record.identifier,
                                code=outcome.declaration.receipt_code), 303)
    if isinstance(outcome, Replayed):  # a double click or a resubmitted form: the first answer
        answer = outcome.answer()
        if outcome.status in (200, 201):
            return redirect(url_for("counter.receipt", election=record.identifier, code=answer["receipt_code"]), 303)
        return _outcome_page(record, municipality, refusal_from_answer(answer))
    refusal = outcome.error
    if refusal.code is Refusal.LIST_CHANGED:
        voter = _check(record, municipality, sealed["bsn"])
        if isinstance(voter, DeclarationRefused):
            return _outcome_page(record, municipality, voter)
        # The changed lists are a new form: a new submission id, kept for Back and reload too.
        fresh = {**{k: v for k, v in sealed.items() if k != "versions"}, "submission": secrets.token_urlsafe(18)}
        session[STEP2_STATE] = seal(ring, SEAL_PURPOSE, fresh, SEAL_TTL)
        return _step2(record, municipality, voter, fresh, changed=refusal)
    return _outcome_page(record, municipality, refusal)


def _outcome_page(election: Election, municipality: Municipality, refusal: DeclarationRefused) -> str:
    return render_template("counter/outcome.html", election=election, municipality=municipality, refusal=refusal,
                           form=None, paper_lists=_paper_lists(election, municipality))


def _own_declaration(election: Election, municipality: Municipality, code: str) -> Declaration:
    declaration = db.session.scalar(select(Declaration).where(Declaration.receipt_code == code,
                                                              Declaration.election_id == election.id))
    # A clerk sees only what was made at their own municipality's counter (or on its paper forms), never a
    # resident's online declaration.
    if declaration is None or declaration.municipality_code != municipality.code or \
            declaration.channel not in COUNTER_CHANNELS:
        abort(404)
    return declaration


@counter.get("/<election>/verklaring/<code>")
@role_required("clerk")
def receipt(election: str, code: str) -> str:
    record = _election(election)
    municipality = _clerk_municipality(record)
    declaration = _own_declaration(record, municipality, code)
    candidate_list = db.session.get(CandidateList, declaration.list_id)
    district = db.session.get(District, declaration.district_id)
    return render_template("counter/receipt.html", election=record, municipality=municipality,
                           declaration=declaration, candidate_list=candidate_list, district=district,
                           recorded_local=local(declaration.recorded_at))


@counter.get("/<election>/verklaring/<code>.pdf")
@role_required("clerk")
def receipt_pdf(election: str, code: str) -> Response:

    record = _election(election)
    declaration = _own_declaration(record, _clerk_municipality(record), code)
    return _pdf(render_receipt_pdf(db.session, declaration.id), f"ondersteuningsverklaring-{code}.pdf")


@counter.get("/<election>/papier/<int:list_id>.pdf")
@role_required("clerk")
def blank_form(election: str, list_id: int) -> Response:
    """The paper fallback (model H 4) when the BRP or the registry is down."""

    record = _election(election)
    municipality = _clerk_municipality(record)
    try:
        pdf = blank_h4_pdf(db.session, list_id, municipality.district.number)
    except DocumentNotFound:
        abort(404)
    return _pdf(pdf, f"model-h4-lijst-{list_id}.pdf")


@counter.get("/<election>/overzicht")
@role_required("clerk")
def overview(election: str) -> str:
    """Declarations registered at this municipality's counter: per day and per list (counts only)."""
    record = _election(election)
    municipality = _clerk_municipality(record)
    here = (Declaration.election_id == record.id, Declaration.municipality_code == municipality.code,
            Declaration.channel.in_(COUNTER_CHANNELS))
    per_list = db.session.execute(
        select(CandidateList, func.count(Declaration.id)).join(Declaration, Declaration.list_id == CandidateList.id)
        .where(*here).group_by(CandidateList.id).order_by(CandidateList.number)).all()
    per_day: dict[date, int] = {}
    for (recorded_at,) in db.session.execute(select(Declaration.recorded_at).where(*here)):
        day = local(recorded_at).date()  # local days; SQL date() would count in UTC
        per_day[day] = per_day.get(day, 0) + 1
    return render_template("counter/overview.html", election=record, municipality=municipality,
                           per_list=per_list, per_day=sorted(per_day.items()), total=sum(per_day.values()))


def _paper_lists(election: Election, municipality: Municipality) -> list[CandidateList]:
    return list(db.session.scalars(
        select(CandidateList).join(ListDistrict, ListDistrict.list_id == CandidateList.id)
        .where(ListDistrict.district_id == municipality.district_id).order_by(CandidateList.number)))


def _window_open(election: Election, now: datetime | None = None) -> bool:
    # The window (H 4 lid 3), or after the CSB's examination a repair period (I 2).
    return accepting(db.session, election, now or utcnow())


def _pdf(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response

