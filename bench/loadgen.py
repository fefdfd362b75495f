"""A small HTTP load generator: forked processes, each with threads on keep-alive connections.

    outcomes = closed_loop(target, make_request, concurrency=16, seconds=10)   # as fast as answered
    outcomes = open_loop(target, make_request, rate=1000, seconds=30)          # a fixed offered rate

``make_request(index)`` returns (method, path, headers, body) for the index-th request of the run
(indices are unique across every process and thread, so each request can take its own voter). Only the
standard library is used (http.client), so it runs wherever the app runs. Latencies are measured from
the moment a request was due (open loop) or sent (closed loop), so a server that falls behind shows it
in the numbers instead of slowing the generator down ("coordinated omission").
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Request = tuple[str, str, dict[str, str], bytes | None]
NOT_SENT = -1  # status of an open-loop request that was overdue by LATE_LIMIT before a thread was free
LATE_LIMIT = 2.0
MakeRequest = Callable[[int], Request | None]  # None: nothing left to send (e.g. out of voters)


@dataclass(frozen=True)
class Outcome:
    due: float  # seconds after the start of the run
    latency: float  # seconds from due to the end of the answer
    status: int  # 0: no answer (connection refused, reset or timed out); NOT_SENT: see LATE_LIMIT
    retry_after: bool  # the answer carried Retry-After
    locked: bool  # the body mentioned "database is locked" (SQLite's error reaching a client)
    ident: int | None  # the "id" of a 201 JSON answer (a declaration's id), to look it up afterwards


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    timeout: float = 10.0


def _one(connection: http.client.HTTPConnection | None, target: Target, request: Request,
         keep_ids: bool) -> tuple[http.client.HTTPConnection | None, int, bool, bool, int | None]:
    method, path, headers, body = request
    if connection is None:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=target.timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        status = response.status
        retry_after = response.getheader("Retry-After") is not None
        if response.will_close:
            connection.close()
            connection = None
    except (OSError, http.client.HTTPException):
        connection.close()
        return None, 0, False, False, None
    locked = status >= 400 and b"database is locked" in data
    ident = None
    if keep_ids and status == 201:
        try:
            ident = int(json.loads(data)["id"])
        except (ValueError, KeyError, TypeError):
            ident = None
    return connection, status, retry_after, locked, ident


def _worker(target: Target, make: MakeRequest, next_index: Callable[[], int], start: float, stop: float,
            rate: float | None, keep_ids: bool, sink: list[tuple[Any, ...]]) -> None:
    connection = None
    while True:
        index = next_index()  # shared by the process's threads: a free thread takes the next request due
        if rate is None:
            due = time.perf_counter()
            if due >= stop:
                break
        else:
            due = start + index / rate
            if due >= stop:
                break
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        request = make(index)
        if request is None:
            break
        late = time.perf_counter() - due
        if rate is not None and late > LATE_LIMIT:
            # Every thread was waiting on the server when this one was due: a real client would have
            # waited this long already. Counted as unanswered, not sent (or the run would never end).
            sink.append((due - start, late, NOT_SENT, False, False, None))
            continue
        connection, status, retry_after, locked, ident = _one(connection, target, request, keep_ids)
        sink.append((due - start, time.perf_counter() - due, status, retry_after, locked, ident))
    if connection is not None:
        connection.close()


def _process(target: Target, make: MakeRequest, process: int, processes: int, threads: int, start: float,
             stop: float, rate: float | None, keep_ids: bool, queue: Any) -> None:
    sink: list[tuple[Any, ...]] = []  # list.append is atomic under the GIL
    lock = threading.Lock()
    counter = iter(range(process, 1 << 62, processes))  # this process's share of the indices

    def next_index() -> int:
        with lock:
            return next(counter)

    workers = [threading.Thread(target=_worker, args=(target, make, next_index, start, stop, rate, keep_ids, sink),
                                daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(sink)


def _run(target: Target, make: MakeRequest, threads_total: int, seconds: float, rate: float | None,
         processes: int, keep_ids: bool) -> list[Outcome]:
    context = multiprocessing.get_context("fork")  # make_request may be a closure: fork keeps it
    queue = context.Queue()
    processes = max(1, min(processes, threads_total))
    threads = max(1, threads_total // processes)
    start = time.perf_counter() + 0.5  # every process starts on the same clock (perf_counter is system-wide)
    stop = start + seconds
    children = [context.Process(target=_process, args=(target, make, p, processes, threads, start, stop, rate,
                                                       keep_ids, queue)) for p in range(processes)]
    for child in children:
        child.start()
    wait = start - time.perf_counter()
    if wait > 0:
        time.sleep(wait)
    results: list[Outcome] = []
    for _ in children:
        results.extend(Outcome(*row) for row in queue.get())
    for child in children:
        child.join()
    return results


def closed_loop(target: Target, make: MakeRequest, concurrency: int, seconds: float, processes: int = 2,
                keep_ids: bool = False) -> list[Outcome]:
    """``concurrency`` clients, each sending its next request as soon as the previous one is answered."""
    return _run(target, make, concurrency, seconds, None, processes, keep_ids)


def open_loop(target: Target, make: MakeRequest, rate: float, seconds: float, threads: int = 256,
              processes: int = 2, keep_ids: bool = False) -> list[Outcome]:
    """``rate`` requests per second, each sent when due, or as soon as a thread is free after that; one
    that is still waiting for a thread LATE_LIMIT seconds after it was due is counted NOT_SENT."""
    return _run(target, make, threads, seconds, rate, processes, keep_ids)


# --- summaries ------------------------------------------------------------------------------------------

def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@dataclass(frozen=True)
class Summary:
    requests: int
    seconds: float
    ok: int  # 2xx
    per_second: float  # 2xx per second over the run
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int]
    without_retry_after: int  # 503s without a Retry-After header
    locked: int
    slower_than_1s: int

    def line(self) -> str:
        return (f"{self.per_second:,.0f}/s ok, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, "
                f"max {self.max_ms:.0f} ms, statuses {dict(sorted(self.statuses.items()))}")


def summarise(outcomes: Sequence[Outcome], seconds: float) -> Summary:
    statuses: dict[int, int] = {}
    for outcome in outcomes:
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
    ok = sum(1 for o in outcomes if 200 <= o.status < 300)
    latencies = [o.latency * 1000 for o in outcomes if 200 <= o.status < 300] or [o.latency * 1000 for o in outcomes]
    return Summary(
        requests=len(outcomes), seconds=seconds, ok=ok, per_second=ok / seconds if seconds else 0.0,
        p50_ms=percentile(latencies, 0.50), p99_ms=percentile(latencies, 0.99),
        max_ms=max((o.latency * 1000 for o in outcomes), default=float("nan")), statuses=statuses,
        without_retry_after=sum(1 for o in outcomes if o.status == 503 and not o.retry_after),
        locked=sum(1 for o in outcomes if o.locked), slower_than_1s=sum(1 for o in outcomes if o.latency > 1.0),
    )
