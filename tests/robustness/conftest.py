"""Fixtures for the robustness tests: TK2025 open (online too), no rate limits in the way of the
fuzzer, and one ``g`` per request so several test clients can each submit forms."""

from __future__ import annotations

from typing import Any

import pytest

from tests.online.helpers import forget_g_after_each_request, open_window


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # The fuzzer sends hundreds of requests from one address; a 429 would hide what the views do.
    return {**app_config, "RATE_LIMIT_ENABLED": "0"}


@pytest.fixture(autouse=True)
def _one_g_per_request(request: pytest.FixtureRequest) -> None:
    if "app" in request.fixturenames:  # tests without an app (pure functions) run once, not per backend
        forget_g_after_each_request(request.getfixturevalue("app"))


@pytest.fixture
def open_tk2025(session: Any, tk2025: Any) -> Any:
    open_window(session, online=True)
    return tk2025
