"""Admission control: a bounded number of slots per process for the work that costs the most.

A request that finds every slot taken is not queued (that only makes everyone wait longer, and a
queue in front of a saturated process is how a burst turns into minutes of latency and retry storms)
but answered at once with 503 and Retry-After. Nothing has been recorded at that point, so a retry is
always safe. Used by the online confirmation (ONLINE_MAX_CONCURRENT) and the declaration API
(API_MAX_CONCURRENT), in both cases only after the login or token is checked and the body is read, so
an anonymous or slow client never holds a slot. It sheds load only where requests reach the app while
others are in flight: under gunicorn's gthread worker (GUNICORN_THREADS > 1), not under sync workers.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from registry.problems import PROBLEM_MEDIA_TYPE, problem_type
from registry.security import security_headers

BUSY_RETRY_AFTER_SECONDS = 1  # a full house clears in milliseconds; clients spread their retries
BUSY_TITLE = "Even te druk"
BUSY_DETAIL = ("Er worden nu te veel verklaringen tegelijk verwerkt. Er is niets vastgelegd. Probeer het over "
               f"{BUSY_RETRY_AFTER_SECONDS} seconde opnieuw.")


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
        self._held = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        if self._semaphore.acquire(blocking=False):
            return self._taken()
        if self.queue <= 0 or self.wait <= 0:
            return False
        with self._lock:
            if self._waiting >= self.queue:
                return False
            self._waiting += 1
        try:
            return self._semaphore.acquire(timeout=self.wait) and self._taken()
        finally:
            with self._lock:
                self._waiting -= 1

    def _taken(self) -> bool:
        with self._lock:
            self._held += 1
        return True

    def release(self) -> None:
        with self._lock:
            self._held -= 1
        self._semaphore.release()

    def saturated(self) -> bool:
        """Every slot held and no place left to wait: one more would be refused at once."""
        with self._lock:
            return self._held >= self.size and (self.queue <= 0 or self.wait <= 0 or self._waiting >= self.queue)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self.try_acquire():
            raise Busy("all slots are taken")
        try:
            yield
        finally:
            self.release()


class Shedder:
    """WSGI, outermost: a declaration request that finds this process saturated (every slot held, no place to
    wait) is answered 503 + Retry-After before gunicorn's thread reaches Flask, the token check or the body.
    In a burst most requests must be refused; refused here, each costs a few microseconds instead of a full
    trip through Flask, so the slots keep the CPU they need to record. Anything else passes through; so does
    a request without credentials, which Flask answers 401 (an anonymous client never learns how busy we are)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], guard: SlotGuard, paths: re.Pattern[str]) -> None:
        self.app = app
        self.guard = guard
        self.paths = paths
        body = {"type": problem_type("busy"), "title": BUSY_TITLE, "status": 503, "detail": BUSY_DETAIL}
        self.body = json.dumps(body, ensure_ascii=False).encode()
        self.headers = [("Content-Type", PROBLEM_MEDIA_TYPE), ("Content-Length", str(len(self.body))),
                        ("Retry-After", str(BUSY_RETRY_AFTER_SECONDS)), ("Cache-Control", "no-store"),
                        *security_headers("-")]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (environ.get("REQUEST_METHOD") == "POST" and self.guard.saturated() and environ.get("HTTP_AUTHORIZATION")
                and self.paths.fullmatch(environ.get("PATH_INFO", ""))):
            start_response("503 Service Unavailable", list(self.headers))
            return [self.body]
        return self.app(environ, start_response)
