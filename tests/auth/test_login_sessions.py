"""Server-side sessions: a random id in an HttpOnly cookie, the row in the database, timeouts, logout."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, select, update

from auth.models import AuthSession
from auth.rp import services
from registry.audit.models import AuditEvent
from registry.db import db, utcnow
from tests.auth.helpers import bearer_token, login, logout
from tests.conftest import bsn

COOKIE = services.COOKIE_NAME
NUMBER = bsn("voter_haarlem_1")
VOTER = f"bsn:{NUMBER}"


def rows() -> list[AuthSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuthSession).order_by(AuthSession.created_at)))


def age_session(**changes) -> None:
    db.session.execute(update(AuthSession).values(**changes))
    db.session.commit()


def test_the_cookie_holds_only_a_random_id_and_is_httponly_and_lax(client, session):
    start = client.get("/login/digid")
    authorize = client.get(start.location + "&login_hint=" + VOTER)
    callback = client.get(authorize.location)
    cookie = next(h for h in callback.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "="))
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(value) >= 43  # 256 bits, base64url
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # test configuration; production sets it (see test_mock_idp)
    [row] = rows()
    assert row.id_hash == hashlib.sha256(value.encode()).hexdigest() != value
    assert (row.expires_at - row.created_at) == timedelta(seconds=28800)


def test_the_bsn_is_stored_encrypted_and_nowhere_else(client, session):
    login(client, VOTER)
    [row] = rows()
    assert NUMBER.encode() not in row.bsn_ciphertext and NUMBER not in str(row.claims) and NUMBER not in row.subject
    raw = db.session.execute(select(AuthSession.__table__)).one()
    assert NUMBER not in repr(tuple(raw))
    assert client.get("/mijn-verklaring").status_code == 200  # and it decrypts for the session's own use


def test_a_new_session_id_at_every_login(client, session):
    login(client, VOTER)
    first = client.get_cookie(COOKIE).value
    login(client, "bsn:" + bsn("voter_amsterdam_1"))
    second = client.get_cookie(COOKIE).value
    assert first != second
    old, new = rows()
    assert old.ended_at is not None and old.end_reason == "replaced" and new.ended_at is None
    client.set_cookie(COOKIE, first)
    assert client.get("/mijn-verklaring").status_code == 302  # the old id no longer works


def test_logout_ends_the_session_here_and_at_the_provider(client, session):
    login(client, VOTER)
    raw_id = client.get_cookie(COOKIE).value
    response = logout(client)
    assert response.status_code == 302
    assert response.location == ("http://localhost/mock-idp/logout?client_id=steunregister&"
                                 "post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Fuitgelogd")
    assert client.get_cookie(COOKIE) is None
    [row] = rows()
    assert row.ended_at is not None and row.end_reason == "logout"
    back = client.get(response.location)
    assert back.status_code == 302 and back.location == "http://localhost/uitgelogd"
    assert "<h1>U bent uitgelogd</h1>" in client.get(back.location).get_data(as_text=True)
    client.set_cookie(COOKIE, raw_id)  # a copied cookie is worth nothing after logout
    assert client.get("/mijn-verklaring").status_code == 302


def test_logout_needs_the_csrf_token(client, session):
    login(client, VOTER)
    response = client.post("/logout")
    assert response.status_code == 400 and "<h1>Formulier verlopen</h1>" in response.get_data(as_text=True)
    assert client.get("/mijn-verklaring").status_code == 200


def test_an_idle_session_ends(client, session, app):
    login(client, VOTER)
    age_session(last_seen_at=utcnow() - timedelta(seconds=901))
    response = client.get("/mijn-verklaring")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert client.get_cookie(COOKIE) is None
    assert rows()[0].end_reason == "idle"


def test_activity_keeps_a_session_alive(client, session):
    login(client, VOTER)
    age_session(last_seen_at=utcnow() - timedelta(seconds=600))
    assert client.get("/mijn-verklaring").status_code == 200
    assert utcnow() - rows()[0].last_seen_at < timedelta(seconds=5)


def test_a_session_ends_at_its_absolute_lifetime_however_active(client, session):
    login(client, VOTER)
    age_session(expires_at=utcnow() - timedelta(seconds=1))
    assert client.get("/mijn-verklaring").status_code == 302
    assert rows()[0].end_reason == "expired"


def test_a_forged_cookie_is_just_anonymous(client, session):
    client.set_cookie(COOKIE, "x" * 43)
    response = client.get("/mijn-verklaring")
    assert response.status_code == 302 and client.get_cookie(COOKIE) is None
    client.set_cookie(COOKIE, "y" * 3000)
    assert client.get("/").status_code == 200


def test_a_session_works_on_another_app_instance_sharing_the_database(client, session, tk2025, app_config):
    from app import create_app

    login(client, "clerk:GM0392")
    raw_id = client.get_cookie(COOKIE).value
    other = create_app(app_config)
    with other.app_context():
        browser = other.test_client()
        browser.set_cookie(COOKIE, raw_id)
        page = browser.get("/balie")
        assert page.status_code == 200 and "Gemeente" in page.get_data(as_text=True)
        from registry.db import db as other_db

        other_db.session.remove()


def test_staff_logins_and_logouts_are_audited_voter_logins_are_not(client, session, tk2025):
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    login(client, VOTER)
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    login(client, "clerk:GM0392")
    logout(client)
    events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("auth.%")).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == ["auth.login", "auth.logout"]
    assert events[0].actor.startswith("clerk:GM0392:E") and events[0].actor == events[1].actor
    assert '"acr":"loa3"' in events[0].payload and NUMBER not in events[0].payload


def test_the_nav_shows_who_is_logged_in_and_a_logout_button(client, session, tk2025):
    home = client.get("/").get_data(as_text=True)
    assert 'href="/login">Inloggen</a>' in home and "Uitloggen" not in home
    login(client, "csb:TK2025")
    home = client.get("/").get_data(as_text=True)
    assert "Ingelogd als Lid centraal stembureau" in home
    assert '<form method="post" action="/logout">' in home and 'name="csrf_token"' in home


def test_the_api_needs_no_csrf_token_but_pages_do(app, client, session):
    # A bearer-token POST to the API is not a form post: no CSRF token; page POSTs need one.
    from flask import jsonify

    from auth.access import api_role_required

    @app.post("/api/v1/_echo")
    @api_role_required()
    def _echo():
        return jsonify(ok=True)

    token = bearer_token(client, VOTER)
    response = client.post("/api/v1/_echo", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json() == {"ok": True}
    assert client.post("/logout").status_code == 400
