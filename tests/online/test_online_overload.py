"""Under load the voter gets an honest answer and never a lost or doubled confirmation: rate limits
(429, logged without a BSN), a full concurrency guard or an unreachable database (503, Retry-After,
"try again at HH:MM"), and a retry of the same confirmation that records exactly once."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy.exc import OperationalError

from registry.online import routes as online_routes
from registry.online.services import GUARD_EXTENSION
from tests.conftest import bsn
from tests.online.helpers import CHOOSE, choose, confirm_data, declarations, html, voter


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATE_LIMIT_PER_SESSION": "3 per minute", "RATE_LIMIT_PER_ADDRESS": "1000 per minute",
            "ONLINE_MAX_CONCURRENT": "2", "ONLINE_BUSY_RETRY_AFTER": "90"}


def busy(response) -> str:
    text = html(response)
    assert response.status_code == 503 and response.headers["Retry-After"] == "90"
    assert re.search(r"Het is nu erg druk\. Probeer het om \d\d:\d\d opnieuw\.", text), text
    return text


def retry(browser, busy_page: str):
    """Press "Opnieuw proberen" on the busy page: the very same confirmation once more."""
    fields = dict(re.findall(r'name="(csrf_token|list_id|submission|list_version|understood)"[^>]*value="([^"]*)"',
                             busy_page))
    assert set(fields) == {"csrf_token", "list_id", "submission", "list_version", "understood"}
    return browser.post(f"{CHOOSE}vastleggen", data=fields)


def test_a_full_guard_answers_busy_and_the_retry_records_once(app, session, open_tk2025):
    browser = voter(app, "voter_haarlem_1")
    data = confirm_data(html(choose(browser, "Volt")))
    guard = app.extensions[GUARD_EXTENSION]
    taken = [guard.try_acquire() for _ in range(guard.size)]
    assert all(taken) and not guard.try_acquire()
    try:
        page = busy(browser.post(f"{CHOOSE}vastleggen", data=data))
        assert "niet</strong> vastgelegd" in page and declarations() == 0
    finally:
        for _ in taken:
            guard.release()
    done = retry(browser, page)
    assert done.status_code == 303
    again = retry(browser, page)
    assert again.status_code == 303 and again.location == done.location
    assert declarations() == 1


def test_an_unreachable_database_answers_busy_and_never_records_twice(app, session, open_tk2025, monkeypatch):
    browser = voter(app, "voter_haarlem_2")
    data = confirm_data(html(choose(browser, "DENK")))
    real = online_routes.record_outcome

    def dies_after_commit(*args, **kwargs):
        real(*args, **kwargs)  # the declaration and its idempotency answer are committed ...
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))  # ... then the line drops

    monkeypatch.setattr(online_routes, "record_outcome", dies_after_commit)
    busy(browser.post(f"{CHOOSE}vastleggen", data=data))
    monkeypatch.setattr(online_routes, "record_outcome", real)
    done = browser.post(f"{CHOOSE}vastleggen", data=data)  # the voter tries again: the first outcome, once
    assert done.status_code == 303 and "ontvangstbewijs" in done.location
    assert declarations() == 1


def test_a_database_that_is_down_before_anything_is_written_frees_the_retry(app, session, open_tk2025,
                                                                             monkeypatch):
    from registry.declarations import services

    browser = voter(app, "voter_haarlem_3")
    data = confirm_data(html(choose(browser, "Volt")))

    def down(*_args, **_kwargs):
        raise OperationalError("BEGIN", {}, Exception("connection refused"))

    monkeypatch.setattr(services, "_version_and_answer", down)  # the recording core's first round trip
    busy(browser.post(f"{CHOOSE}vastleggen", data=data))
    monkeypatch.undo()
    assert browser.post(f"{CHOOSE}vastleggen", data=data).status_code == 303
    assert declarations() == 1


def test_a_database_error_on_a_page_is_a_busy_page_not_a_500(app, session, open_tk2025, monkeypatch):
    browser = voter(app, "voter_haarlem_1")

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT", {}, Exception("timeout"))

    monkeypatch.setattr(online_routes, "own_declarations", down)
    response = browser.get(CHOOSE)
    busy(response)
    assert response.status_code == 503 and "Traceback" not in html(response)


def test_the_rate_limit_per_login_answers_429_and_is_logged_without_the_bsn(app, session, open_tk2025, caplog):
    browser = voter(app, "voter_haarlem_1")
    caplog.set_level(logging.WARNING, logger="registry.limits")
    answers = [choose(browser, "Volt").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = choose(browser, "Volt")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "<h1>Te veel verzoeken</h1>" in html(limited)
    records = [r for r in caplog.records if r.name == "registry.limits"]
    assert records and "rate limit" in records[0].getMessage()
    assert not any(bsn("voter_haarlem_1") in r.getMessage() for r in caplog.records)
    other = voter(app, "voter_haarlem_2")  # another person is not slowed down by the first one's limit
    assert choose(other, "Volt").status_code == 200
    assert declarations() == 0
