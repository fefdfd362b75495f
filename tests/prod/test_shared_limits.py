"""Rate limits across instances: with Redis configured every instance counts against one limit; with
the in-memory default each counts on its own (docs/deploy.md §4)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.prod.conftest import Deployment
from tests.support.postgres import free_port
from tests.support.servers import Http

LIMIT = 6  # per minute per address, for this test only
PAGE = "/verklaren/"  # the voters' start page: limited per address


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A Redis server of this test's own (Debian's redis-server; scripts/test.sh installs it)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: scripts/test.sh installs Debian's redis-server"
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def statuses(deployment: Deployment, **storage: str) -> list[int]:
    """LIMIT requests spread over two instances, then one more on each."""
    a, b = deployment.start(2, workers=2, threads=1, RATE_LIMIT_ENABLED="1",
                            RATE_LIMIT_PER_ADDRESS=f"{LIMIT} per minute", **storage)
    first, second = Http(a.url), Http(b.url)
    answers = [(first if i % 2 else second).get(PAGE).status for i in range(LIMIT)]
    return [*answers, first.get(PAGE).status, second.get(PAGE).status]


def test_with_redis_two_instances_share_one_limit(deployment: Deployment, redis_url: str):
    answers = statuses(deployment, RATE_LIMIT_STORAGE=redis_url)
    assert answers == [200] * LIMIT + [429, 429], deployment.logs()


def test_in_memory_each_worker_counts_on_its_own(deployment: Deployment):
    # The contrast that makes the test above mean something: without Redis the same requests pass.
    answers = statuses(deployment)
    assert answers == [200] * (LIMIT + 2), deployment.logs()
