"""Every blueprint is registered here, one line each next to its access rule (BLUEPRINTS).

A route is either on the explicit public list (PUBLIC_ENDPOINTS) or guarded by a role; a test walks
the URL map and fails on any route that is neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, redirect, render_template, render_template_string, request
from flask_babel import gettext
from sqlalchemy import select, text
from werkzeug.routing import IntegerConverter, Map

import auth
from auth import api as auth_api
from auth import pages as auth_pages
from auth.mock_idp import routes as mock_idp_routes
from auth.rp import routes as auth_routes
from registry import demo_calendar, i18n
from registry.api.routes import api
from registry.api.routes import install_guard as install_api_guard
from registry.config import is_production
from registry.counter.routes import counter
from registry.csb.routes import csb, csb_api
from registry.db import MAX_ID, db
from registry.dossier.routes import dossier_api, dossier_pages
from registry.elections.models import Election
from registry.errors import HTTP_ERROR_PAGE, register_error_handlers
from registry.input_guard import install as install_input_guard
from registry.limits import init_limits
from registry.online.routes import online
from registry.online.services import install_guard as install_online_guard
from registry.party.routes import party
from registry.transparency.routes import log_api, log_pages

public = Blueprint("public", __name__)

# Endpoints anyone may reach without logging in. Every other endpoint must carry a guard from
# auth.access (@role_required / @api_role_required); tests/test_route_inventory.py checks both ways.
PUBLIC_ENDPOINTS: frozenset[str] = frozenset({
    "static", "public.home", "public.health",
    # the language switch, the accessibility statement and the privacy statement (issue 8)
    "public.language", "public.accessibility", "public.privacy",
    # the API's own description (registry/api/routes.py)
    "api.openapi",
    # the voters' start page: what a declaration is, before any login (registry/online/routes.py)
    "online.start",
    # login and logout (auth/rp/routes.py)
    "auth.login", "auth.login_digid", "auth.login_eherkenning", "auth.callback", "auth.logout",
    "auth.logged_out",
    # the mock issuer (development and test only); its token and userinfo endpoints check clients and
    # bearer tokens themselves
    "mock_idp.discovery", "mock_idp.jwks", "mock_idp.authorize", "mock_idp.authorize_choice",
    "mock_idp.token", "mock_idp.userinfo", "mock_idp.end_session",
    # the demo calendar's panel on the start page (registry/demo_calendar.py; development and test only)
    "demo.advance_page",
    # the transparency log: signed tree heads, consistency and inclusion proofs reveal counts and hashes
    # only; the proof is found by the receipt code and rate-limited (registry/transparency/routes.py)
    "log_api.heads", "log_api.consistency", "log_api.proof", "log_pages.heads_page", "log_pages.proof_page",
})


@public.get("/")
def home() -> str:
    elections = db.session.scalars(select(Election).order_by(Election.election_date)).all()
    return render_template("home.html", elections=elections, demo=demo_calendar.panel(db.session))


@public.get("/taal/<code>")
def language(code: str) -> Response | tuple[str, int]:
    """The language switch: remembers the choice in a cookie and goes back to the page it came from."""
    target = request.args.get("next")
    if target and i18n.has_control_characters(target):
        # A CR/LF here would end up in the Location header (header injection): refuse, do not repair.
        return render_template_string(
            HTTP_ERROR_PAGE, title=gettext("Ongeldig verzoek"),
            message=gettext("Het terugadres in deze link bevat tekens die in een adres niet mogen staan, zoals een "
                            "regeleinde. Uw taalkeuze is niet opgeslagen.")), 400
    response = redirect(i18n.safe_next(target))
    if code in i18n.available_languages():
        response.set_cookie(i18n.COOKIE, code, max_age=i18n.COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


@public.get("/toegankelijkheid")
def accessibility() -> str:
    return render_template("pages/accessibility.html")


@public.get("/privacy")
def privacy() -> str:
    return render_template("pages/privacy.html")


@public.get("/healthz")
def health() -> tuple[object, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="database unavailable"), 503
    return jsonify(status="ok"), 200


class DatabaseId(IntegerConverter):
    """``<int:…>`` matches only what an INTEGER column holds: a larger number is no row (404), where
    PostgreSQL would refuse to compare it with an int4 column (a 500)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


# --- every blueprint, one line each, next to its access rule -------------------------------------------

PUBLIC = "public"  # every endpoint on PUBLIC_ENDPOINTS
GUARDED = "role-guarded"  # every view carries @role_required / @api_role_required (a few named public ones)
DEVELOPMENT = "development-only"  # never mounted in production


@dataclass(frozen=True)
class Mount:
    blueprint: Blueprint
    access: str  # PUBLIC, GUARDED or DEVELOPMENT
    rule: str  # how a request is let in, for the reader (the route inventory test checks the guards)
    url_prefix: str | None = None  # None: the blueprint's own
    when: Callable[[Flask], bool] | None = None  # a further condition (development-only ones: never in production)


# In registration order: Werkzeug sends a URL to the first rule that matches it.
BLUEPRINTS: tuple[Mount, ...] = (
    Mount(public, PUBLIC, "home, health, language switch, accessibility and privacy statements"),
    Mount(auth_routes.bp, PUBLIC, "login, callback, logout"),
    Mount(auth_api.bp, GUARDED, "@api_role_required (bearer)", url_prefix="/api/v1"),
    Mount(mock_idp_routes.bp, DEVELOPMENT, "public; where the mock issuer is enabled", when=auth.mock_enabled),
    Mount(counter, GUARDED, '@role_required("clerk") + require_municipality'),
    Mount(api, GUARDED, "@api_role_required(...); openapi.json public"),
    Mount(online, GUARDED, 'online.start public; every other view @role_required("voter")'),
    Mount(party, GUARDED, '@role_required("party_agent"); lists via party.services.require_agent_list'),
    Mount(csb, GUARDED, '@role_required("csb") + election_scoped (require_election)'),
    Mount(csb_api, GUARDED, '@api_role_required("csb") + require_election'),
    Mount(dossier_api, GUARDED, '@api_role_required("csb") + require_election'),
    Mount(dossier_pages, GUARDED, '@role_required("csb") + require_election'),
    Mount(log_api, PUBLIC, "signed heads and proofs: counts and hashes only; the proof lookup rate-limited"),
    Mount(log_pages, PUBLIC, "the same as pages"),
    Mount(demo_calendar.demo, DEVELOPMENT, "public; the demo calendar's panel (development and test only)"),
)


def mounted(app: Flask) -> list[Mount]:
    """The blueprints this app mounts: all but the development-only ones in production."""
    production = is_production(app.config["STEUNREGISTER"])
    return [m for m in BLUEPRINTS
            if not (production and m.access == DEVELOPMENT) and (m.when is None or m.when(app))]


def register_blueprints(app: Flask) -> None:
    """The only place a blueprint is registered (a test compares app.blueprints with BLUEPRINTS)."""
    app.url_map.converters["int"] = DatabaseId  # before any rule is added: rules bind their converter then
    # App-wide hooks the blueprints rely on, in the order they run.
    register_error_handlers(app)  # a database outage; problem+json for HTTP errors under /api/
    install_input_guard(app)  # 400 for a NUL or other control character anywhere, before all else
    init_limits(app)  # Flask-Limiter (RATE_LIMIT_* settings); 429 as a Dutch page or problem+json
    install_online_guard(app)  # the online confirmation's slots per process
    install_api_guard(app)  # the declaration API's slots per process (and registry.admission.Shedder's)
    for mount in mounted(app):
        if mount.url_prefix is None:
            app.register_blueprint(mount.blueprint)
        else:
            app.register_blueprint(mount.blueprint, url_prefix=mount.url_prefix)
    if not is_production(app.config["STEUNREGISTER"]):
        demo_calendar.install_clock(app)  # the demo clock as last recorded, on every request
    # Keep last: the placeholder landing pages /balie and /csb/<election> (app rules, not a blueprint) are
    # added only where no blueprint above serves that URL. Every view: @role_required.
    auth_pages.register(app)
