"""The online channel: a voter declares from home after DigiD, and sees their own declaration.

    from registry.online import register
    register(app)        # blueprint "online": /verklaren/…, /mijn-verklaring/
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from registry.online.routes import online
    from registry.online.services import install_guard

    install_guard(app)
    app.register_blueprint(online)
