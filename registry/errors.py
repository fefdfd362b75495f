"""App-wide error answers: a page for people (Dutch, or English on English pages), problem+json under
/api/, never a stack trace.

Also the request size limit (MAX_REQUEST_BYTES), next to its 413 answer.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, render_template_string, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from registry.config import value
from registry.db import db
from registry.problems import problem

RETRY_AFTER_SECONDS = 5

# A page of its own would be one more template to keep in step; this one only extends the base.
TOO_LARGE_PAGE = """{% extends "base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block content %}
<h1>{{ title }}</h1>
<p role="alert">{{ reason }} {{ nothing }}</p>
<p>{{ advice }}</p>
{% endblock %}"""

HTTP_ERROR_PAGE = """{% extends "base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block content %}
<h1>{{ title }}</h1>
<p role="alert">{{ message }}</p>
<p><a href="{{ url_for('public.home') }}">{{ home }}</a></p>
{% endblock %}"""
HTTP_ERROR_PAGES = {
    400: (_l("Ongeldig verzoek"), _l("Dit verzoek kunnen wij niet verwerken. Er is niets vastgelegd. Ga terug en "
                                     "probeer het opnieuw.")),
    403: (_l("Geen toegang"), _l("U hebt geen toegang tot deze pagina.")),
    404: (_l("Pagina niet gevonden"), _l("Deze pagina bestaat niet (meer). Controleer het adres.")),
    405: (_l("Dit kan hier niet"), _l("Deze pagina kan niet op deze manier worden gebruikt. Er is niets vastgelegd.")),
    408: (_l("Te langzaam verstuurd"), _l("Het versturen van de gegevens duurde te lang. Er is niets vastgelegd. "
                                          "Probeer het opnieuw.")),
    500: (_l("Er ging iets mis"), _l("Er ging bij ons iets mis. Probeer het later opnieuw.")),
}


def max_request_bytes(settings: dict[str, Any]) -> int:
    return int(value(settings, "MAX_REQUEST_BYTES"))


def readable_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB".replace(".", ",")
    if size >= 1024:
        return f"{size / 1024:.3g} kB".replace(".", ",")
    return f"{size} bytes"


def register_error_handlers(app: Flask) -> None:
    # Werkzeug refuses a longer body as soon as a view (or the CSRF check) reads it, on the declared
    # Content-Length or while reading a chunked one.
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes(app.config.get("STEUNREGISTER") or {})

    @app.errorhandler(RequestEntityTooLarge)
    def request_too_large(_exc: RequestEntityTooLarge) -> Any:
        limit = app.config["MAX_CONTENT_LENGTH"]
        app.logger.warning("request body too large: %s %s (%s bytes declared)", request.method, request.path,
                           request.content_length)
        if request.content_length is not None and request.content_length <= limit:
            # Within the body limit, so Flask's MAX_FORM_MEMORY_SIZE for one text field was exceeded.
            reason = gettext("Een veld van het formulier is te lang.")
        else:
            reason = gettext("Wat u verstuurde is groter dan %(size)s.", size=readable_size(limit))
        if request.path.startswith("/api/"):
            return problem(413, "request-too-large", "Verzoek te groot",
                           f"{reason} Er is niets verwerkt. Stuur een grote batch in delen.")
        return render_template_string(TOO_LARGE_PAGE, reason=reason, title=gettext("Te veel gegevens verstuurd"),
                                      nothing=gettext("Er is niets verwerkt."),
                                      advice=gettext("Ga terug en verstuur minder, of kies een kleiner bestand.")), 413

    @app.errorhandler(OperationalError)
    def database_unavailable(_exc: OperationalError) -> Any:
        # The database is down or overloaded: nothing was acknowledged, so a retry is safe.
        db.session.rollback()
        app.logger.warning("database unavailable: %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            response = problem(503, "service-unavailable", "Tijdelijk niet beschikbaar",
                               "De registratie is even niet bereikbaar. Er is niets vastgelegd. "
                               "Probeer het zo opnieuw.")
        else:
            response = app.make_response((render_template("errors/unavailable.html"), 503))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        # Werkzeug's own headers for this error, e.g. the Allow that a 405 must carry (RFC 9110 §15.5.6).
        headers = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
        if request.path.startswith("/api/"):
            slug = {401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
                    408: "request-timeout", 413: "request-too-large"}.get(exc.code or 500, "http-error")
            return problem(exc.code or 500, slug, exc.name, exc.description or exc.name, headers=headers)
        if exc.code in HTTP_ERROR_PAGES:
            # abort(404) and friends: a page of this site in its language instead of Werkzeug's English one.
            title, message = HTTP_ERROR_PAGES[exc.code]
            return render_template_string(HTTP_ERROR_PAGE, title=str(title), message=str(message),
                                          home=gettext("Naar de startpagina")), exc.code, headers
        return exc
