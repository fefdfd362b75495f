"""Steunregister: application factory and WSGI entry point.

    flask --app app run            # development server on the embedded default (SQLite)
    gunicorn 'app:create_app()'    # production (see docs/deploy.md)
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import auth
from registry import config as config_module
from registry.admission import Shedder
from registry.api.routes import DECLARATION_PATHS, GUARD
from registry.body_deadline import BodyDeadline
from registry.cli import register_commands
from registry.config import value as setting
from registry.declarations.messages import refusal_message
from registry.extensions import db, migrate
from registry.i18n import init_i18n
from registry.people import person_registry_from_settings
from registry.privacy import logging as privacy_logging
from registry.privacy.keys import KeyConfigurationError, KeyRing, load_master_key
from registry.routes import register_blueprints
from registry.security import init_security

PROJECT_DIR = Path(__file__).resolve().parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    # 1. Settings: environment first, then explicit overrides (tests pass these).
    settings = config_module.from_environment()
    settings.update(config or {})
    config_module.check(settings)  # one policy: a value that does not fit its type stops the start, named
    production = config_module.is_production(settings)
    instance_path = Path(setting(settings, "INSTANCE_PATH") or PROJECT_DIR / "instance").resolve()

    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder=str(PROJECT_DIR / "static"),
    )
    app.config["STEUNREGISTER"] = settings
    app.config["ENV_NAME"] = config_module.environment(settings)
    if hops := setting(settings, "PROXY_HOPS"):  # behind a reverse proxy: client address from X-Forwarded-*
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    # 2. Logging: mask anything shaped like a BSN before any handler sees it.
    privacy_logging.install()
    logging.getLogger("registry").setLevel(setting(settings, "LOG_LEVEL"))

    # 3. Secrets. Production refuses to start without them; development generates them once into
    #    the instance folder (never into the database).
    if not production:
        instance_path.mkdir(parents=True, exist_ok=True)
    app.config["SECRET_KEY"] = _secret_key(settings, instance_path, production)
    try:
        master_key = load_master_key(
            setting(settings, "MASTER_KEY"),
            setting(settings, "MASTER_KEY_FILE"),
            create_at=None if production else instance_path / "master.key",
        )
    except KeyConfigurationError as exc:
        raise RuntimeError(f"Steunregister will not start: {exc}") from exc
    app.extensions["steunregister.keyring"] = KeyRing(master_key)

    # 4. Database: the embedded default is a SQLite file in the instance folder.
    database_url = setting(settings, "DATABASE_URL") or f"sqlite:///{instance_path / 'steunregister.sqlite'}"
    if production and database_url.startswith("sqlite"):
        logging.getLogger("registry").warning("production configuration on SQLite")
    app.config["SQLALCHEMY_DATABASE_URI"] = _driver_url(database_url)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(database_url)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"))

    # 5. The person register (BRP): a real endpoint when configured, else the fixture file.

    app.extensions["steunregister.brp"] = person_registry_from_settings(settings)

    # 6. Identity first (auth.init_app: login settings, server-side sessions, CSRF protection; refuses a
    #    production configuration that enables the mock issuer), then blueprints and their access
    #    rules, then the command-line groups.
    auth.init_app(app)
    # 7. Security headers (CSP nonce, HSTS, no-store…) on every response, and the page language
    #    (Dutch by default, English on request).
    init_security(app)
    init_i18n(app)
    # The recording path's refusals in the page's language (registered here: i18n sits below declarations).
    app.add_template_filter(refusal_message, "refusal_text")
    register_blueprints(app)
    register_commands(app)
    # Every read of a request body, by any layer, ends by the deadline.
    app.wsgi_app = BodyDeadline(  # type: ignore[method-assign]
        app.wsgi_app, setting(settings, "BODY_TIMEOUT"))
    # Outermost: in a burst, the declarations this process cannot take are refused before anything else.
    app.wsgi_app = Shedder(app.wsgi_app, app.extensions[GUARD], DECLARATION_PATHS)  # type: ignore[method-assign]
    return app


def _secret_key(settings: dict[str, Any], instance_path: Path, production: bool) -> str:
    configured = setting(settings, "SECRET_KEY")
    if not configured:
        return _dev_secret(instance_path, production)
    # A short key signs cookies (pending logins, CSRF tokens) anyone can forge after a brute force.
    if production and len(str(configured).encode()) < config_module.MIN_SECRET_KEY_BYTES:
        raise RuntimeError(f"Steunregister will not start: STEUNREGISTER_SECRET_KEY must be at least "
                           f"{config_module.MIN_SECRET_KEY_BYTES} bytes in production")
    return str(configured)


def _dev_secret(instance_path: Path, production: bool) -> str:
    if production:
        raise RuntimeError("Steunregister will not start: STEUNREGISTER_SECRET_KEY is not set")
    file = instance_path / "secret_key"
    if not file.exists():
        file.write_text(secrets.token_urlsafe(48))
        file.chmod(0o600)
    return file.read_text().strip()


def _driver_url(url: str) -> str:
    # psycopg 3 is the driver; accept the plain postgresql:// form people copy from elsewhere.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    # No pool_pre_ping: a connection idle for a while is pinged at checkout instead (registry.db), so one in
    # steady use costs no extra round trip per request.
    return {"pool_size": 10, "max_overflow": 20, "pool_timeout": 5}


class _LazyWSGI:
    """WSGI entry (``gunicorn app:application``): builds the app on the first request, so importing
    this module (tests, the flask CLI) never creates one from the environment by accident."""

    def __init__(self) -> None:
        self._app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._app is None:
            self._app = create_app()
        return self._app(environ, start_response)


application = _LazyWSGI()
