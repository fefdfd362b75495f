"""Login fixtures, re-exported by tests/conftest.py for every test.

    def test_something(login_as, api_token):
        clerk = login_as("clerk:GM0392")          # a new test client with a clerk's session
        token = api_token("bsn:999900146")        # a bearer token for /api/v1
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.auth.helpers import bearer_token, login

__all__ = ["api_token", "login_as"]


@pytest.fixture
def login_as(app: Any) -> Callable[..., Any]:
    """A factory: ``login_as(hint, acr=None)`` returns a new test client logged in as ``hint``."""

    def make(hint: str, acr: str | None = None) -> Any:
        client = app.test_client()
        response = login(client, hint, acr)
        assert response.status_code == 200, f"login as {hint} failed: {response.status_code}"
        return client

    return make


@pytest.fixture
def api_token(app: Any) -> Callable[..., str]:
    """A factory: ``api_token(hint, acr=None)`` returns an access token for /api/v1."""

    def make(hint: str, acr: str | None = None) -> str:
        return bearer_token(app.test_client(), hint, acr=acr)

    return make
