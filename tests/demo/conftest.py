"""The demo election, loaded as ``flask demo load`` does, and the registry's clock back to real time
after each test: the demo clock is process-wide, the next test starts on real time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from registry.db import set_clock_offset
from registry.elections.models import Election
from tests.online.helpers import forget_g_after_each_request


@pytest.fixture(autouse=True)
def _real_clock(app: Any) -> Any:
    forget_g_after_each_request(app)
    set_clock_offset(timedelta(0))
    yield
    set_clock_offset(timedelta(0))


@pytest.fixture
def demo(cli: Any, session: Any) -> Election:
    result = cli.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    election = session.scalar(select(Election).where(Election.identifier.endswith("_DEMO")))
    session.rollback()
    return election


def advance(cli: Any, *args: str) -> str:
    """``flask demo advance ARGS``; its output. ``advance(cli, "--to", "repair-1")``."""
    result = cli.invoke(args=["demo", "advance", *args])
    assert result.exit_code == 0, result.output
    return result.output
