"""The person register (BRP) behind one interface, shaped like Haal Centraal "BRP Personen Bevragen"
API v2 (operation RaadpleegMetBurgerservicenummer).

- Person, PersonRegistry, PersonRegistryUnavailable: what callers use (registry.brp.model).
- person_from_v2: the one mapping from a v2 person object (registry.brp.v2).
- FixturePersonRegistry: a JSON file in the v2 answer shape (development, tests, demo).
- HttpPersonRegistry: a real v2 endpoint over HTTP.

The demo file is made by scripts/make_brp_fixture.py; DEMO_CASES names its edge-case persons.
"""

from __future__ import annotations

from registry.config import DATA_DIR

from .fixture import FixturePersonRegistry
from .haal_centraal import HttpPersonRegistry
from .model import Person, PersonRegistry, PersonRegistryUnavailable
from .v2 import FIELDS, person_from_v2

DEMO_FIXTURE = DATA_DIR / "brp_demo.json"  # {"personen": [...]}: synthetic persons, edge cases first
DEMO_CASES = DATA_DIR / "brp_demo_cases.json"  # {"case name": "bsn"}

__all__ = [
    "DEMO_CASES",
    "DEMO_FIXTURE",
    "FIELDS",
    "FixturePersonRegistry",
    "HttpPersonRegistry",
    "Person",
    "PersonRegistry",
    "PersonRegistryUnavailable",
    "person_from_v2",
]
