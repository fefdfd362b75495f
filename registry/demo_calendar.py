"""The demo calendar: in development (and tests) the demo election walks through its legal calendar.

The demo is loaded with its dates around today, so only its open window can be tried. Moving it on
does not rewrite any date: the CSB's sessions are facts that cannot be changed (append-only tables),
and the repair days follow from the moment the examination was actually held. Instead the registry's
clock (``registry.db.utcnow``) is moved forward to a moment inside the requested phase, and every
session on the way (I 1 examination, I 4 decision, final, I 19 purge) is held through the CSB's own
services at its legal moment. Each move is an audit event ``demo.clock_advanced`` whose payload holds
the offset: it is the one record of the demo clock, read back by every request in development, so a
server started later, or in another process, runs on the same clock. Production refuses all of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, current_app, redirect, request, session, url_for
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from registry import config as config_module
from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.csb import services as csb
from registry.db import begin_write, db, set_clock_offset, utcnow
from registry.elections.models import Election
from registry.elections.reference import CACHE as REFERENCE_CACHE
from registry.elections.reference import ReferenceCache, bump_version

ACTION = "demo.clock_advanced"
DEMO_SUFFIX = "_DEMO"
DEMO_CSB_ACTOR = "demo (centraal stembureau)"
FINAL_GROUND = "Demo: geen beroep ingesteld binnen de beroepstermijn (art. I 7)."

# The phases in calendar order, each with how a person reads it.
STEPS: dict[str, Any] = {
    "open": lazy_gettext("termijn open: verklaringen afleggen (art. H 4 lid 3)"),
    "closed": lazy_gettext("dag van kandidaatstelling voorbij: de termijn is gesloten"),
    "examined": lazy_gettext("onderzocht (art. I 1): tekorten gemeld, herstel begint de volgende dag"),
    "repair-1": lazy_gettext("herstel van verzuim, dag 1 (art. I 2)"),
    "repair-2": lazy_gettext("herstel van verzuim, dag 2 (art. I 2)"),
    "repair-3": lazy_gettext("herstel van verzuim, dag 3 (art. I 2)"),
    "decided": lazy_gettext("beslist (art. I 4): geldig of ongeldig per kieskring"),
    "final": lazy_gettext("de beslissing is onherroepelijk (art. I 7)"),
    "purged": lazy_gettext("de verklaringen zijn vernietigd (art. I 19)"),
}
ORDER = list(STEPS)
BEFORE = "before"  # the window has not opened yet (never the case right after loading)


class DemoRefused(Exception):
    """A move the demo calendar does not make; the message is for the page or the command line."""


def refuse_in_production(app: Flask) -> None:
    if config_module.is_production(app.config["STEUNREGISTER"]):
        raise DemoRefused("De demokalender bestaat alleen in ontwikkeling en tests, niet in productie.")


# --- the clock --------------------------------------------------------------------------------------

def recorded_offset(db_session: Session) -> timedelta | None:
    """The offset the last ``demo.clock_advanced`` event recorded, or None when the demo clock never moved."""
    payload = db_session.scalar(select(AuditEvent.payload).where(AuditEvent.action == ACTION)
                                .order_by(AuditEvent.seq.desc()).limit(1))
    if payload is None:
        return None
    return timedelta(seconds=float(json.loads(payload)["offset_seconds"]))


_applied: timedelta | None = None  # the recorded offset this process last took over


def apply_recorded_offset(db_session: Session) -> None:
    """Take over a newly recorded demo clock. Only a new record moves the clock: when none was ever
    recorded, or this one was taken over already, the clock stays as it is (the tests' own clock).
    Called once per reference version (moving the clock raises it), in the caller's transaction."""
    global _applied
    offset = recorded_offset(db_session)
    if offset is not None and offset != _applied:
        set_clock_offset(offset)
        _applied = offset


def _move_clock(db_session: Session, election: Election, moment: datetime, step: str) -> None:
    offset = moment - datetime.now(UTC)
    begin_write(db_session)
    try:
        audit.append(db_session, actor="demo", action=ACTION, election=election.identifier, subject=f"demo:{step}",
                     payload={"to": moment.astimezone(UTC).isoformat(), "step": step,
                              "offset_seconds": round(offset.total_seconds(), 3)},
                     occurred_at=moment)
        bump_version(db_session)  # every process takes the new clock over with its next reference read
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise
    global _applied
    set_clock_offset(offset)
    _applied = timedelta(seconds=round(offset.total_seconds(), 3))


# --- where the demo stands --------------------------------------------------------------------------

def demo_election(db_session: Session) -> Election | None:
    return db_session.scalar(select(Election).where(Election.identifier.endswith(DEMO_SUFFIX))
                             .order_by(Election.election_date.desc()).limit(1))


def current_step(db_session: Session, election: Election, now: datetime | None = None) -> str:
    now = now or utcnow()
    held = csb.sessions(db_session, election)
    for kind, step in (("purge", "purged"), ("final", "final"), ("decision", "decided")):
        if kind in held:
            return step
    if "examination" in held:
        repairs = csb.calendar(election, held).repairs
        started = [n for n, period in enumerate(repairs, start=1) if now >= period.starts_at]
        return f"repair-{started[-1]}" if started else "examined"
    if now >= election.window_closes_at:
        return "closed"
    return "open" if now >= election.window_opens_at else BEFORE


def _moment(db_session: Session, election: Election, step: str) -> datetime:
    """A moment inside ``step``, from the law's calendar and the sessions held so far."""
    held = csb.sessions(db_session, election)
    dates = csb.calendar(election, held)
    if step == "open":
        return max(utcnow(), election.window_opens_at + timedelta(hours=9))
    if step == "closed":
        return election.window_closes_at + timedelta(minutes=30)
    if step == "examined":
        return dates.examination_from + timedelta(minutes=5)
    if step.startswith("repair-"):
        return dates.repairs[int(step[-1]) - 1].starts_at + timedelta(hours=1)
    if step == "decided":
        assert dates.decision_from is not None
        return dates.decision_from + timedelta(minutes=5)
    assert dates.final_from is not None
    return dates.final_from + timedelta(hours=9, minutes=5 if step == "purged" else 0)


# The CSB session each step holds when the demo passes it, through the CSB's own services.
def _hold_examination(s: Session, e: Election) -> None:
    csb.hold_examination(s, e, DEMO_CSB_ACTOR)


def _hold_decision(s: Session, e: Election) -> None:
    csb.hold_decision(s, e, DEMO_CSB_ACTOR)


def _record_final(s: Session, e: Election) -> None:
    csb.record_final(s, e, DEMO_CSB_ACTOR, FINAL_GROUND)


def _purge(s: Session, e: Election) -> None:
    csb.purge(s, e, DEMO_CSB_ACTOR, execute=True)


SESSIONS: dict[str, tuple[str, Callable[[Session, Election], None], str]] = {
    "examined": ("examination", _hold_examination, "onderzoek (art. I 1) gehouden"),
    "decided": ("decision", _hold_decision, "beslissing (art. I 4) genomen"),
    "final": ("final", _record_final, "vastgelegd dat de beslissing onherroepelijk is"),
    "purged": ("purge", _purge, "verklaringen vernietigd (art. I 19)"),
}


@dataclass(frozen=True)
class Advanced:
    election: str
    step: str
    now: datetime
    done: list[str]


def advance(db_session: Session, to: str | None = None) -> Advanced:
    """Move the demo election to phase ``to`` (default: the next one), holding every CSB session on
    the way at its legal moment. Only forward: what the CSB did cannot be undone."""
    apply_recorded_offset(db_session)  # the command line starts on real time; the demo may be further
    election = demo_election(db_session)
    if election is None:
        raise DemoRefused("Er is geen demo-verkiezing. Laad die eerst: flask --app app demo load")
    identifier = election.identifier
    here = current_step(db_session, election)
    position = ORDER.index(here) if here in STEPS else -1
    if to is None:
        if position + 1 >= len(ORDER):
            raise DemoRefused("De demo is aan het einde van haar kalender: de verklaringen zijn vernietigd.")
        to = ORDER[position + 1]
    if to not in STEPS:
        raise DemoRefused(f"Onbekende fase {to!r}; kies uit: {', '.join(ORDER)}.")
    target = ORDER.index(to)
    if target < position:
        raise DemoRefused(f"De demo staat al verder ({here}: {STEPS[here]}). De kalender gaat alleen vooruit: "
                          "wat het centraal stembureau heeft gedaan, blijft gedaan. Begin opnieuw met een lege "
                          "database en flask --app app demo load.")
    done: list[str] = []
    if target == position:
        db_session.rollback()
        return Advanced(identifier, to, utcnow(), done)
    try:
        for step in ORDER[position + 1: target + 1]:
            if step in SESSIONS:
                kind, hold, what = SESSIONS[step]
                if kind not in csb.sessions(db_session, election):
                    _move_clock(db_session, election, _moment(db_session, election, step), step)
                    hold(db_session, election)
                    db_session.expire_all()
                    done.append(what)
        moment = _moment(db_session, election, to)
        if moment > utcnow():
            _move_clock(db_session, election, moment, to)
    except csb.CsbRefused as exc:
        raise DemoRefused(exc.message) from exc
    db_session.rollback()
    return Advanced(identifier, to, utcnow(), done)


# --- the panel on the development start page ----------------------------------------------------------

demo = Blueprint("demo", __name__)


@demo.post("/demo/kalender")
def advance_page() -> Response:
    """The start page's panel: move the demo on, then back to the start page (post/redirect/get)."""
    refuse_in_production(current_app)
    try:
        result = advance(db.session, request.form.get("to") or None)
        session["demo_message"] = gettext("De demo staat nu in de fase: %(step)s.", step=STEPS[result.step])
    except DemoRefused as exc:
        session["demo_message"] = str(exc)
    return redirect(url_for("public.home") + "#demokalender")


def panel(db_session: Session) -> dict[str, Any] | None:
    """What the start page's panel shows, or None (production, or no demo election)."""
    if config_module.is_production(current_app.config["STEUNREGISTER"]):
        return None
    election = demo_election(db_session)
    if election is None:
        return None
    here = current_step(db_session, election)
    position = ORDER.index(here) if here in STEPS else -1
    return {"election": election, "step": here, "label": STEPS.get(here, gettext("de termijn is nog niet open")),
            "now": utcnow(), "next": [(step, STEPS[step]) for step in ORDER[position + 1:]],
            "message": session.pop("demo_message", None)}


def install_clock(app: Flask) -> None:
    """Development and test only: the recorded demo clock on every request (registry.routes mounts the
    panel's blueprint and calls this, both only outside production)."""
    if config_module.is_production(app.config["STEUNREGISTER"]):
        return
    cache = app.extensions.setdefault(REFERENCE_CACHE, ReferenceCache())
    cache.on_new_version.append(apply_recorded_offset)

    @app.before_request
    def _demo_clock() -> None:
        if request.blueprint == "api":
            return  # the recording core reads the reference version itself, and with it the clock
        try:
            cache.check(db.session)
            db.session.rollback()
        except SQLAlchemyError:
            # No database, no demo clock: the page itself says what is wrong (its own error handling).
            db.session.rollback()
