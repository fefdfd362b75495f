"""Landing pages for clerks (/balie) and CSB members (/csb/<election>), proving what each role may
see. (Voters land on /mijn-verklaring and party agents on /partij, served by registry.online and
registry.party.) Every view carries @role_required and the matching require_* check.

They are placeholders: ``register(app)`` runs after every feature's blueprint and adds a page only
where no feature serves that URL yet, so a feature that brings its own /balie or /csb/<election>
simply takes over (two rules for one URL would leave the second one unreachable).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask, abort, render_template, request
from sqlalchemy import select

from auth.access import current_identity, require_election, require_municipality, role_required
from registry.db import db
from registry.elections.models import Election, Municipality

ENDPOINT_PREFIX = "pages."
_ARGUMENT = re.compile(r"<(?:[^:>]+:)?[^>]+>")


def _municipality_names(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = db.session.execute(
        select(Municipality.code, Municipality.name).where(Municipality.code.in_(sorted(codes)))
        .order_by(Municipality.election_id.desc())
    ).all()
    names: dict[str, str] = {}
    for code, name in rows:
        names.setdefault(code, name)  # the most recently imported election's spelling
    return names


@role_required("clerk")
def counter() -> str:
    """The clerk's municipalities; ``?gemeente=GM…`` narrows to one, and only to one of their own."""
    identity = current_identity()
    assert identity is not None
    asked = request.args.get("gemeente")
    codes = sorted(identity.municipalities())
    if asked:
        require_municipality(asked)
        codes = [asked]
    names = _municipality_names(set(codes))
    # Each municipality's elections, each a link to its counter (registry/counter).
    elections: dict[str, list[Election]] = {code: [] for code in codes}
    for election, code in db.session.execute(
            select(Election, Municipality.code).join(Municipality, Municipality.election_id == Election.id)
            .where(Municipality.code.in_(codes)).order_by(Election.election_date, Election.identifier)):
        elections[code].append(election)
    return render_template("auth/counter.html", municipalities=[(code, names.get(code, code)) for code in codes],
                           elections=elections, several=len(identity.municipalities()) > 1)


@role_required("csb")
def csb(election: str) -> Any:
    require_election(election)  # before the lookup: another election's existence is not disclosed
    found = db.session.scalar(select(Election).where(Election.identifier == election))
    if found is None:
        abort(404)
    return render_template("auth/csb.html", election=found)


PAGES: dict[str, Callable[..., Any]] = {
    "/balie": counter,
    "/csb/<election>": csb,
}


def _shape(rule: str) -> str:
    return _ARGUMENT.sub("<>", rule).rstrip("/") or "/"


def register(app: Flask) -> None:
    """Add the placeholder pages whose URL no feature has claimed. Call after every blueprint."""
    taken = {_shape(rule.rule) for rule in app.url_map.iter_rules()}
    for rule, view in PAGES.items():
        if _shape(rule) not in taken:
            app.add_url_rule(rule, ENDPOINT_PREFIX + view.__name__, view, methods=["GET"])
