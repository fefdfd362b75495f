"""App-wide error answers: a Dutch page for people, problem+json under /api/, never a stack trace."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from registry.db import db
from registry.problems import problem

RETRY_AFTER_SECONDS = 5


def register_error_handlers(app: Flask) -> None:
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
        if request.path.startswith("/api/"):
            slug = {401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
                    413: "request-too-large"}.get(exc.code or 500, "http-error")
            return problem(exc.code or 500, slug, exc.name, exc.description or exc.name)
        return exc
