"""The voter at home: start page, choose a list, confirm, receipt; and "Mijn verklaring".

Step 1 shows only the lists of the voter's own kieskring (the BRP decides, through check_voter). Step 2
shows the chosen list once more and asks for an explicit yes. The confirmation is idempotent on a
one-time submission id, so a double click, a resubmitted form or a retry after "busy" never records
twice. At most ONLINE_MAX_CONCURRENT confirmations run at once per process; one more, or a database
that does not answer, gets an honest "busy, try again at HH:MM" (503 with Retry-After), never a crash.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import NotFound

from auth.access import Identity, current_identity, role_required
from registry.admission import Busy
from registry.csb.phase import election_phase
from registry.db import db
from registry.declarations.idempotency import Idempotency
from registry.declarations.messages import refusal_message
from registry.declarations.services import (
    DeclarationRefused,
    DeclarationRequest,
    Recorded,
    Refusal,
    Replayed,
    VoterCheck,
    check_voter,
    refusal_from_answer,
)
from registry.declarations.services import record as record_outcome
from registry.documents import receipt_pdf as render_receipt_pdf
from registry.domain import Channel
from registry.domain.phase import Phase
from registry.elections.models import Election
from registry.elections.phase import repair_state
from registry.i18n import page_date, page_datetime, page_list_label, page_time
from registry.limits import limiter, per_address_limit, per_session_limit, session_key
from registry.online.forms import ChooseListForm, ConfirmForm
from registry.online.services import (
    VOTER_INELIGIBLE,
    OwnDeclaration,
    all_own_declarations,
    guard,
    minutes,
    own_declarations,
    retry_after_seconds,
    retry_time,
    window_open,
)
from registry.people import person_registry

log = logging.getLogger("registry.online")

online = Blueprint("online", __name__)


class PageNotFound(NotFound):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@online.errorhandler(PageNotFound)
def _not_found(exc: PageNotFound) -> tuple[str, int]:
    return render_template("online/not_found.html", message=exc.message), 404


@online.errorhandler(Busy)
def _busy_handler(_exc: Busy) -> Any:
    return busy_page()


@online.errorhandler(OperationalError)
def _database_unavailable(_exc: OperationalError) -> Any:
    # The database is unreachable or timed out: say so honestly instead of a 500.
    db.session.rollback()
    log.warning("database unavailable on an online page (%s)", request.endpoint)
    return busy_page()


def busy_page(election: Election | None = None, retry_form: ConfirmForm | None = None) -> Any:
    """503 with Retry-After. With the confirmation form, the page offers to send the very same
    confirmation again (same submission id: it can never be recorded twice)."""
    seconds = retry_after_seconds()
    return render_template("online/busy.html", retry_at=retry_time(seconds), minutes=minutes(seconds),
                           retry_form=retry_form, election=election), 503, {"Retry-After": str(seconds)}


def _election(identifier: str) -> Election:
    election = db.session.scalar(select(Election).where(Election.identifier == identifier))
    if election is None:
        raise PageNotFound(_("Er is geen verkiezing met de naam %(name)s.", name=identifier))
    return election


def _voter() -> Identity:
    identity = current_identity()
    assert identity is not None and identity.kind == "voter" and identity.bsn  # role_required("voter")
    return identity


# --- public ----------------------------------------------------------------------------------------

@online.get("/verklaren/")
@limiter.limit(per_address_limit)
def start() -> str:
    """What a declaration is, in plain Dutch; which elections it can be done for; log in with DigiD."""
    elections = db.session.scalars(select(Election).order_by(Election.election_date, Election.identifier)).all()
    items = [{"election": e, "window_open": window_open(e), "online_open": e.online_open, "phase": phase,
              "closes": page_datetime(phase.deadline or e.window_closes_at),
              "opens": page_datetime(e.window_opens_at)}
             for e in elections for phase in [election_phase(db.session, e)]]
    return render_template("online/start.html", items=items)


# --- the voter ---------------------------------------------------------------------------------------

def _voter_state(election: Election) -> VoterCheck | tuple[str, int] | Any:
    """The voter's lists, or the page that says why there is nothing to choose (already declared,
    not eligible, window or channel closed)."""
    identity = _voter()
    mine = own_declarations(db.session, election, identity.bsn or "")
    if mine:
        return _already(election, mine)
    try:
        check = check_voter(db.session, person_registry(), election, identity.bsn or "", None)
    except DeclarationRefused as refusal:
        return _refused(election, refusal)
    if not window_open(election):
        return _refused(election, DeclarationRefused(Refusal.WINDOW_CLOSED, ""))
    if not election.online_open:
        return render_template("online/channel_closed.html", election=election, municipality=check.municipality,
                               closes=page_datetime(election.window_closes_at))
    if not check.lists and election_phase(db.session, election).in_repair:
        return render_template("online/refused.html", election=election, title=_("Geen lijsten in uw kieskring"),
                               message=_("Na het onderzoek kunt u alleen nog een verklaring afleggen voor een lijst "
                                         "waarvoor het centraal stembureau een tekort in uw kieskring heeft gemeld "
                                         "(Kieswet, artikel I 2). In kieskring %(number)s (%(name)s) is dat voor geen "
                                         "enkele lijst gebeurd. Er is niets vastgelegd.",
                                         number=check.district.number, name=check.district.name))
    if not check.lists:
        return render_template("online/refused.html", election=election, title=_("Geen lijsten in uw kieskring"),
                               message=_("In kieskring %(number)s (%(name)s), waar u woont, staat nog geen lijst "
                                         "die ondersteuningsverklaringen nodig heeft.",
                                         number=check.district.number, name=check.district.name))
    return check


def _already(election: Election, mine: list[OwnDeclaration]) -> str:
    return render_template("online/already.html", election=election, declarations=mine)


def _refused(election: Election, refusal: DeclarationRefused) -> Any:
    """A refusal in words for the voter, with what to do next. Never says for which list an earlier
    declaration was made: the voter sees their own declarations on their own page instead."""
    code = refusal.code
    if code is Refusal.ALREADY_DECLARED:
        return _already(election, own_declarations(db.session, election, _voter().bsn or ""))
    if code is Refusal.LIST_CHANGED:
        # The list changed after this voter saw it: show it as it is now, to confirm again (H 4 lid 1).
        state = _voter_state(election)
        if not isinstance(state, VoterCheck):
            return state
        form = ConfirmForm(formdata=None, list_id=str(refusal.details.get("list", "")),
                           submission=secrets.token_urlsafe(24))
        return _confirm_page(election, state, form, 409, changed=refusal)
    if code is Refusal.REGISTRY_UNAVAILABLE:
        seconds = retry_after_seconds()
        return render_template("online/refused.html", election=election, title=_("Even geduld"),
                               message=_("De Basisregistratie Personen (BRP) is nu niet bereikbaar. Er is niets "
                                         "vastgelegd. Probeer het om %(time)s opnieuw.",
                                         time=retry_time(seconds))), \
            503, {"Retry-After": str(seconds)}
    if code is Refusal.ONLINE_CLOSED:
        try:
            check = check_voter(db.session, person_registry(), election, _voter().bsn or "", None)
        except DeclarationRefused as other:
            return _refused(election, other)
        return render_template("online/channel_closed.html", election=election, municipality=check.municipality,
                               closes=page_datetime(election.window_closes_at))
    phase = election_phase(db.session, election)
    if code is Refusal.WINDOW_CLOSED and phase.phase is Phase.PURGED:
        return render_template(
            "online/refused.html", election=election, title=_("De termijn is voorbij"),
            message=_("U kunt voor %(election)s geen ondersteuningsverklaring meer afleggen. De beslissing over de "
                      "lijsten is genomen en de verklaringen zijn vernietigd (Kieswet, artikel I 19).",
                      election=election.name))
    if code is Refusal.WINDOW_CLOSED and phase.in_repair and phase.next_repair is not None:
        upcoming = phase.next_repair.period
        return render_template(
            "online/refused.html", election=election, title=_("Nu gesloten: de volgende hersteldag komt nog"),
            message=_("Na het onderzoek van het centraal stembureau kunt u alleen in de hersteltermijn een verklaring "
                      "afleggen, op de hersteldagen, en alleen voor een lijst waarvoor een tekort in uw kieskring is "
                      "gemeld (Kieswet, artikel I 2). De volgende hersteldag is %(day)s, van %(opens)s tot %(closes)s. "
                      "Er is niets vastgelegd.", day=page_date(upcoming.starts_at),
                      opens=page_time(upcoming.starts_at), closes=page_time(upcoming.ends_at)))
    if code is Refusal.WINDOW_CLOSED and repair_state(db.session, election).examined:
        return render_template(
            "online/refused.html", election=election, title=_("De termijn is gesloten"),
            message=refusal_message(refusal) or _(
                "De gewone termijn is voorbij. Na het onderzoek van het centraal stembureau kan alleen in de "
                "hersteltermijn nog een verklaring worden afgelegd, en alleen voor een lijst waarvoor een tekort in "
                "uw kieskring is gemeld (Kieswet, artikel I 2). Dat kan nu niet. Er is niets vastgelegd."))
    if code is Refusal.WINDOW_CLOSED:
        return render_template(
            "online/refused.html", election=election, title=_("De termijn is gesloten"),
            message=_("U kunt voor %(election)s geen ondersteuningsverklaring meer afleggen. Dat kon van %(opens)s "
                      "tot %(closes)s (Kieswet, artikel H 4 lid 3). Er is niets vastgelegd.", election=election.name,
                      opens=page_datetime(election.window_opens_at), closes=page_datetime(election.window_closes_at)))
    if code is Refusal.NOT_ELIGIBLE:
        reason = str(refusal.details.get("reason", ""))
        return render_template("online/refused.html", election=election, title=_("U kunt geen verklaring afleggen"),
                               message=VOTER_INELIGIBLE.get(reason, refusal_message(refusal)))
    if code in (Refusal.WRONG_KIESKRING, Refusal.UNKNOWN_LIST):
        return render_template("online/refused.html", election=election, title=_("Deze lijst kunt u niet kiezen"),
                               message=_("Deze lijst doet niet mee in de kieskring waar u woont. Er is niets "
                                         "vastgelegd. Kies een lijst uit uw eigen kieskring."),
                               back=url_for("online.choose", election=election.identifier)), 422
    return render_template("online/refused.html", election=election, title=_("Niet vastgelegd"),
                           message=refusal_message(refusal) or _("Er is niets vastgelegd."))


def _choices(check: VoterCheck) -> list[tuple[str, str]]:
    return [(str(cl.id), page_list_label(cl.label)) for cl, _link in check.lists]


@online.get("/verklaren/<election>/")
@role_required("voter")
@limiter.limit(per_address_limit)
def choose(election: str) -> Any:
    """Step 1 of 3: the lists of the voter's own kieskring, each with its candidates in order."""
    record = _election(election)
    state = _voter_state(record)
    if not isinstance(state, VoterCheck):
        return state
    form = ChooseListForm()
    form.list_id.choices = _choices(state)
    return _choose_page(record, state, form)


def _choose_page(record: Election, state: VoterCheck, form: ChooseListForm) -> str:
    # The deadline is the window's, or in the repair period the last repair day's (I 2).
    phase = election_phase(db.session, record)
    return render_template("online/choose.html", election=record, voter=state, form=form, phase=phase,
                           closes=page_datetime(phase.deadline or record.window_closes_at))


@online.post("/verklaren/<election>/bevestigen")
@role_required("voter")
@limiter.limit(per_session_limit, key_func=session_key)
@limiter.limit(per_address_limit)
def confirm(election: str) -> Any:
    """Step 2 of 3: the chosen list once more, what it means, and an explicit yes."""
    record = _election(election)
    state = _voter_state(record)
    if not isinstance(state, VoterCheck):
        return state
    form = ChooseListForm()
    form.list_id.choices = _choices(state)
    if not form.validate_on_submit():
        return _choose_page(record, state, form), 422
    confirm_form = ConfirmForm(formdata=None, list_id=form.list_id.data, submission=secrets.token_urlsafe(24))
    return _confirm_page(record, state, confirm_form)


def _confirm_page(election: Election, voter: VoterCheck, form: ConfirmForm, status: int = 200,
                  changed: DeclarationRefused | None = None) -> Any:
    chosen = next(((cl, link) for cl, link in voter.lists if str(cl.id) == form.list_id.data), None)
    if chosen is None:
        return _refused(election, DeclarationRefused(Refusal.WRONG_KIESKRING, ""))
    form.list_version.data = chosen[1].version.content_hash  # the version this page shows
    return render_template("online/confirm.html", election=election, voter=voter, candidate_list=chosen[0],
                           version=chosen[1].version, form=form, changed=changed), status


@online.post("/verklaren/<election>/vastleggen")
@role_required("voter")
@limiter.limit(per_session_limit, key_func=session_key)
@limiter.limit(per_address_limit)
def declare(election: str) -> Any:
    """Step 3 of 3: record the declaration (once), then show the receipt."""
    record = _election(election)
    form = ConfirmForm()
    if not form.validate_on_submit():
        state = _voter_state(record)
        if not isinstance(state, VoterCheck):
            return state
        if (not (form.list_id.data or "").isdigit() or form.list_id.errors or form.submission.errors
                or form.list_version.errors):
            # Tampered or incomplete hidden fields: start again at step 1; nothing was recorded.
            return redirect(url_for("online.choose", election=record.identifier), 303)
        return _confirm_page(record, state, form, 422)
    slots = guard()
    if not slots.try_acquire():
        log.warning("online confirmations: all %s slots taken, answered busy", slots.size)
        return busy_page(record, form)
    try:
        return _record(record, form)
    except OperationalError:
        db.session.rollback()
        log.warning("database unavailable while recording an online declaration")
        return busy_page(record, form)
    finally:
        slots.release()


def _record(election: Election, form: ConfirmForm) -> Any:
    identity = _voter()
    list_id = int(form.list_id.data)
    key = Idempotency.for_request(election.identifier, identity.actor, f"online-form:{form.submission.data}", "POST",
                                  request.path, {"list": list_id})
    outcome = record_outcome(db.session, person_registry(), DeclarationRequest(
        election=election.identifier, list_id=list_id, channel=Channel.ONLINE, bsn=identity.bsn or "",
        actor=identity.actor, attestation_extra={"acr": identity.acr}, list_version=form.list_version.data,
    ), key)
    if isinstance(outcome, Recorded):
        log.info("online declaration recorded (%s, %s)", election.identifier, outcome.declaration.receipt_code)
        return redirect(url_for("online.receipt", election=election.identifier,
                                code=outcome.declaration.receipt_code), 303)
    if isinstance(outcome, Replayed):  # the same submission again (a double click, a reload): the first outcome
        answer = outcome.answer()
        if outcome.status in (200, 201):
            return redirect(url_for("online.receipt", election=election.identifier, code=answer["receipt_code"]),
                            303)
        return _refused(election, refusal_from_answer(answer))
    return _refused(election, outcome.error)


def _own(election: Election, code: str) -> OwnDeclaration:
    """One of the voter's own declarations in this election; any other receipt code is "not found"."""
    mine = own_declarations(db.session, election, _voter().bsn or "")
    found = next((d for d in mine if d.receipt_code == code), None)
    if found is None:
        raise PageNotFound(_("Wij vinden bij uw gegevens geen verklaring met dit nummer."))
    return found


@online.get("/verklaren/<election>/ontvangstbewijs/<code>")
@role_required("voter")
@limiter.limit(per_address_limit)
def receipt(election: str, code: str) -> str:
    record = _election(election)
    declaration = _own(record, code)
    count = len(own_declarations(db.session, record, _voter().bsn or ""))
    return render_template("online/receipt.html", election=record, declaration=declaration, count=count)


@online.get("/verklaren/<election>/ontvangstbewijs/<code>.pdf")
@role_required("voter")
@limiter.limit(per_address_limit)
def receipt_pdf(election: str, code: str) -> Response:

    record = _election(election)
    declaration = _own(record, code)
    response = Response(render_receipt_pdf(db.session, declaration.id), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="ondersteuningsverklaring-{code}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@online.get("/mijn-verklaring")
@role_required("voter")
@limiter.limit(per_address_limit)
def my_declaration() -> str:
    """The voter's own declarations in every election, with their status; and where they can still
    declare online."""
    identity = _voter()
    mine = all_own_declarations(db.session, identity.bsn or "")
    declared = {d.election for d in mine}
    elections = list(db.session.scalars(select(Election).order_by(Election.election_date)))
    open_now = [e for e in elections if e.identifier not in declared and window_open(e)]
    # After I 19 nobody can tell whether this voter declared: the pseudonyms are gone. Say so, rather
    # than "you never declared".
    purged = [(e, phase.held["purge"].held_at) for e in elections
              for phase in [election_phase(db.session, e)] if phase.phase is Phase.PURGED]
    return render_template("online/mine.html", declarations=mine, open_now=open_now, purged=purged)
