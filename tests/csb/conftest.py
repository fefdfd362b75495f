"""The CSB's tests run on their own person register: enough voters in Haarlem (kieskring 10) and
Amsterdam (kieskring 9) for a list to meet its minimum in one kieskring and fall short in another."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from registry.db import set_clock_offset, utcnow

FIRST_NAMES = ["Anna", "Bram", "Chantal", "Daan", "Eva", "Finn", "Gül", "Hidde", "Iris", "Jamal", "Karin", "Lars",
               "Mila", "Noah", "Olga", "Pieter", "Quinty", "Ruben", "Sanne", "Tijn"]


def _bsn(seed: int) -> str:
    """The seed-th nine-digit number from 700000000 up that passes the 11-proof."""
    number = 700_000_000 + seed * 13
    while True:
        digits = [int(c) for c in f"{number:09d}"]
        total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - digits[8]
        if total % 11 == 0:
            return f"{number:09d}"
        number += 1


def _person(bsn: str, index: int, municipality: str, municipality_name: str) -> dict[str, Any]:
    return {
        "burgerservicenummer": bsn,
        "naam": {"voornamen": FIRST_NAMES[index % len(FIRST_NAMES)], "geslachtsnaam": f"Testpersoon{index:03d}"},
        "geboorte": {"datum": {"type": "Datum", "datum": f"{1950 + index % 50}-0{1 + index % 9}-1{index % 9}"}},
        "nationaliteiten": [{"type": "Nationaliteit", "nationaliteit": {"code": "0001",
                                                                         "omschrijving": "Nederlandse"}}],
        "verblijfplaats": {"type": "Adres"},
        "gemeenteVanInschrijving": {"code": municipality[2:], "omschrijving": municipality_name},
    }


@pytest.fixture(scope="session")
def csb_people(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """40 voters in Haarlem and 12 in Amsterdam, with valid BSNs, written as a BRP fixture file."""
    haarlem = [_bsn(i) for i in range(40)]
    amsterdam = [_bsn(100 + i) for i in range(12)]
    persons = ([_person(b, i, "GM0392", "Haarlem") for i, b in enumerate(haarlem)]
               + [_person(b, 100 + i, "GM0363", "Amsterdam") for i, b in enumerate(amsterdam)])
    path = Path(tmp_path_factory.mktemp("brp")) / "brp_csb.json"
    path.write_text(json.dumps({"type": "RaadpleegMetBurgerservicenummer", "personen": persons}))
    names = {p["burgerservicenummer"]: f"{p['naam']['voornamen']} {p['naam']['geslachtsnaam']}" for p in persons}
    return {"path": str(path), "haarlem": haarlem, "amsterdam": amsterdam, "names": names}


@pytest.fixture
def app_config(tmp_path: Path, database_url: str, csb_people: dict[str, Any]) -> dict[str, Any]:
    from tests.conftest import base_config

    return {**base_config(tmp_path, database_url), "BRP_FIXTURE": csb_people["path"], "RATE_LIMIT_ENABLED": "0"}


class Clock:
    """Moves the registry's clock (registry.db.utcnow) to a moment of the legal calendar."""

    def travel_to(self, moment: datetime) -> None:
        set_clock_offset(timedelta(0))
        set_clock_offset(moment - utcnow())

    def reset(self) -> None:
        set_clock_offset(timedelta(0))


@pytest.fixture
def clock() -> Iterator[Clock]:
    travelled = Clock()
    yield travelled
    travelled.reset()


@pytest.fixture
def three_for_volt(app: Any, session: Any, tk2025: Any, csb_people: dict[str, Any]) -> list[int]:
    """Three paper declarations for Volt in Haarlem (kieskring 10), recorded by the municipality's
    system through the batch API, with the window open around now. Their ids, in order."""
    from sqlalchemy import select

    from registry.declarations.models import Declaration
    from registry.elections import services as elections
    from tests.auth.helpers import bearer_token
    from tests.csb.test_csb_journey import PASSPORT, api_post, list_id
    from tests.online.helpers import forget_g_after_each_request

    forget_g_after_each_request(app)
    now = utcnow()
    elections.update_settings(session, "TK2025", "test", window_opens_at=now - timedelta(days=1),
                              window_closes_at=now + timedelta(days=1))
    token = bearer_token(app.test_client(), "clerk:GM0392")
    body = {"declarations": [{"id": f"p{i}", "list": list_id("Volt"), "bsn": csb_people["haarlem"][i],
                              "identity_document": PASSPORT, "signed_at": now.isoformat()} for i in range(3)]}
    assert api_post(app.test_client(), token, "/api/v1/elections/TK2025/declarations/batch",
                    body).get_json()["recorded"] == 3
    session.rollback()
    return list(session.scalars(select(Declaration.id).order_by(Declaration.id)).all())
