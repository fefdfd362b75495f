"""The party pages: a party agent registers lists (EML 210 or a form) and follows their progress.

    from registry.party import register
    register(app)        # blueprint "party": /partij/…
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from registry.party.routes import party

    app.register_blueprint(party)
