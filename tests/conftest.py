"""Shared fixtures. Tests that use ``app`` run twice: on SQLite and on a real PostgreSQL.

The PostgreSQL server is started once per run (initdb into a temporary folder, pg_ctl start); a
machine that cannot start it fails the run. ``STEUNREGISTER_TEST_BACKENDS=sqlite`` narrows a local
run to SQLite; CI never sets it.
"""

from __future__ import annotations

import base64
import itertools
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from tests.support.postgres import PostgresServer

AMS = ZoneInfo("Europe/Amsterdam")
PROJECT = Path(__file__).resolve().parent.parent
EML = PROJECT / "registry" / "data" / "eml"
TEST_MASTER_KEY = base64.b64encode(b"k" * 32).decode()
BACKENDS = [b for b in os.environ.get("STEUNREGISTER_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
_counter = itertools.count()


def base_config(tmp_path: Path, database_url: str) -> dict[str, Any]:
    return {
        "ENV": "test",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "MASTER_KEY": TEST_MASTER_KEY,
        "SECRET_KEY": "test-secret-key",
        # Race tests run many requests at once in one process; admission control has a test of its own.
        "API_MAX_CONCURRENT": "64",
    }


def _migrate(config: dict[str, Any]) -> None:
    from flask_migrate import upgrade

    from app import create_app
    from registry.db import db

    app = create_app(config)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()  # raises: a PostgreSQL that cannot start fails the run
    yield server
    server.remove()


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Migrate one template per backend with `upgrade` (never create_all); tests copy it."""
    templates: dict[str, Any] = {}
    base = tmp_path_factory.mktemp("templates")
    if "sqlite" in BACKENDS:
        path = base / "template.sqlite"
        _migrate(base_config(base, f"sqlite:///{path}"))
        templates["sqlite"] = path
    if "postgresql" in BACKENDS:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        server.execute("CREATE DATABASE steun_template")
        _migrate(base_config(base, server.url_for("steun_template")))
        templates["postgresql"] = server
    return templates


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, database_templates: dict[str, Any], tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copy(database_templates["sqlite"], path)
        return f"sqlite:///{path}"
    server: PostgresServer = database_templates["postgresql"]
    name = f"steun_test_{os.getpid()}_{next(_counter)}"
    server.execute(f"CREATE DATABASE {name} TEMPLATE steun_template")
    return server.url_for(name)


@pytest.fixture
def app_config(tmp_path: Path, database_url: str) -> dict[str, Any]:
    return base_config(tmp_path, database_url)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    from app import create_app
    from registry.db import db

    application = create_app(app_config)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def session(app: Flask) -> Any:
    from registry.db import db

    return db.session


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def cli(app: Flask) -> Any:
    return app.test_cli_runner()


# --- elections ----------------------------------------------------------------------------------

def import_eml(session: Any, name: str) -> Any:
    from registry.elections.services import import_file

    return import_file(session, (EML / name).read_bytes(), name, "test")


@pytest.fixture
def tk2025(session: Any) -> Any:
    """The real TK2025 definition with the real Haarlem lists (kieskring 10)."""
    from registry.elections.services import get_election

    import_eml(session, "Verkiezingsdefinitie_TK2025.eml.xml")
    import_eml(session, "Kandidatenlijsten_TK2025_Haarlem.eml.xml")
    return get_election(session, "TK2025")


# Inside the TK2025 window (1 September 00:00 – 15 September 17:00, Europe/Amsterdam).
TK2025_OPEN = datetime(2025, 9, 10, 12, 0, tzinfo=AMS)


# --- people from the demo BRP fixture -----------------------------------------------------------

def _cases() -> dict[str, str]:
    import json

    return json.loads((PROJECT / "registry" / "data" / "brp_demo_cases.json").read_text())


CASES = _cases()


def bsn(case: str) -> str:
    """The BSN of a named edge case of the demo fixture (registry/data/brp_demo_cases.json)."""
    return CASES[case]

from tests.auth.fixtures import *  # noqa: E402, F403
