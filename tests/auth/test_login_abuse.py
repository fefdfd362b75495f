"""Findings of the attack run against the login: a flood of anonymous login starts, and a CSRF token
planted before the login."""

from __future__ import annotations

from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from auth.models import LoginRequest
from tests.auth.helpers import login
from tests.online.helpers import forget_g_after_each_request


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "RATE_LIMIT_LOGIN": "20 per minute", "LOGIN_PENDING_MAX": "50"}


def pending(session: Any) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(LoginRequest))


def test_300_anonymous_login_starts_are_cut_off_by_the_address_limit(client, session):
    answers = [client.get("/login/digid").status_code for _ in range(300)]
    assert answers[:20] == [302] * 20
    assert set(answers[20:]) == {429}
    refused = client.get("/login/eherkenning")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "Te veel" in refused.get_data(as_text=True)
    assert pending(session) == 20


def test_pending_logins_are_capped_and_expired_ones_go_at_once(app, session):
    from datetime import timedelta

    from registry.db import utcnow

    # Many addresses (as behind a botnet): the per-address limit never triggers, the cap does.
    for number in range(120):
        client = app.test_client()
        response = client.get("/login/digid", environ_base={"REMOTE_ADDR": f"10.0.{number // 250}.{number % 250}"})
        assert response.status_code == 302
    assert pending(session) == 50
    newest = session.scalar(select(func.max(LoginRequest.created_at)))
    session.execute(LoginRequest.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert app.test_client().get("/login/digid", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302
    assert pending(session) == 1 and session.scalar(select(func.max(LoginRequest.created_at))) >= newest


def test_a_csrf_token_planted_before_the_login_is_worthless_after_it(app, client, session, tk2025):
    forget_g_after_each_request(app)
    planted = "a" * 40  # the raw token an attacker put into the victim's cookie before the login
    with client.session_transaction() as flask_session:
        flask_session["csrf_token"] = planted
    assert login(client, "clerk:GM0392").status_code == 200
    with client.session_transaction() as flask_session:
        assert flask_session.get("csrf_token") != planted
    forged = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(planted)
    response = client.post("/logout", data={"csrf_token": forged})
    assert response.status_code == 400
    assert client.get("/balie/TK2025/overzicht").status_code == 200  # still logged in: the post did nothing
