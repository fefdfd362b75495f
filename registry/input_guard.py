"""Refuse characters that no field of this application may hold, before any view or session lookup runs.

PostgreSQL cannot store U+0000 in a text column (the driver raises DataError: a 500), a lone surrogate
cannot be encoded as UTF-8 at all, and the other C0 control characters are not allowed in XML, so a
stored one would break an EML export or a dossier later. No real input needs them (tab, newline and
carriage return stay allowed), and RFC 9110 lets a server reject them in header fields. A request with
one anywhere (address, query, header, cookie, form field, file name, JSON string) gets a 400, as a
Dutch page or problem+json under /api/, and nothing is processed.

    from registry.input_guard import install
    install(app)         # from register_blueprints; runs before every other before_request hook
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app, render_template_string, request

from auth.access import _set_identity
from registry.problems import problem

# Bidi embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069) turn text around on screen:
# "‮lovoV" shows as a different name than it is. No field here needs them.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
BIDI = re.compile(f"[{BIDI_CONTROLS}]")
FORBIDDEN = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff{BIDI_CONTROLS}]")
# Endpoints that answer a garbled address themselves, with a page that fits better than ours (the login
# callback says "Inloggen is niet gelukt"; tests/auth checks it). Their headers are still checked.
OWN_ANSWER = frozenset({"auth.callback"})
# Endpoints whose body is checked only after the caller is authenticated (registry/api/routes.py, admitted):
# an anonymous client must not get as far as having its body read.
BODY_AFTER_AUTHENTICATION = frozenset({"api.create_declaration", "api.create_batch"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
DETAIL = ("Het verzoek bevat een teken dat in geen enkel veld is toegestaan (een stuurteken zoals U+0000, of een "
          "teken dat de schrijfrichting omdraait zoals U+202E), "
          "in {where}. Er is niets verwerkt. Controleer wat u hebt ingevuld of geplakt.")

# Extends the base page only: one template less to keep in step.
PAGE = """{% extends "base.html" %}
{% block title %}Ongeldige tekens{% endblock %}
{% block content %}
<h1>Ongeldige tekens</h1>
<p role="alert">{{ detail }}</p>
<p>Ga terug, verbeter het en probeer het opnieuw.</p>
{% endblock %}"""


BIDI_REMOVED = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def without_bidi_controls(text: str) -> str:
    """``text`` without bidi controls; a Markup string stays Markup (str.translate is wrapped by it)."""
    return text.translate(BIDI_REMOVED)


def _json_strings(value: Any) -> Iterator[str]:
    stack = [value]  # a loop, not recursion: the body may be nested as deep as the parser allowed
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def forbidden_in_request() -> str | None:
    """Where the current request carries a forbidden character (in Dutch), or None. Never the value."""
    for name, value in request.headers.items():  # cookies included: the identity hook looks them up
        if FORBIDDEN.search(name) or FORBIDDEN.search(value):
            return f"de kopregel {name}" if not FORBIDDEN.search(name) else "een kopregel"
    if request.endpoint in OWN_ANSWER:
        return None
    if FORBIDDEN.search(request.path):
        return "het adres"
    for name, value in request.args.items(multi=True):
        if FORBIDDEN.search(name) or FORBIDDEN.search(value):
            return "het adres"
    if request.endpoint in BODY_AFTER_AUTHENTICATION:
        return None
    return forbidden_in_body()


def forbidden_in_body() -> str | None:
    """Where the current request's body carries a forbidden character (in Dutch), or None."""
    if request.mimetype in FORM_TYPES:
        for name, value in request.form.items(multi=True):
            if FORBIDDEN.search(name) or FORBIDDEN.search(value):
                return "een veld van het formulier"
        for storage in request.files.values():
            if FORBIDDEN.search(storage.filename or ""):
                return "de bestandsnaam"
    if request.is_json:
        try:
            data = request.get_json(silent=True)
        except RecursionError:
            return None  # too deeply nested: the view refuses it with its own message
        if any(FORBIDDEN.search(text) for text in _json_strings(data)):
            return "de JSON"
    return None


def refusal(where: str) -> Any:
    """The 400 for a forbidden character in ``where``: problem+json under /api/, else a Dutch page."""
    current_app.logger.warning("request refused: forbidden character in %s (%s %s)", where, request.method,
                               request.endpoint)
    detail = DETAIL.format(where=where)
    if request.path.startswith("/api/"):
        return problem(400, "invalid-characters", "Ongeldige tekens", detail)
    _set_identity(None)  # the page header must not look up a session cookie that may be the culprit
    return render_template_string(PAGE, detail=detail), 400


def install(app: Flask) -> None:
    def refuse_forbidden_characters() -> Any:
        where = forbidden_in_request()
        return None if where is None else refusal(where)

    # First of all hooks: the identity hook looks the session cookie up in the database.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_forbidden_characters)
