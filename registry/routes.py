"""Every blueprint is registered here, next to its access rule.

A route is either on the explicit public list (PUBLIC_ENDPOINTS) or guarded by a role; a test walks
the URL map and fails on any route that is neither.
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, render_template
from sqlalchemy import select, text

from registry.db import db
from registry.elections.models import Election

public = Blueprint("public", __name__)

# Endpoints anyone may reach without logging in.
PUBLIC_ENDPOINTS: frozenset[str] = frozenset({"static", "public.home", "public.health"})


@public.get("/")
def home() -> str:
    elections = db.session.scalars(select(Election).order_by(Election.election_date)).all()
    return render_template("home.html", elections=elections)


@public.get("/healthz")
def health() -> tuple[object, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="database unavailable"), 503
    return jsonify(status="ok"), 200


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(public)  # public: PUBLIC_ENDPOINTS
