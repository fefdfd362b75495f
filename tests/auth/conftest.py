"""Fixtures for the identity tests: the hostile issuer (one server per module, reset per test) and an
app whose relying party points at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.auth.hostile_issuer import CLIENT_ID, CLIENT_SECRET, HostileIssuer
from tests.conftest import bsn


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[HostileIssuer]:
    server = HostileIssuer(bsn("voter_haarlem_1")).start()
    yield server
    server.stop()


@pytest.fixture
def hostile(hostile_server: HostileIssuer) -> HostileIssuer:
    hostile_server.reset()
    return hostile_server


@pytest.fixture
def rp_config(app_config: dict[str, Any], hostile: HostileIssuer) -> dict[str, Any]:
    return {**app_config, "MOCK_IDP": "0", "OIDC_ISSUER": hostile.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET}


@pytest.fixture
def rp_app(rp_config: dict[str, Any]) -> Iterator[Flask]:
    """The app with its relying party pointed at the hostile issuer (real HTTP, no mock)."""
    from app import create_app
    from registry.db import db

    application = create_app(rp_config)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
