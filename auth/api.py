"""Identity endpoints of the JSON API (/api/v1): bearer tokens only, errors as problem+json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import select

from auth.access import api_role_required, current_identity, require_municipality
from registry.db import db
from registry.elections.models import Election, Municipality
from registry.problems import problem

bp = Blueprint("auth_api", __name__)


@bp.get("/whoami")
@api_role_required()
def whoami() -> Any:
    identity = current_identity()
    assert identity is not None
    return jsonify(identity.public_dict())  # never the BSN


@bp.get("/municipalities/<code>")
@api_role_required("clerk", "system")
def municipality(code: str) -> Any:
    require_municipality(code)
    rows = db.session.execute(
        select(Municipality.name, Election.identifier).join(Election, Election.id == Municipality.election_id)
        .where(Municipality.code == code).order_by(Election.election_date)
    ).all()
    if not rows:
        return problem(404, "not-found", "Niet gevonden", f"Gemeente {code} doet aan geen verkiezing mee.")
    return jsonify(code=code, name=rows[-1][0], elections=[identifier for _, identifier in rows])
