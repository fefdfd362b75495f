"""The slot guard behind the declaration API's admission control (registry/admission.py)."""

from __future__ import annotations

import threading
import time

import pytest

from registry.admission import SlotGuard


def test_a_waiter_gets_a_slot_that_comes_free_in_time():
    guard = SlotGuard(1, queue=1, wait=2.0)
    assert guard.try_acquire()
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(guard.try_acquire()))
    waiter.start()
    time.sleep(0.1)
    guard.release()
    waiter.join(timeout=5)
    assert got == [True]


def test_beyond_the_queue_the_answer_is_no_at_once_and_a_waiter_gives_up_after_its_wait():
    guard = SlotGuard(1, queue=1, wait=0.5)
    assert guard.try_acquire()
    got: list[tuple[bool, float]] = []

    def wait_in_queue() -> None:
        started = time.monotonic()
        got.append((guard.try_acquire(), time.monotonic() - started))

    waiter = threading.Thread(target=wait_in_queue)
    waiter.start()
    time.sleep(0.1)  # the queue's one place is taken now
    started = time.monotonic()
    assert guard.try_acquire() is False
    assert time.monotonic() - started < 0.05  # refused at once, not after a wait
    waiter.join(timeout=5)
    assert got[0][0] is False and got[0][1] >= 0.45  # nobody released: the waiter gave up after its wait
    guard.release()
    assert guard.try_acquire()  # the slot is whole again


def test_without_a_queue_a_full_guard_refuses_at_once():
    guard = SlotGuard(2)
    assert guard.try_acquire() and guard.try_acquire()
    assert guard.try_acquire() is False


def test_a_limit_that_is_not_a_number_stops_the_start(tmp_path):
    from app import create_app
    from tests.conftest import base_config

    config = {**base_config(tmp_path, f"sqlite:///{tmp_path / 'r.db'}"), "API_QUEUE": "veel"}
    with pytest.raises(RuntimeError, match="STEUNREGISTER_API_QUEUE must be a whole number"):
        create_app(config)
