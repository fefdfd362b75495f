"""Slow-body clients against gunicorn as docs/deploy.md starts it: five POSTs that announce
``Content-Length: 1000`` and send one byte filled every admission slot of the declaration API, and a
legitimate declaration got 503. Now the token is checked before the body is read and a slot taken:
an anonymous slow body is answered 401 at once; a slow body with a valid token holds no slot either,
and reading it has a deadline (STEUNREGISTER_BODY_TIMEOUT), after which the answer is 408 and the
connection is closed."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.support.servers import Http

SLOW = 5
DEADLINE = 3


def slow_post(url: str, path: str, token: str | None) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    auth = f"Authorization: Bearer {token}\r\nIdempotency-Key: slow-{time.monotonic_ns()}\r\n" if token else ""
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n{auth}"
                 "Content-Length: 1000\r\n\r\n{".encode())
    return sock


def reply(sock: socket.socket, until_closed: bool) -> str:
    """The answer's head and body; with ``until_closed`` everything until the server closes (it must)."""
    data = b""
    while (chunk := sock.recv(4096)) and (until_closed or b"}" not in data + chunk):
        data += chunk
    data += chunk
    sock.close()
    return data.decode("latin-1")


@pytest.mark.parametrize("authenticated", [False, True])
def test_slow_bodies_hold_no_slot(deployment, authenticated):
    (server,) = deployment.start(1, workers=1, threads=SLOW + 4, API_MAX_CONCURRENT="2", API_QUEUE="0",
                                 BODY_TIMEOUT=str(DEADLINE))
    token = deployment.system if authenticated else None
    started = time.monotonic()
    slow = [slow_post(server.url, deployment.declarations, token) for _ in range(SLOW)]
    time.sleep(0.5)  # they are all inside
    legitimate = Http(server.url).post_json(deployment.declarations, deployment.counter_body(deployment.voters[0]),
                                            deployment.api(deployment.clerk))
    assert legitimate.status == 201, legitimate.text  # 503 "busy" before: the slow ones held every slot
    assert time.monotonic() - started < DEADLINE
    for sock in slow:
        answer = reply(sock, until_closed=authenticated)
        if authenticated:  # read until the deadline, then 408 and closed, not left waiting for 999 bytes
            assert answer.startswith("HTTP/1.1 408"), answer
            assert "application/problem+json" in answer and "duurde te lang" in answer
        else:  # refused on its token alone: its body is never read
            assert answer.startswith("HTTP/1.1 401"), answer
            assert "unauthenticated" in answer
    elapsed = time.monotonic() - started
    assert (DEADLINE <= elapsed < DEADLINE + 7) if authenticated else elapsed < DEADLINE
    again = Http(server.url).post_json(deployment.declarations, deployment.counter_body(deployment.voters[1]),
                                       deployment.api(deployment.clerk))
    assert again.status == 201, again.text
