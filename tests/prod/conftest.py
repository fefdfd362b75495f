"""The app in production shape: gunicorn instances (tests/support/servers.py) started the way
docs/deploy.md says, against the suite's databases, driven over real HTTP.

    def test_x(deployment):
        a, b = deployment.start(2)                          # two instances, one database
        answer = Http(a.url).post_json(deployment.declarations, body, deployment.api(deployment.clerk))

The BRP fixture is the demo one plus SYNTHETIC_VOTERS invented adults in Haarlem (kieskring 10, where
the Haarlem lists of TK2025 stand), so a load has a fresh voter for every declaration.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask
from sqlalchemy import select
from stdnum.nl import bsn as stdnum_bsn

from registry.db import utcnow
from registry.elections.models import CandidateList
from tests.auth.helpers import bearer_token, mock_client_secret, system_token
from tests.conftest import PROJECT
from tests.support.servers import AppServer
from tests.support.servers import Http as Http

SYNTHETIC_VOTERS = 3000
LEGAL_BASIS = "Experimentenwet online ondersteuning (test)"
PASSPORT = {"type": "paspoort", "number": "NW4K82PL1"}
T = TypeVar("T")


def synthetic_bsns(count: int, taken: set[str]) -> list[str]:
    """Valid BSNs from the top of the test range down, none of them in the demo fixture."""
    found: list[str] = []
    number = 999_999_999
    while len(found) < count:
        candidate = str(number)
        if stdnum_bsn.is_valid(candidate) and candidate not in taken:
            found.append(candidate)
        number -= 1
    return found


@pytest.fixture(scope="session")
def load_voters(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """(fixture file, the synthetic voters' BSNs): the demo persons plus adults registered in Haarlem."""
    demo = json.loads((PROJECT / "registry" / "data" / "brp_demo.json").read_text())
    taken = {person["burgerservicenummer"] for person in demo["personen"]}
    bsns = synthetic_bsns(SYNTHETIC_VOTERS, taken)
    for index, number in enumerate(bsns):
        demo["personen"].append({
            "burgerservicenummer": number,
            "naam": {"voornamen": "Proef", "geslachtsnaam": f"Kiezer {index}"},
            "geboorte": {"datum": {"type": "Datum", "datum": "1980-05-17", "langFormaat": "17 mei 1980"}},
            "nationaliteiten": [{"type": "Nationaliteit",
                                 "nationaliteit": {"code": "0001", "omschrijving": "Nederlandse"}}],
            "verblijfplaats": {"type": "Adres"},
            "gemeenteVanInschrijving": {"code": "0392", "omschrijving": "Haarlem"},
        })
    path = tmp_path_factory.mktemp("brp") / "brp_load.json"
    path.write_text(json.dumps(demo))
    return path, bsns


@pytest.fixture
def app_config(app_config: dict[str, Any], load_voters: tuple[Path, list[str]]) -> dict[str, Any]:
    return {**app_config, "BRP_FIXTURE": str(load_voters[0])}


def environment(config: dict[str, Any]) -> dict[str, str]:
    """The app's settings as the STEUNREGISTER_* variables an instance reads."""
    return {f"STEUNREGISTER_{name}": str(value) for name, value in config.items() if value is not None}


@dataclass
class Deployment:
    """TK2025 with the Haarlem lists, its window open around now and the online channel open; tokens
    for a Haarlem clerk, Haarlem's back-office system and the CSB; instances started on demand."""

    app: Flask
    session: Any
    config: dict[str, Any]
    voters: list[str]
    log_dir: Path
    clerk: str = ""
    system: str = ""
    csb: str = ""
    lists: dict[str, int] = field(default_factory=dict)
    servers: list[AppServer] = field(default_factory=list)
    declarations: str = "/api/v1/elections/TK2025/declarations"
    batch: str = "/api/v1/elections/TK2025/declarations/batch"

    def start(self, count: int = 1, workers: int = 2, threads: int = 4, **settings: str) -> list[AppServer]:
        """``count`` instances against this database, started side by side."""
        env = environment({**self.config, **settings})
        started = [AppServer(env, workers=workers, threads=threads, log_dir=self.log_dir) for _ in range(count)]
        self.servers.extend(started)
        for server in started:
            server.launch()
        for server in started:
            server.wait_ready()
        return started

    def voter_token(self, number: str) -> str:
        return bearer_token(self.app.test_client(), f"bsn:{number}")

    @staticmethod
    def api(token: str, key: str | None = "auto") -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = uuid.uuid4().hex if key == "auto" else key
        return headers

    def counter_body(self, number: str, designation: str = "Volt") -> dict[str, Any]:
        return {"list": self.lists[designation], "bsn": number, "identity_document": PASSPORT}

    def paper_item(self, item_id: str, number: str, designation: str = "DENK") -> dict[str, Any]:
        signed = (utcnow() - timedelta(hours=1)).isoformat()
        return {"id": item_id, "signed_at": signed, **self.counter_body(number, designation)}

    def logs(self) -> str:
        return "\n".join(f"--- {server.url}\n{server.log_tail(3000)}" for server in self.servers)


@pytest.fixture
def deployment(app: Flask, session: Any, tk2025: Any, app_config: dict[str, Any],
               load_voters: tuple[Path, list[str]], tmp_path: Path) -> Iterator[Deployment]:
    from registry.elections import services as elections

    now = utcnow()
    elections.update_settings(session, "TK2025", "test", window_opens_at=now - timedelta(days=1),
                              window_closes_at=now + timedelta(days=1), online_open=True,
                              online_legal_basis=LEGAL_BASIS)
    client = app.test_client()
    # Tokens come from the mock in this process; every instance verifies them with the same keys
    # (same master key, same instance folder for the mock's signing keys, made here first).
    found = Deployment(app=app, session=session, config=app_config, voters=list(load_voters[1]),
                       log_dir=tmp_path / "logs")
    found.log_dir.mkdir()
    found.clerk = bearer_token(client, "clerk:GM0392")
    found.system = system_token(client, "gemeente-GM0392", mock_client_secret(app, "gemeente-GM0392"))
    found.csb = bearer_token(client, "csb:TK2025")
    found.lists = {designation: list_id for designation, list_id in session.execute(
        select(CandidateList.designation, CandidateList.id).where(CandidateList.election_id == tk2025.id)).all()
        if designation}
    session.commit()
    try:
        yield found
    finally:
        for server in found.servers:
            server.signal_stop()
        for server in found.servers:
            server.wait_stopped()


def in_parallel(calls: list[Callable[[], T]], width: int) -> list[T]:
    """Run the calls on ``width`` threads; results in the order of ``calls``."""
    with ThreadPoolExecutor(max_workers=width) as pool:
        return list(pool.map(lambda call: call(), calls))
