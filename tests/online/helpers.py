"""Driving the online pages and the party pages the way a browser would, without one."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event, func, select

from registry.db import db, utcnow
from registry.declarations.models import Declaration
from registry.elections import services as elections
from registry.elections.models import CandidateList
from tests.auth.helpers import with_params
from tests.conftest import bsn

START = "/verklaren/"
CHOOSE = "/verklaren/TK2025/"
LEGAL_BASIS = "Experimentenwet online ondersteuning (test)"


def open_window(session: Any, online: bool = True) -> None:
    """TK2025's window moved around now (the real clock is inside it); the online channel as asked."""
    now = utcnow()
    elections.update_settings(session, "TK2025", "test", window_opens_at=now - timedelta(days=1),
                              window_closes_at=now + timedelta(days=1), online_open=online,
                              online_legal_basis=LEGAL_BASIS)


def html(response: Any) -> str:
    return response.get_data(as_text=True)


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page).group(1)


def list_value(page: str, designation: str) -> str:
    return re.search(rf'value="(\d+)"[^>]*>\s*<label[^>]*>(?:Lijst|List) \d+: {re.escape(designation)}<', page).group(1)


def list_id(designation: str) -> int:
    return db.session.scalar(select(CandidateList.id).where(CandidateList.designation == designation))


def digid_login(client: Any, case: str, next_url: str = CHOOSE, acr: str | None = None) -> Any:
    """Press "Inloggen met DigiD" on the start page; the mock DigiD logs in as ``case``; the browser
    comes back at ``next_url``. Returns the callback's answer (a redirect, or the refusal page)."""
    start = client.get("/login/digid", query_string={"next": next_url})
    assert start.status_code == 302, start.status_code
    extra = {"acr_values": acr} if acr else {}
    authorize = client.get(with_params(start.location, login_hint=f"bsn:{bsn(case)}", **extra))
    assert authorize.status_code == 302, html(authorize)[:300]
    return client.get(authorize.location)


def voter(app: Any, case: str) -> Any:
    """A new browser, logged in with DigiD as ``case``, on the choose page's URL."""
    client = app.test_client()
    callback = digid_login(client, case)
    assert callback.status_code == 302 and urlsplit(callback.location).path == CHOOSE, callback.location
    return client


def choose(client: Any, designation: str) -> Any:
    """Step 1: pick a list on the choose page; returns the confirmation page."""
    page = html(client.get(CHOOSE))
    return client.post(f"{CHOOSE}bevestigen", data={"csrf_token": csrf(page), "list_id": list_value(page, designation)})


def confirm_data(confirm_page: str, tick: bool = True) -> dict[str, str]:
    data = {"csrf_token": csrf(confirm_page), "list_id": hidden(confirm_page, "list_id"),
            "submission": hidden(confirm_page, "submission"), "list_version": hidden(confirm_page, "list_version")}
    if tick:
        data["understood"] = "y"
    return data


def declare(client: Any, designation: str) -> Any:
    """Steps 1–3: choose, tick, confirm; returns the answer to the confirmation (303 to the receipt)."""
    confirm_page = choose(client, designation)
    assert confirm_page.status_code == 200, html(confirm_page)[:500]
    return client.post(f"{CHOOSE}vastleggen", data=confirm_data(html(confirm_page)))


def declarations() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Declaration))


class CountingQueries:
    """Counts the statements that aggregate over the declarations table (GROUP BY or count)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def __enter__(self) -> CountingQueries:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = statement.lower()
        if "from declarations" in text and ("group by" in text or "count(" in text):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


def forget_g_after_each_request(app: Any) -> None:
    """tests/conftest.py keeps one app context open for the whole test, and Flask reuses an open app
    context (and its ``g``) for every request of that app; in production each request gets its own.
    Flask-WTF caches the CSRF token in ``g``, so without this a second browser (test client) would
    be handed the first browser's token and its form would be refused."""

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        from flask import g

        g.__dict__.clear()
