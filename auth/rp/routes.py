"""Login and logout pages: /login, /login/digid, /login/eherkenning, /login/callback, /logout.

All public (PUBLIC_ENDPOINTS); what they do is in services.py.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, session
from werkzeug.wrappers import Response

from auth.access import current_identity
from auth.rp import services
from registry.limits import limiter, login_start_limit

log = logging.getLogger("registry.auth")

bp = Blueprint("auth", __name__)


@bp.get("/login")
def login() -> str:
    next_url = services.safe_next(request.args.get("next"))
    return render_template("auth/login.html", next_url=next_url, identity=current_identity())


# Each start stores a pending login: limited per address (both routes together), so nobody fills the
# table anonymously.
login_start = limiter.shared_limit(login_start_limit, scope="login-start")


@bp.get("/login/digid")
@login_start
def login_digid() -> Any:
    return _start("digid")


@bp.get("/login/eherkenning")
@login_start
def login_eherkenning() -> Any:
    return _start("eherkenning")


def _start(provider_name: str) -> Any:
    conf = services.settings()
    provider = conf.provider(provider_name)
    assert provider is not None
    bounce = _same_host_as_mock(provider)
    if bounce:
        return redirect(bounce)
    try:
        url = services.start_login(provider, request.args.get("next"))
    except services.LoginFailed as exc:
        return _failed(exc, provider_name)
    return redirect(url)


def _same_host_as_mock(provider: Any) -> str | None:
    # With the in-process mock and no configured redirect URI, the callback must land on the host the
    # mock registered (its issuer's origin), or the browser's state cookie would not come back with it.
    conf = services.settings()
    if conf.redirect_uri or not conf.uses_mock(provider):
        return None
    parts = urlsplit(conf.mock.issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    if request.host_url.rstrip("/") == origin:
        return None
    return origin + request.full_path.rstrip("?")


@bp.get("/login/callback")
def callback() -> Any:
    try:
        result = services.finish_login(request.args)
    except services.LoginFailed as exc:
        return _failed(exc, exc.provider)
    previous = request.cookies.get(services.COOKIE_NAME)
    raw_id = services.create_session(result, previous)
    # A new Flask session as well: a CSRF token (or anything else) planted before the login dies with it.
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF's copy of the old token for this request
    response = redirect(result.next_url or services.landing_page(result.identity))
    services.set_session_cookie(response, raw_id)
    g._steunregister_clear_cookie = False
    return response


def _failed(exc: services.LoginFailed, provider_name: str | None) -> tuple[str, int]:
    log.warning("login refused (%s): %s", provider_name or "?", exc.code)
    conf = services.settings()
    provider = conf.provider(provider_name or "")
    return render_template(
        "auth/login_failed.html",
        failure=exc,
        provider=provider,
        min_level=provider.min_level if provider else None,
        retry_url="/login/" + provider.name if provider else "/login",
    ), exc.status


@bp.post("/logout")
def logout() -> Response:
    raw_id = request.cookies.get(services.COOKIE_NAME)
    provider_name = services.end_session(raw_id) if raw_id else None
    session.clear()  # also drops pending logins and the CSRF token of the old session
    response = redirect(services.logout_url(provider_name))
    services.clear_session_cookie(response)
    return response


@bp.get("/uitgelogd")
def logged_out() -> str:
    return render_template("auth/logged_out.html")
