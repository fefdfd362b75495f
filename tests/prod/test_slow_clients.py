"""Slow-body clients against gunicorn as docs/deploy.md starts it: five POSTs that announce
``Content-Length: 1000`` and send one byte filled every admission slot of the declaration API, and a
legitimate declaration got 503. Now a slot is taken only after the token is checked and the body read,
and reading a body has a deadline (STEUNREGISTER_BODY_TIMEOUT), after which the answer is 408 and the
connection is closed."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.support.servers import Http

SLOW = 5


def slow_post(url: str, path: str, token: str | None) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    auth = f"Authorization: Bearer {token}\r\nIdempotency-Key: slow-{time.monotonic_ns()}\r\n" if token else ""
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n{auth}"
                 "Content-Length: 1000\r\n\r\n{".encode())
    return sock


def answer_then_close(sock: socket.socket) -> str:
    """Everything the server sends until it closes the connection (it must, within the socket's timeout)."""
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    sock.close()
    return data.decode("latin-1")


@pytest.mark.parametrize("authenticated", [False, True])
def test_slow_bodies_hold_no_slot_and_time_out(deployment, authenticated):
    (server,) = deployment.start(1, workers=1, threads=SLOW + 4, API_MAX_CONCURRENT="2", API_QUEUE="0",
                                 BODY_TIMEOUT="3")
    token = deployment.system if authenticated else None
    started = time.monotonic()
    slow = [slow_post(server.url, deployment.declarations, token) for _ in range(SLOW)]
    time.sleep(0.5)  # they are all inside, reading their body
    legitimate = Http(server.url).post_json(deployment.declarations, deployment.counter_body(deployment.voters[0]),
                                            deployment.api(deployment.clerk))
    assert legitimate.status == 201, legitimate.text  # 503 "busy" before: the slow ones held every slot
    assert time.monotonic() - started < 3
    for sock in slow:
        sock.settimeout(10)
        reply = answer_then_close(sock)  # closed by the server, not left waiting for the other 999 bytes
        assert reply.startswith("HTTP/1.1 408"), reply
        assert "application/problem+json" in reply and "duurde te lang" in reply
    assert 3 <= time.monotonic() - started < 10  # bounded by the deadline, not by the client
    again = Http(server.url).post_json(deployment.declarations, deployment.counter_body(deployment.voters[1]),
                                       deployment.api(deployment.clerk))
    assert again.status == 201, again.text
