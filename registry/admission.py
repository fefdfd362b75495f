"""Admission control: a bounded number of slots per process for the work that costs the most.

A request that finds every slot taken is not queued (that only makes everyone wait longer, and a
queue in front of a saturated process is how a burst turns into minutes of latency and retry storms)
but answered at once with 503 and Retry-After. Nothing has been recorded at that point, so a retry is
always safe. Used by the online confirmation (ONLINE_MAX_CONCURRENT) and the declaration API
(API_MAX_CONCURRENT). It sheds load only where requests reach the app while others are in flight:
under gunicorn's gthread worker (GUNICORN_THREADS > 1), not under one-request-at-a-time sync workers.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any


class Busy(Exception):
    """Every slot is taken, or the database did not answer in time."""


class SlotGuard:
    """At most ``size`` holders at once. With ``queue`` > 0, up to that many more may wait, each at most
    ``wait`` seconds, for a slot to come free; anyone beyond that is refused at once, never queued. A
    short, bounded wait absorbs the unevenness of ordinary traffic; refusing beyond it keeps a burst
    from growing a queue that makes everyone late."""

    def __init__(self, size: int, queue: int = 0, wait: float = 0.0) -> None:
        self.size = size
        self.queue = queue
        self.wait = wait
        self._semaphore = threading.BoundedSemaphore(size)
        self._waiting = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        if self._semaphore.acquire(blocking=False):
            return True
        if self.queue <= 0 or self.wait <= 0:
            return False
        with self._lock:
            if self._waiting >= self.queue:
                return False
            self._waiting += 1
        try:
            return self._semaphore.acquire(timeout=self.wait)
        finally:
            with self._lock:
                self._waiting -= 1

    def release(self) -> None:
        self._semaphore.release()

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self.try_acquire():
            raise Busy("all slots are taken")
        try:
            yield
        finally:
            self.release()


class AdmissionMiddleware:
    """WSGI, in front of Flask: a POST to a path in ``paths`` takes a slot for as long as the app works
    on it. With every slot taken the answer is a fixed 503 problem+json with Retry-After, made without
    a request context, session, token check or database: refusing must cost far less than serving,
    or a burst still queues up behind the refusals (measured in bench/run.py, scenario burst)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], guard: SlotGuard, paths: str,
                 problem: dict[str, Any], retry_after: int, security_headers: Callable[[], list[tuple[str, str]]]):
        self.app = app
        self.guard = guard
        self.paths = re.compile(paths)
        self.body = json.dumps(problem, ensure_ascii=False).encode()
        self.retry_after = str(retry_after)
        self.security_headers = security_headers

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or not self.paths.match(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        if not self.guard.try_acquire():
            start_response("503 SERVICE UNAVAILABLE", [
                ("Content-Type", "application/problem+json"), ("Content-Length", str(len(self.body))),
                ("Retry-After", self.retry_after), ("Cache-Control", "no-store"), *self.security_headers()])
            return [self.body]
        try:
            # The API's answers are built whole before they are returned, so the work ends here.
            return self.app(environ, start_response)
        finally:
            self.guard.release()


def fresh_nonce() -> str:
    return secrets.token_urlsafe(16)
