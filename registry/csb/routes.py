"""/csb/<election>/…: the centraal stembureau's pages, and the examination on the API.

Every view is for role csb and, through ``election_scoped``, only for a member of this election's CSB
(checked before the election is even looked up). Names of declarants are shown here only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from auth.access import api_role_required, current_identity, require_election, role_required
from registry.csb import documents
from registry.csb.forms import ExemptionForm, FinalForm, PurgeForm, RulingForm, SessionForm
from registry.csb.models import Shortage
from registry.csb.phase import shortage_notice_pdf
from registry.csb.services import (
    PHASE_LABELS,
    CsbRefused,
    calendar,
    check_final,
    declaration_detail,
    declaration_lines,
    declarations_per_day,
    examine,
    final_ground,
    hold_decision,
    hold_examination,
    inspection_lines,
    multiple_signers,
    phase_of,
    purge,
    record_final,
    rule_invalid,
    sessions,
)
from registry.db import db, utcnow
from registry.declarations.lookups import lookups_per_desk
from registry.declarations.models import Declaration
from registry.elections import services as elections
from registry.elections.models import CandidateList, Election, Municipality
from registry.i18n import page_date, page_datetime, page_list_label, page_time
from registry.problems import problem

csb = Blueprint("csb", __name__, url_prefix="/csb")
csb_api = Blueprint("csb_api", __name__, url_prefix="/api/v1")

F = TypeVar("F", bound=Callable[..., Any])

STATUS_LABELS = {"meets": "voldoende", "short": "tekort", "exempt": "vrijgesteld",
                 "not_submitted": "niet ingeleverd", "unknown": "vereist aantal onbekend"}
LINE_STATUS_LABELS = {"valid": "geldig", "void_multiple": "ongeldig: meer dan één verklaring",
                      "void_other": "ongeldig: andere reden"}
# What an audit event says, in words, where a person reads the chain (the code stays in the chain).
AUDIT_EVENT_LABELS = {
    "declaration.recorded": _l("verklaring vastgelegd"),
    "declaration.ruled_invalid": _l("ongeldig verklaard door het centraal stembureau"),
    "dossier.issued": _l("dossier uitgegeven"),
    "csb.examination_held": _l("onderzoek gehouden (art. I 1)"),
    "csb.decision_taken": _l("beslissing genomen (art. I 4)"),
    "csb.decision_final": _l("beslissing onherroepelijk vastgelegd"),
    "csb.purged": _l("verklaringen vernietigd (art. I 19)"),
    "demo.clock_advanced": _l("demokalender verder gezet"),
}
CHANNEL_LABELS = {"counter": "balie", "online": "online", "batch": "bestand van de gemeente"}
DOCUMENTS = {"onderzoek": ("examination", "proces-verbaal-onderzoek"),
             "beslissing": ("decision", "proces-verbaal-beslissing"),
             "vernietiging": ("purge", "proces-verbaal-vernietiging")}


class PageNotFound(NotFound):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@csb.errorhandler(PageNotFound)
def _not_found(exc: PageNotFound) -> tuple[str, int]:
    return render_template("csb/not_found.html", message=exc.message), 404


# Named dutch_* from before pages had English: they follow the page's language (registry.i18n).
@csb.app_template_filter("dutch_date")
def _dutch_date(value: Any) -> str:
    return page_date(value) if value else ""


@csb.app_template_filter("dutch_time")
def _dutch_time(value: Any) -> str:
    return page_time(value) if value else ""


@csb.app_context_processor
def _labels() -> dict[str, Any]:
    return {"csb_status_labels": STATUS_LABELS, "csb_line_labels": LINE_STATUS_LABELS,
            "csb_channel_labels": CHANNEL_LABELS, "audit_event_labels": AUDIT_EVENT_LABELS}


def election_scoped(view: F) -> F:
    """After role_required("csb"): the member's own election only; then the election itself."""
    @functools.wraps(view)
    def wrapper(election: str, **kwargs: Any) -> Any:
        require_election(election)  # before the lookup: another election's existence is not disclosed
        found = db.session.scalar(select(Election).where(Election.identifier == election))
        if found is None:
            raise PageNotFound(_("Er is geen verkiezing met de naam %(name)s.", name=election))
        return view(found, **kwargs)
    return wrapper  # type: ignore[return-value]


def _list(election: Election, list_id: int) -> CandidateList:
    candidate_list = db.session.get(CandidateList, list_id)
    if candidate_list is None or candidate_list.election_id != election.id:
        raise PageNotFound(_("Deze lijst hoort niet bij deze verkiezing."))
    return candidate_list


def _actor() -> str:
    identity = current_identity()
    assert identity is not None  # role_required("csb")
    return identity.actor


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


# --- overview and sessions ----------------------------------------------------------------------------

def _overview(election: Election, form: SessionForm | None = None, final_form: FinalForm | None = None,
              refused: str | None = None, status: int = 200) -> tuple[str, int]:
    held = sessions(db.session, election)
    phase = phase_of(held)
    examination = examine(db.session, election)
    multiple = sum(1 for _ in multiple_signers(db.session, election))
    return render_template(
        "csb/overview.html", election=election, held=held, phase=phase, phase_label=PHASE_LABELS[phase],
        matrix=_matrix(election, examination, request.args.get("toon")),
        calendar=calendar(election, held), examination=examination, multiple=multiple, now=utcnow(),
        form=form or SessionForm(), final_form=final_form or FinalForm(), refused=refused,
        days=declarations_per_day(db.session, election), dutch_datetime=page_datetime,
        final_ground=final_ground(db.session, election, held.get("final"))), status


def _matrix(election: Election, examination: Any, shown: str | None) -> dict[str, Any]:
    """Lists × kieskringen for the overview; ``toon=tekort`` keeps only the lists with a shortage
    (what used to be the list of notified shortages)."""
    cells: dict[int, list[Any]] = {}
    for row in examination.rows:
        cells.setdefault(row.list_id, []).append(row)
    only_short = shown == "tekort"
    lists = [{"summary": summary, "cells": cells.get(summary.list_id, [])} for summary in examination.lists
             if not only_short or any(r.status == "short" for r in cells.get(summary.list_id, []))]
    return {"districts": [(d.number, d.name) for d in election.districts], "lists": lists,
            "filter": "tekort" if only_short else "alle", "decided": examination.frozen,
            "short_pairs": sum(1 for r in examination.rows if r.status == "short")}


@csb.get("/<election>")
@role_required("csb")
@election_scoped
def overview(election: Election) -> Any:
    return _overview(election)


def _session_step(election: Election, step: Callable[..., Any], done: str) -> Any:
    form = SessionForm()
    if not form.validate_on_submit():
        return _overview(election, form=form, status=422)
    try:
        step(db.session, election, _actor())
    except CsbRefused as refused:
        return _overview(election, refused=refused.message, status=refused.status)
    return redirect(url_for("csb.overview", election=election.identifier, gedaan=done), code=303)


@csb.post("/<election>/onderzoek")
@role_required("csb")
@election_scoped
def examination(election: Election) -> Any:
    return _session_step(election, hold_examination, "onderzoek")


@csb.post("/<election>/beslissing")
@role_required("csb")
@election_scoped
def decision(election: Election) -> Any:
    return _session_step(election, hold_decision, "beslissing")


@csb.post("/<election>/onherroepelijk")
@role_required("csb")
@election_scoped
def final(election: Election) -> Any:
    form = FinalForm()
    if not form.validate_on_submit():
        return _overview(election, final_form=form, status=422)
    if form.confirmed.data != "1":
        try:
            check_final(db.session, election, form.ground.data)
        except CsbRefused as refused:
            return _overview(election, final_form=form, refused=refused.message, status=refused.status)
        return _confirm_page(
            _("Bevestig: de beslissing is onherroepelijk"), url_for("csb.final", election=election.identifier),
            {"ground": form.ground.data},
            [_("Het centraal stembureau legt vast dat zijn beslissing (art. I 4) onherroepelijk is, met als "
               "grond: “%(ground)s”.", ground=" ".join((form.ground.data or "").split())),
             _("Daarna kan de beslissing niet meer veranderen, en moeten de verklaringen worden vernietigd "
               "(art. I 19).")],
            _("Ja, vastleggen dat de beslissing onherroepelijk is"), election)
    try:
        record_final(db.session, election, _actor(), form.ground.data)
    except CsbRefused as refused:
        return _overview(election, final_form=form, refused=refused.message, status=refused.status)
    return redirect(url_for("csb.overview", election=election.identifier, gedaan="onherroepelijk"), code=303)


# --- drilling down ------------------------------------------------------------------------------------

@csb.get("/<election>/lijsten/<int:list_id>")
@role_required("csb")
@election_scoped
def list_view(election: Election, list_id: int) -> Any:
    candidate_list = _list(election, list_id)
    examination = examine(db.session, election)
    held = sessions(db.session, election)
    return render_template("csb/list.html", election=election, candidate_list=candidate_list,
                           rows=examination.rows_for(list_id), frozen=examination.frozen, held=held,
                           shortages=[s for s in db.session.scalars(select(Shortage).where(
                               Shortage.list_id == list_id))])


@csb.get("/<election>/lijsten/<int:list_id>/kieskring/<int:kieskring>")
@role_required("csb")
@election_scoped
def district_view(election: Election, list_id: int, kieskring: int) -> Any:
    candidate_list = _list(election, list_id)
    wanted = request.args.get("status")
    lines = [line for line in declaration_lines(db.session, election, list_id, kieskring=kieskring)
             if wanted in (None, "", line.status)]
    names = dict(db.session.execute(select(Municipality.code, Municipality.name)
                                    .where(Municipality.election_id == election.id)).all())
    return render_template("csb/district.html", election=election, candidate_list=candidate_list,
                           kieskring=kieskring, lines=lines, wanted=wanted or "", municipality_names=names)


@csb.route("/<election>/verklaringen/<int:declaration_id>", methods=["GET", "POST"])
@role_required("csb")
@election_scoped
def declaration(election: Election, declaration_id: int) -> Any:
    form = RulingForm()
    refused, status = None, 200
    if request.method == "POST":
        if form.validate_on_submit() and form.confirmed.data != "1":
            return _confirm_ruling(election, declaration_id, form.reason.data)
        if form.validate_on_submit():
            try:
                rule_invalid(db.session, election, declaration_id, form.reason.data, _actor())
            except CsbRefused as exc:
                if exc.status == 404:
                    raise PageNotFound(exc.message) from None
                refused, status = exc.message, exc.status
            else:
                return redirect(url_for("csb.declaration", election=election.identifier,
                                        declaration_id=declaration_id, gedaan="1"), code=303)
        else:
            status = 422
    try:
        detail = declaration_detail(db.session, election, declaration_id)
    except CsbRefused as exc:
        raise PageNotFound(exc.message) from None
    decided = "decision" in sessions(db.session, election)
    return render_template("csb/declaration.html", election=election, detail=detail, form=form, refused=refused,
                           decided=decided, done=request.args.get("gedaan") == "1"), status


def _confirm_page(title: str, action: str, fields: dict[str, Any], consequences: list[str], confirm_label: str,
                  election: Election, keeps: list[str] | None = None, back: str | None = None) -> str:
    return render_template("csb/confirm.html", title=title, action=action, fields=fields,
                           consequences=consequences, keeps=keeps or [], confirm_label=confirm_label,
                           back=back or url_for("csb.overview", election=election.identifier))


def _confirm_ruling(election: Election, declaration_id: int, reason: str) -> Any:
    try:
        detail = declaration_detail(db.session, election, declaration_id)
    except CsbRefused as exc:
        raise PageNotFound(exc.message) from None
    line = detail.line
    row = next((r for r in examine(db.session, election).rows_for(_list_id_of(declaration_id))
                if r.kieskring == line.kieskring), None)
    list_label = page_list_label(detail.list_label)
    consequences = [
        _("Verklaring %(n)s voor %(list)s in kieskring %(number)s wordt ongeldig verklaard, met als reden: "
          "“%(reason)s”.", n=declaration_id, list=list_label, number=line.kieskring,
          reason=" ".join(reason.split())),
        _("De uitspraak wordt een vastgelegd feit, met uw naam en de tijd. Zij kan niet worden ingetrokken; "
          "de verklaring zelf blijft zoals zij is."),
    ]
    if row is not None and row.required is not None and line.status == "valid":
        consequences.append(ngettext("%(list)s heeft in kieskring %(number)s daarna %(num)s geldige verklaring; "
                                     "vereist zijn er %(required)s.",
                                     "%(list)s heeft in kieskring %(number)s daarna %(num)s geldige verklaringen; "
                                     "vereist zijn er %(required)s.", row.valid - 1, list=list_label,
                                     number=line.kieskring, required=row.required))
    back = url_for("csb.declaration", election=election.identifier, declaration_id=declaration_id)
    return _confirm_page(_("Bevestig: verklaring %(n)s ongeldig verklaren", n=declaration_id), back,
                         {"reason": reason}, consequences, _("Ja, ongeldig verklaren"), election, back=back)


def _list_id_of(declaration_id: int) -> int:
    return db.session.scalar(select(Declaration.list_id).where(Declaration.id == declaration_id)) or 0


@csb.post("/<election>/vernietiging")
@role_required("csb")
@election_scoped
def purge_page(election: Election) -> Any:
    """I 19 from the CSB's own pages: the first post is the dry run, shown as the confirmation step with
    what would be destroyed; the second destroys (the same service as ``flask csb purge --execute``)."""
    form = PurgeForm()
    if not form.validate_on_submit():
        return _overview(election, status=422)
    execute = form.confirmed.data == "1"
    try:
        report = purge(db.session, election, _actor(), execute=execute)
    except CsbRefused as refused:
        return _overview(election, refused=refused.message, status=refused.status)
    if execute:
        return redirect(url_for("csb.overview", election=election.identifier, gedaan="vernietigd"), code=303)
    consequences = [
        ngettext("%(num)s verklaring: de naam (%(names)s nog bewaard) wordt gewist.",
                 "%(num)s verklaringen: de namen (%(names)s nog bewaard) worden gewist.",
                 report.declarations, names=report.names),
        ngettext("%(num)s pseudoniem van een BSN wordt vervangen door een neutrale waarde.",
                 "%(num)s pseudoniemen van BSN's worden vervangen door neutrale waarden.", report.pseudonyms),
        _("De sleutel en het geheim van deze verkiezing worden verwijderd: wat versleuteld is, kan niemand meer "
          "lezen.") if report.keys_present else _("De sleutels van deze verkiezing zijn al verwijderd."),
        ngettext("%(num)s opgeslagen antwoord van de API over deze verkiezing wordt verwijderd.",
                 "%(num)s opgeslagen antwoorden van de API over deze verkiezing worden verwijderd.",
                 report.idempotency_rows),
        _("Het proces-verbaal van de vernietiging wordt gemaakt."),
    ]
    keeps = [_("de aantallen per lijst en per kieskring, de uitspraken en de beslissing"),
             _("de processen-verbaal en de auditketen")]
    return _confirm_page(_("Bevestig: de verklaringen vernietigen (art. I 19)"),
                         url_for("csb.purge_page", election=election.identifier), {}, consequences,
                         _("Ja, nu vernietigen"), election, keeps=keeps)


@csb.get("/<election>/meervoudig")
@role_required("csb")
@election_scoped
def multiple(election: Election) -> Any:
    return render_template("csb/multiple.html", election=election, groups=multiple_signers(db.session, election))


@csb.route("/<election>/vrijstellingen", methods=["GET", "POST"])
@role_required("csb")
@election_scoped
def exemptions(election: Election) -> Any:
    """H 4 lid 8 by aanduiding: which lists need no declarations, recorded with their basis."""
    form = ExemptionForm()
    refused, status = None, 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                elections.set_exemption(db.session, election.identifier, form.designation.data, True,
                                        form.basis.data, _actor())
            except elections.SettingsRefused as exc:
                refused, status = str(exc), 422
            else:
                return redirect(url_for("csb.exemptions", election=election.identifier, gedaan="1"), code=303)
        else:
            status = 422
    return render_template("csb/exemptions.html", election=election, form=form, refused=refused,
                           exempt=elections.exemptions(db.session, election),
                           done=request.args.get("gedaan") == "1"), status


@csb.get("/<election>/opvragingen")
@role_required("csb")
@election_scoped
def lookups(election: Election) -> Any:
    """Per desk: how often it asked about a person, and how often that did not lead to a declaration."""
    return render_template("csb/lookups.html", election=election,
                           desks=lookups_per_desk(db.session, election.identifier))


# --- documents ----------------------------------------------------------------------------------------

@csb.get("/<election>/documenten/<name>.pdf")
@role_required("csb")
@election_scoped
def report(election: Election, name: str) -> Any:
    kind, filename = DOCUMENTS.get(name, (None, None))
    row = sessions(db.session, election).get(kind or "")
    if row is None or row.report_pdf is None:
        raise PageNotFound(_("Dit proces-verbaal is er (nog) niet."))
    return _pdf(row.report_pdf, f"{filename}-{election.identifier}.pdf")


@csb.get("/<election>/beslissing.json")
@role_required("csb")
@election_scoped
def decision_json(election: Election) -> Any:
    if "decision" not in sessions(db.session, election):
        raise PageNotFound(_("Het centraal stembureau heeft nog niet beslist (art. I 4)."))
    response = jsonify(examine(db.session, election).as_api())
    response.headers["Content-Disposition"] = f'attachment; filename="beslissing-{election.identifier}.json"'
    return response


@csb.get("/<election>/lijsten/<int:list_id>/verzuim.pdf")
@role_required("csb")
@election_scoped
def shortage_notice(election: Election, list_id: int) -> Any:
    candidate_list = _list(election, list_id)
    data = shortage_notice_pdf(db.session, election, candidate_list)
    if data is None:
        raise PageNotFound(_("Voor deze lijst is geen verzuim gemeld."))
    return _pdf(data, f"verzuim-{election.identifier}-lijst-{candidate_list.number or candidate_list.id}.pdf")


@csb.get("/<election>/lijsten/<int:list_id>/inzage.pdf")
@role_required("csb")
@election_scoped
def inspection(election: Election, list_id: int) -> Any:
    candidate_list = _list(election, list_id)
    try:
        lines = list(inspection_lines(db.session, election, list_id))
    except CsbRefused as exc:
        raise PageNotFound(exc.message) from None
    data = documents.inspection_copy(election, candidate_list, lines, utcnow())
    return _pdf(data, f"ter-inzage-{election.identifier}-lijst-{candidate_list.number or candidate_list.id}.pdf")


# --- API ----------------------------------------------------------------------------------------------

@csb_api.get("/elections/<election>/examination")
@api_role_required("csb")
def examination_api(election: str) -> Any:
    require_election(election)  # 403 problem before anything about the election is disclosed
    found = db.session.scalar(select(Election).where(Election.identifier == election))
    if found is None:
        return problem(404, "unknown-election", "Onbekende verkiezing", f"Verkiezing {election} bestaat niet.")
    held = sessions(db.session, found)
    body = examine(db.session, found).as_api()
    body["phase"] = phase_of(held).value
    body["sessions"] = {kind: {"held_at": row.held_at.isoformat(), "report_sha256": row.report_sha256}
                        for kind, row in held.items()}
    return jsonify(body)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
