"""Security headers on every response, from this one place.

    from registry.security import init_security
    init_security(app)           # in the app factory, after auth.init_app

- Content-Security-Policy with a fresh nonce per request. Templates get it as ``csp_nonce()``; an inline
  ``<script>`` or ``<style>`` without ``nonce="{{ csp_nonce() }}"`` does not run (and a test fails on it).
  Style attributes (``style="…"``) are blocked too: use classes in static/css.
- ``frame-ancestors 'none'`` (and X-Frame-Options for old browsers): no page can be framed (clickjacking).
- Strict-Transport-Security everywhere except in development, where the app runs on plain http.
- ``Cache-Control: no-store`` on every HTML page and every answer that did not choose its own caching:
  pages, API answers and PDFs carry names and receipt codes, and must not stay in a shared computer's
  cache or a proxy. Static files keep Flask's own (revalidated) caching.
- Referrer-Policy ``same-origin``: no address of ours leaks to other sites, while our own form posts keep
  their Referer (Flask-WTF checks it on https).
- X-Content-Type-Options ``nosniff``.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, request

from auth.rp.services import EXTENSION
from registry.config import is_development
from registry.input_guard import without_bidi_controls

NONCE_BYTES = 18  # 144 bits, base64url: 24 characters
HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    """This request's nonce; made on first use, so error pages rendered early still get one."""
    nonce = g.get("_csp_nonce")
    if nonce is None:
        nonce = g._csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


def content_security_policy(nonce: str, form_targets: tuple[str, ...] = ()) -> str:
    # form-action also governs where a form post may redirect to (Chrome): logout ends at the
    # identity broker's end-session endpoint, so its origin is allowed next to our own.
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": f"'self' 'nonce-{nonce}'",
        "img-src": "'self' data:",  # the design system draws checkmarks and select arrows as data: SVG
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": " ".join(("'self'", *form_targets)),
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _identity_origins(app: Flask) -> tuple[str, ...]:
    state = app.extensions.get(EXTENSION)
    if state is None:
        return ()
    origins = []
    for provider in state.settings.providers():
        parts = urlsplit(provider.issuer)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


def init_security(app: Flask) -> None:
    settings = app.config.get("STEUNREGISTER") or {}
    development = is_development(settings)
    form_targets = _identity_origins(app)

    def _fresh_nonce() -> None:
        # Ahead of the hooks registered so far (the CSRF check), so a page they answer gets this
        # request's nonce; and a fresh one when an app context outlives one request (the tests).
        g.pop("_csp_nonce", None)

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_nonce)

    @app.context_processor
    def _nonce_in_templates() -> dict[str, object]:
        return {"csp_nonce": csp_nonce}

    def _no_bidi_controls(value: Any) -> Any:
        # Every value a template shows loses bidi controls: stored text (an imported list designation)
        # can never turn a page's text around. Markup stays Markup (it was escaped or trusted already).
        return without_bidi_controls(value) if isinstance(value, str) else value

    app.jinja_env.finalize = _no_bidi_controls

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in security_headers(csp_nonce(), form_targets, development):
            headers[name] = value
        if response.mimetype == "text/html" or (
                "Cache-Control" not in headers and request.endpoint != "static"):
            headers["Cache-Control"] = "no-store"
        return response


def security_headers(nonce: str, form_targets: tuple[str, ...] = (),
                     development: bool = False) -> list[tuple[str, str]]:
    """The headers every answer carries, also those made outside Flask (registry/admission.py)."""
    headers = [("Content-Security-Policy", content_security_policy(nonce, form_targets)),
               ("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "same-origin"), ("Cross-Origin-Opener-Policy", "same-origin")]
    return headers if development else [*headers, ("Strict-Transport-Security", HSTS)]


__all__ = ["content_security_policy", "csp_nonce", "init_security", "security_headers"]
