"""Fixtures for the online channel: TK2025 with its window around now and the online channel open."""

from __future__ import annotations

import pytest

from tests.online.helpers import forget_g_after_each_request, open_window


@pytest.fixture(autouse=True)
def _one_g_per_request(app):
    forget_g_after_each_request(app)


@pytest.fixture
def open_tk2025(session, tk2025):
    open_window(session, online=True)
    return tk2025
