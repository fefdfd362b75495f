"""Admission control: a bounded number of slots per process for the work that costs the most.

A request that finds every slot taken is not queued (that only makes everyone wait longer, and a
queue in front of a saturated process is how a burst turns into minutes of latency and retry storms)
but answered at once with 503 and Retry-After. Nothing has been recorded at that point, so a retry is
always safe. Used by the online confirmation (ONLINE_MAX_CONCURRENT) and the declaration API
(API_MAX_CONCURRENT). It sheds load only where requests reach the app while others are in flight:
under gunicorn's gthread worker (GUNICORN_THREADS > 1), not under one-request-at-a-time sync workers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Busy(Exception):
    """Every slot is taken, or the database did not answer in time."""


class SlotGuard:
    """A bounded semaphore: at most ``size`` holders at once; one more is refused, never queued."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._semaphore = threading.BoundedSemaphore(size)

    def try_acquire(self) -> bool:
        return self._semaphore.acquire(blocking=False)

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
