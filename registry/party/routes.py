"""/partij/…: a party agent's lists, their progress per kieskring and registering lists.

Counts only: nothing here shows who declared (that becomes public only after the CSB's examination,
I 3). Every view is for role party_agent; a list is shown only to an agent of that list.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from auth.access import Identity, current_identity, role_required
from registry.csb.phase import countdown, list_outcome, shortage_notice_pdf
from registry.db import db
from registry.documents import DocumentNotFound, blank_h4_pdf
from registry.elections.models import CandidateList, District, Election, ListDistrict, ListVersion
from registry.eml import Candidate
from registry.i18n import page_datetime, page_list_label
from registry.limits import limiter, per_address_limit
from registry.party.forms import ListForm, UploadForm
from registry.party.services import (
    RegistrationRefused,
    agent_lists,
    form_fingerprint,
    nominations_from_form,
    parse_candidates,
    register_file,
    register_lists,
    registration_open,
    require_agent_list,
)
from registry.progress.services import list_progress, max_age_from

party = Blueprint("party", __name__, url_prefix="/partij")


class PageNotFound(NotFound):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@party.errorhandler(PageNotFound)
def _not_found(exc: PageNotFound) -> tuple[str, int]:
    return render_template("party/not_found.html", message=exc.message), 404


def _agent() -> Identity:
    identity = current_identity()
    assert identity is not None  # role_required("party_agent")
    return identity


def _election(identifier: str) -> Election:
    election = db.session.scalar(select(Election).where(Election.identifier == identifier))
    if election is None:
        raise PageNotFound(_("Er is geen verkiezing met de naam %(name)s.", name=identifier))
    return election


def _own_list(election: Election, list_id: int) -> CandidateList:
    require_agent_list(db.session, list_id)  # first: another party's list is not even confirmed to exist
    candidate_list = db.session.get(CandidateList, list_id)
    if candidate_list is None or candidate_list.election_id != election.id:
        raise PageNotFound(_("Deze lijst hoort niet bij deze verkiezing."))
    return candidate_list


def _max_age() -> Any:
    return max_age_from(current_app.config.get("STEUNREGISTER"))


@party.get("")
@role_required("party_agent")
@limiter.limit(per_address_limit)
def index() -> str:
    """The agent's lists per election, with how many kieskringen have enough declarations."""
    identity = _agent()
    lists = agent_lists(db.session, identity)
    elections = {e.id: e for e in db.session.scalars(select(Election).order_by(Election.election_date))}
    groups = []
    for election_id, election in elections.items():
        mine = [cl for cl in lists if cl.election_id == election_id]
        if not mine:
            continue
        progress, refreshed_at = list_progress(db.session, election, mine, _max_age())
        groups.append({"election": election, "progress": progress, "refreshed_at": refreshed_at,
                       "open": registration_open(election)})
    can_register = [e for e in elections.values() if registration_open(e)]
    return render_template("party/index.html", groups=groups, can_register=can_register)


@party.get("/<election>/lijst/<int:list_id>")
@role_required("party_agent")
@limiter.limit(per_address_limit)
def list_detail(election: str, list_id: int) -> str:
    """Progress per kieskring (valid declarations against the minimum) and the declarations per version."""
    record = _election(election)
    candidate_list = _own_list(record, list_id)
    (progress,), refreshed_at = list_progress(db.session, record, [candidate_list], _max_age())
    outcome = list_outcome(db.session, record, candidate_list)
    return render_template("party/list.html", election=record, candidate_list=candidate_list, progress=progress,
                           refreshed_at=refreshed_at, open=registration_open(record),
                           notice=request.args.get("ingediend"), outcome=outcome,
                           countdown=countdown(outcome.phase.now, outcome.phase.calendar.repair_ends)
                           if outcome.phase.in_repair and outcome.phase.calendar.repair_ends else None)


@party.get("/<election>/lijst/<int:list_id>/verzuim.pdf")
@role_required("party_agent")
@limiter.limit(per_address_limit)
def shortage_notice(election: str, list_id: int) -> Response:
    """The CSB's shortage notice (I 2) for this list: which kieskringen are short, by how many, and the
    repair days."""
    record = _election(election)
    candidate_list = _own_list(record, list_id)
    pdf = shortage_notice_pdf(db.session, record, candidate_list)
    if pdf is None:
        raise PageNotFound(_("Voor deze lijst is geen verzuim gemeld."))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = \
        f'inline; filename="verzuim-{record.identifier}-lijst-{candidate_list.number or candidate_list.id}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@party.get("/<election>/lijst/<int:list_id>/model-h4-kieskring-<int:kieskring>.pdf")
@role_required("party_agent")
@limiter.limit(per_address_limit)
def blank_form(election: str, list_id: int, kieskring: int) -> Response:
    """Model H 4, pre-filled with this list as it now stands in this kieskring, for voters who sign on
    paper at the counter of their municipality."""
    record = _election(election)
    candidate_list = _own_list(record, list_id)
    try:
        pdf = blank_h4_pdf(db.session, candidate_list.id, kieskring)
    except DocumentNotFound:
        raise PageNotFound(_("%(list)s doet niet mee in kieskring %(number)s.",
                             list=page_list_label(candidate_list.label), number=kieskring)) from None
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = \
        f'inline; filename="model-h4-lijst-{candidate_list.id}-kieskring-{kieskring}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@party.route("/<election>/bestand", methods=["GET", "POST"])
@role_required("party_agent")
@limiter.limit(per_address_limit)
def upload(election: str) -> Any:
    """Register lists from the EML 210 file that the party's nomination software produced."""
    record = _election(election)
    identity = _agent()
    form = UploadForm()
    error = None
    if form.validate_on_submit():
        data = form.file.data.read(10 * 1024 * 1024)
        try:
            result = register_file(db.session, identity, record, data, form.file.data.filename or "bestand")
        except RegistrationRefused as exc:
            error = exc.message
        else:
            return _done(record, result)
    status = 422 if request.method == "POST" else 200
    return render_template("party/upload.html", election=record, form=form, error=error,
                           open=registration_open(record)), status


@party.route("/<election>/formulier", methods=["GET", "POST"])
@role_required("party_agent")
@limiter.limit(per_address_limit)
def form(election: str) -> Any:
    """Register a list, or a new version of one of the agent's lists (``?lijst=<id>``), by hand."""
    record = _election(election)
    identity = _agent()
    existing = None
    raw_list = request.args.get("lijst", "")
    if raw_list:
        if not raw_list.isdigit():
            raise PageNotFound(_("Deze lijst bestaat niet."))
        existing = _own_list(record, int(raw_list))
    districts = list(db.session.scalars(select(District).where(District.election_id == record.id)
                                        .order_by(District.number)))
    list_form = ListForm()
    list_form.kieskringen.choices = [(str(d.number), f"{d.number} {d.name}") for d in districts]
    if request.method == "GET":
        _prefill(list_form, existing, districts)
    error, line_errors = None, []
    if list_form.validate_on_submit():
        candidates, problems = parse_candidates(list_form.candidates.data)
        line_errors = [p.message for p in problems]
        if existing is not None:
            candidates = _keep_known_details(existing, candidates)
        if not line_errors:
            chosen = [d for d in districts if str(d.number) in set(list_form.kieskringen.data)]
            designation = existing.designation if existing is not None else list_form.designation.data
            if existing is not None and existing.number is None and not existing.designation:
                error = _("Een blanco lijst zonder lijstnummer kunt u hier niet wijzigen. Dien een nieuwe lijst in, "
                          "of neem contact op met het centraal stembureau.")
            else:
                nominations = nominations_from_form(record, chosen, designation, candidates,
                                                    existing.number if existing is not None else None)
                try:
                    result = register_lists(db.session, identity, record, nominations,
                                            form_fingerprint(nominations),
                                            expected_list_id=existing.id if existing is not None else None)
                except RegistrationRefused as exc:
                    error = exc.message
                else:
                    return _done(record, result)
    status = 422 if request.method == "POST" else 200
    current = None
    if existing is not None:
        (current,), _refreshed = list_progress(db.session, record, [existing], _max_age())
    return render_template("party/form.html", election=record, form=list_form, existing=existing, error=error,
                           line_errors=line_errors, current=current, open=registration_open(record)), status


def _prefill(list_form: ListForm, existing: CandidateList | None, districts: list[District]) -> None:
    if existing is None:
        if len(districts) == 1:
            list_form.kieskringen.data = [str(districts[0].number)]
        return
    list_form.designation.data = existing.designation or ""
    links = db.session.execute(select(ListDistrict, District.number)
                               .join(District, District.id == ListDistrict.district_id)
                               .where(ListDistrict.list_id == existing.id).order_by(District.number)).all()
    list_form.kieskringen.data = [str(number) for _link, number in links]
    if links:
        version = links[0][0].version
        list_form.candidates.data = "\n".join(
            f"{_surname(c.get('prefix'), c.get('last_name'))}, {c.get('initials') or ''}, {c.get('locality') or ''}"
            for c in sorted(version.candidates, key=lambda c: int(c.get("position") or 0)))


def _keep_known_details(existing: CandidateList, candidates: list[Candidate]) -> list[Candidate]:
    """The form has one field for the surname and none for first name and gender. A candidate who
    already stands on the list (same full surname, initials and place) keeps how the list wrote them
    (prefix apart, e.g. "El" in "El Hajoui"; first name; gender), so saving an unchanged list is not a
    new version."""
    known: dict[tuple[Any, ...], dict[str, Any]] = {}
    versions = db.session.scalars(select(ListVersion).join(ListDistrict, ListDistrict.version_id == ListVersion.id)
                                  .where(ListDistrict.list_id == existing.id))
    for version in versions:
        for c in version.candidates:
            known.setdefault((_surname(c.get("prefix"), c.get("last_name")), c.get("initials"), c.get("locality")), c)
    result = []
    for candidate in candidates:
        match = known.get((_surname(candidate.prefix, candidate.last_name), candidate.initials, candidate.locality))
        if match:
            candidate = dataclasses.replace(candidate, prefix=match.get("prefix"), last_name=match.get("last_name"),
                                            first_name=match.get("first_name"), gender=match.get("gender"))
        result.append(candidate)
    return result


def _surname(prefix: str | None, last_name: str | None) -> str:
    return " ".join(part for part in (prefix, last_name) if part)


def _done(election: Election, result: Any) -> Response:
    touched = [list_id for list_id, _created in result.touched]
    notice = "nieuw" if result.lists_created else ("versie" if result.versions_created else "ongewijzigd")
    if len(touched) == 1:
        return redirect(url_for("party.list_detail", election=election.identifier, list_id=touched[0],
                                ingediend=notice), 303)
    return redirect(url_for("party.index"), 303)


@party.app_template_filter("dutch_datetime")
def _dutch_datetime(value: Any) -> str:
    # Follows the page's language (registry.i18n), despite the name.
    return page_datetime(value) if value is not None else _("nog niet")
