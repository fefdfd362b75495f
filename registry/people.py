"""Which person register (BRP) the app talks to: a real Haal Centraal endpoint or the fixture file."""

from __future__ import annotations

from typing import Any

from flask import current_app

from registry.brp import FixturePersonRegistry, HttpPersonRegistry, PersonRegistry


def person_registry_from_settings(settings: dict[str, Any]) -> PersonRegistry:
    if settings.get("BRP_URL"):
        return HttpPersonRegistry(settings["BRP_URL"], settings.get("BRP_API_KEY"),
                                  timeout=float(settings.get("BRP_TIMEOUT") or 5))
    return FixturePersonRegistry(settings["BRP_FIXTURE"])


def person_registry() -> PersonRegistry:
    return current_app.extensions["steunregister.brp"]
