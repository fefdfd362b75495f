"""Flask extensions, created once and bound in the app factory."""

from __future__ import annotations

from flask_migrate import Migrate

from registry.db import db

migrate = Migrate(compare_type=True, render_as_batch=True)

__all__ = ["db", "migrate"]
