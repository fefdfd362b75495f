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

import threading
from collections.abc import Iterator
from contextlib import contextmanager


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
