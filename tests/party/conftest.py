"""Fixtures for the party pages: TK2025 with its window around now; progress at most 0.5 s stale."""

from __future__ import annotations

import pytest

from tests.online.helpers import forget_g_after_each_request, open_window


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PROGRESS_MAX_AGE": "0.5"}


@pytest.fixture(autouse=True)
def _one_g_per_request(app):
    forget_g_after_each_request(app)


@pytest.fixture
def open_tk2025(session, tk2025):
    open_window(session, online=True)
    return tk2025
