"""Identity: the relying party (DigiD-style logins for voters, eHerkenning-style for staff), sessions,
role checks, and a mock OpenID Connect issuer for development and tests.

    auth.init_app(app)     # from the app factory, before register_blueprints

Layout (fixed names):
    settings.py            every identity setting, typed; production refuses the mock
    access.py              Identity, current_identity(), @role_required, @api_role_required, require_*
    models.py              auth_sessions, auth_login_requests, mock_idp_codes
    rp/tokens.py           JWT verification and signing: the only module importing python-jose
    rp/services.py         code flow with PKCE, provider fetchers, sessions, bearer tokens
    rp/routes.py           /login…, /logout
    pages.py, api.py       the per-role pages and /api/v1 identity endpoints
    mock_idp/              the mock issuer at /mock-idp (keys, clients, services, routes)
    cli.py                 flask --app app mock-idp rotate-keys | clients
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request

from auth import settings as auth_settings
from registry.problems import problem


def init_app(app: Flask) -> None:
    """Read the identity settings (refusing a production start with the mock), set up sessions and
    CSRF protection. The blueprints themselves are registered by registry.routes.register_blueprints."""
    # Local on purpose: the package's own submodules are loaded at app start, not by ``import auth.access``
    # (which every guarded view does): auth.access stands at the bottom of the layers, auth/ as a whole on top.
    from auth import models  # noqa: F401  (the tables are part of the schema)
    from auth.access import RESOLVERS, IdentityResolvers, ScopeDenied, current_identity, handle_scope_denied
    from auth.rp import services

    try:
        conf = auth_settings.load(app.config["STEUNREGISTER"], app.instance_path)
    except auth_settings.AuthConfigurationError as exc:
        raise RuntimeError(str(exc)) from exc
    state = services.AuthState(app, conf)
    app.extensions[services.EXTENSION] = state
    app.extensions[RESOLVERS] = IdentityResolvers(services.identity_from_session_cookie,
                                                  services.identity_from_access_token, services.LoginFailed)

    # Flask's own signed cookie carries only pending-login states and the CSRF token.
    app.config.update(
        SESSION_COOKIE_NAME="steunregister_flask",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=conf.secure_cookies,
    )
    _init_csrf(app)

    @app.before_request
    def _load_identity() -> None:
        # Loaded (and its activity recorded) before any view code runs, so the session write never
        # interferes with a view's own transaction.
        if request.endpoint in (None, "static") or request.path.startswith("/mock-idp"):
            return
        g._steunregister_identity = services.identity_from_session_cookie(touch=True)

    @app.after_request
    def _drop_dead_cookie(response: Any) -> Any:
        if g.get("_steunregister_clear_cookie"):
            services.clear_session_cookie(response)
        return response

    @app.context_processor
    def _identity_in_templates() -> dict[str, Any]:
        return {"current_identity": current_identity()}

    app.register_error_handler(ScopeDenied, handle_scope_denied)

    if conf.mock.enabled:  # local: the mock issuer's modules are loaded only where it is enabled
        from auth.cli import mock_idp_cli
        from auth.mock_idp.services import EXTENSION as MOCK_EXTENSION
        from auth.mock_idp.services import MockIdp

        app.extensions[MOCK_EXTENSION] = MockIdp(conf)
        app.cli.add_command(mock_idp_cli)


def mock_enabled(app: Flask) -> bool:
    from auth.rp.services import EXTENSION  # local: see init_app

    return bool(app.extensions[EXTENSION].settings.mock.enabled)


def _init_csrf(app: Flask) -> None:
    from flask import render_template
    from flask_wtf.csrf import CSRFError, CSRFProtect

    from auth.api import bp as api_bp  # local: see init_app

    csrf = app.extensions.get("csrf")
    if csrf is None:
        csrf = CSRFProtect()
        # Checked by our own hook instead of Flask-WTF's, to leave out /api/ as a whole: the API takes
        # bearer tokens only and never reads the session cookie, so a forged cross-site request has
        # nothing to ride on there.
        app.config["WTF_CSRF_CHECK_DEFAULT"] = False
        csrf.init_app(app)

        @app.before_request
        def _csrf_outside_api() -> None:
            if app.config.get("WTF_CSRF_ENABLED", True) and not request.path.startswith("/api/"):
                csrf.protect(apply_exemptions=True)

        def _csrf_failed(exc: CSRFError) -> Any:
            if request.path.startswith("/api/"):
                return problem(400, "csrf", "Formulier verlopen", "De CSRF-controle is mislukt.")
            return render_template("auth/csrf_failed.html"), 400

        app.register_error_handler(CSRFError, _csrf_failed)
    # Machine-to-machine endpoints authenticate otherwise (client secret, PKCE, bearer token).
    csrf.exempt("auth.mock_idp.routes.token")
    csrf.exempt("auth.mock_idp.routes.userinfo")
    csrf.exempt(api_bp)
