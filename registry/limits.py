"""Rate limits (Flask-Limiter) against automated use of the online channel and its API.

    from registry.limits import init_limits
    init_limits(app)                      # in the app factory, after auth.init_app

Views take their limits from the settings at request time, so a deployment (or a test) changes them
without code:

    @limiter.limit(per_address_limit)                           # every visitor, keyed by IP address
    @limiter.limit(per_session_limit, key_func=session_key)     # a logged-in person, keyed by their login

A limit that triggers is logged (the key is an IP address or a login's pseudonymous subject, never a
BSN) and answered with a Dutch page, or problem+json under /api/, both with Retry-After.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from flask import Flask, current_app, render_template, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address

from auth.access import current_identity
from registry.config import value
from registry.i18n import count
from registry.problems import problem

log = logging.getLogger("registry.limits")

def _on_breach(limit: RequestLimit) -> None:
    # limit.key is "<key>" plus the endpoint: an address or "voter:<pseudonymous subject>". No BSN here;
    # the log-record factory masks nine-digit runs anyway.
    log.warning("rate limit %s reached for %s on %s", limit.limit, limit.key, request.endpoint)


# No storage_uri here: Flask-Limiter lets a constructor argument win over the app's configuration,
# and init_limits must be able to point it at the configured storage (memory://, redis://…).
limiter = Limiter(key_func=get_remote_address, headers_enabled=False, on_breach=_on_breach,
                  strategy="moving-window")


def setting(name: str) -> str:
    return str(value(current_app.config.get("STEUNREGISTER"), name))


def per_address_limit() -> str:
    return setting("RATE_LIMIT_PER_ADDRESS")


def per_session_limit() -> str:
    return setting("RATE_LIMIT_PER_SESSION")


def login_start_limit() -> str:
    return setting("RATE_LIMIT_LOGIN")


def lookup_limit() -> str:
    return setting("RATE_LIMIT_LOOKUP")


def per_client_limit() -> str:
    return setting("RATE_LIMIT_PER_CLIENT")


def session_key() -> str:
    """The logged-in person (their pseudonymous login subject), else the address."""
    identity = current_identity()
    return identity.actor if identity is not None else get_remote_address()


def _enabled(settings: dict[str, Any]) -> bool:
    return bool(value(settings, "RATE_LIMIT_ENABLED"))


def init_limits(app: Flask) -> None:
    settings = app.config.get("STEUNREGISTER") or {}
    # Set every time: the limiter object is shared by every app this process creates (tests make many).
    app.config["RATELIMIT_ENABLED"] = _enabled(settings)
    app.config["RATELIMIT_STORAGE_URI"] = value(settings, "RATE_LIMIT_STORAGE")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "steunregister")
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def too_many_requests(_exc: RateLimitExceeded) -> Any:
    seconds = _retry_after()
    headers = {"Retry-After": str(seconds)}
    if request.path.startswith("/api/"):
        return problem(429, "too-many-requests", "Te veel verzoeken",
                       f"U stuurt te veel verzoeken achter elkaar. Probeer het over "
                       f"{count(seconds, 'seconde', 'seconden')} opnieuw.",
                       headers=headers)
    return render_template("limits/too_many.html", seconds=seconds, minutes=max(1, math.ceil(seconds / 60))), \
        429, headers


def _retry_after() -> int:
    """Seconds until the limit that was hit lets this key through again (at least 1)."""
    current = limiter.current_limit
    if current is not None:
        try:
            return max(1, math.ceil(current.reset_at - time.time()))
        except Exception:  # storage unreachable: a rough answer is better than none
            log.exception("could not read the rate limit window")
    return 60
