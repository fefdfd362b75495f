"""Every blueprint is registered here, next to its access rule.

A route is either on the explicit public list (PUBLIC_ENDPOINTS) or guarded by a role; a test walks
the URL map and fails on any route that is neither.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, redirect, render_template, render_template_string, request
from flask_babel import gettext
from sqlalchemy import select, text
from werkzeug.routing import IntegerConverter, Map

from registry import demo_calendar, i18n
from registry.db import MAX_ID, db
from registry.elections.models import Election
from registry.errors import HTTP_ERROR_PAGE

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


def register_blueprints(app: Flask) -> None:
    import auth

    app.url_map.converters["int"] = DatabaseId  # before any rule is added: rules bind their converter then
    from auth import api as auth_api
    from auth import pages as auth_pages
    from auth.rp import routes as auth_routes

    app.register_blueprint(public)  # public: PUBLIC_ENDPOINTS
    app.register_blueprint(auth_routes.bp)  # public: PUBLIC_ENDPOINTS (login, callback, logout)
    app.register_blueprint(auth_api.bp, url_prefix="/api/v1")  # every view: @api_role_required (bearer)
    if auth.mock_enabled(app):
        from auth.mock_idp import routes as mock_routes

        app.register_blueprint(mock_routes.bp)  # public: PUBLIC_ENDPOINTS; development and test only

    # issue 4: the counter and the declaration API; app-wide answers for a database outage and for
    # HTTP errors under /api/ (problem+json)
    from registry.errors import register_error_handlers

    register_error_handlers(app)
    from registry.input_guard import install as install_input_guard

    install_input_guard(app)  # 400 for a NUL or other control character anywhere in a request, before all else
    from registry.api.routes import api
    from registry.counter.routes import counter

    app.register_blueprint(counter)  # every view: @role_required("clerk") + require_municipality
    app.register_blueprint(api)  # every view: @api_role_required(...); openapi.json: PUBLIC_ENDPOINTS

    # issue 5: online channel and party progress
    from registry import online, party
    from registry.limits import init_limits

    init_limits(app)  # Flask-Limiter (RATE_LIMIT_* settings); 429 as a Dutch page or problem+json
    online.register(app)  # public: online.start (PUBLIC_ENDPOINTS); every other view: @role_required("voter")
    party.register(app)  # every view: @role_required("party_agent"), lists via party.services.require_agent_list

    # issue 6: the centraal stembureau
    from registry.csb.routes import csb, csb_api

    app.register_blueprint(csb)  # every view: @role_required("csb") + election_scoped (require_election)
    app.register_blueprint(csb_api)  # every view: @api_role_required("csb") + require_election
    from registry.dossier.routes import dossier_api, dossier_pages

    app.register_blueprint(dossier_api)  # every view: @api_role_required("csb") + require_election
    app.register_blueprint(dossier_pages)  # every view: @role_required("csb") + require_election

    # issue 17: the transparency log (public: PUBLIC_ENDPOINTS; the proof lookup rate-limited per address)
    from registry.transparency.routes import log_api, log_pages

    app.register_blueprint(log_api)
    app.register_blueprint(log_pages)

    # issue 16: the demo calendar (development and test only): its panel's route, and the demo clock
    # as last recorded, on every request
    demo_calendar.init_app(app)

    # Keep last: the placeholder landing pages /balie and /csb/<election> are added only where no
    # feature above serves that URL. Every view: @role_required.
    auth_pages.register(app)
