"""Which person register (BRP) the app talks to: a real Haal Centraal endpoint or the fixture file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import current_app

from registry.brp import DEMO_CASES, DEMO_FIXTURE, FixturePersonRegistry, HttpPersonRegistry, PersonRegistry
from registry.config import is_production, value
from registry.demo import DemoBirthdays


def person_registry_from_settings(settings: dict[str, Any]) -> PersonRegistry:
    if url := value(settings, "BRP_URL"):
        return HttpPersonRegistry(url, value(settings, "BRP_API_KEY"), timeout=value(settings, "BRP_TIMEOUT"))
    fixture = value(settings, "BRP_FIXTURE")
    registry = FixturePersonRegistry(fixture)
    if Path(fixture).resolve() == DEMO_FIXTURE.resolve() and not is_production(settings):
        return DemoBirthdays(registry, json.loads(DEMO_CASES.read_text()))  # type: ignore[return-value]
    return registry


def person_registry() -> PersonRegistry:
    return current_app.extensions["steunregister.brp"]
