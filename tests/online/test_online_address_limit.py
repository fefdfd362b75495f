"""The per-address limit holds for anyone, logged in or not, on the pages and on the API."""

from __future__ import annotations

import pytest

from registry.problems import PROBLEM_BASE
from tests.auth.helpers import auth_header, bearer_token
from tests.conftest import bsn


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATE_LIMIT_PER_ADDRESS": "3 per minute"}


def test_the_start_page_is_limited_per_address(client, session, open_tk2025):
    assert [client.get("/verklaren/").status_code for _ in range(4)] == [200, 200, 200, 429]
    other = client.get("/verklaren/", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200  # another address is not affected


def test_the_api_answers_429_as_a_problem(client, session, open_tk2025):
    token = bearer_token(client, f"bsn:{bsn('voter_haarlem_1')}")
    answers = [client.get("/api/v1/me/declarations", headers=auth_header(token)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.mimetype == "application/problem+json" and limited.headers["Retry-After"]
    assert limited.get_json()["type"] == PROBLEM_BASE + "too-many-requests"
