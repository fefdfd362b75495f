"""The relying party against a hostile issuer over real HTTP: every forgery is refused with a clear
page and no session; what a correct issuer does (rotate keys, leave out a kid) is accepted."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from auth.models import AuthSession, LoginRequest
from auth.rp import services
from registry.db import db
from tests.auth.helpers import query, with_params
from tests.auth.hostile_issuer import REMOVE, SUBJECT, HostileIssuer
from tests.conftest import bsn

COOKIE = services.COOKIE_NAME


def sessions() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AuthSession))


def start(client: Any, hostile: HostileIssuer) -> str:
    response = client.get("/login/digid")
    assert response.status_code == 302 and response.location.startswith(hostile.issuer + "/authorize?")
    return response.location


def login(client: Any, hostile: HostileIssuer) -> Any:
    return client.get(hostile.approve(start(client, hostile)))


def assert_refused(response: Any, client: Any, code: str, *, userinfo_called: bool = False) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 403, 502), response.status_code
    assert "<h1>" in html and "niet ingelogd" in html, html
    assert f"Foutcode voor de helpdesk: {code}" in html, html
    assert client.get_cookie(COOKIE) is None
    assert sessions() == 0
    assert client.get("/mijn-verklaring").status_code == 302  # still anonymous: sent to the login page


def assert_logged_in(response: Any, client: Any) -> None:
    assert response.status_code == 302 and response.location == "/mijn-verklaring", response.get_data(as_text=True)
    assert client.get_cookie(COOKIE) is not None
    assert sessions() == 1
    page = client.get("/mijn-verklaring").get_data(as_text=True)
    number = bsn("voter_haarlem_1")
    assert f"Ingelogd als Kiezer (BSN *****{number[-4:]})" in page and number not in page


def test_a_correct_issuer_is_accepted(rp_app, hostile):
    client = rp_app.test_client()
    assert_logged_in(login(client, hostile), client)
    assert hostile.hits["userinfo"] == 1


@pytest.mark.parametrize("alg, key", [("PS256", "rsa1"), ("ES256", "ec1")])
def test_ps256_and_es256_are_accepted(rp_app, hostile, alg, key):
    hostile.behaviour.alg, hostile.behaviour.signing_key = alg, key
    client = rp_app.test_client()
    assert_logged_in(login(client, hostile), client)


# --- forged or wrong ID tokens: refused before any userinfo call ------------------------------------

FORGERIES = {
    "bad signature": ({"tamper_signature": True}, "id_token_signature"),
    "alg none": ({"alg": "none"}, "id_token_algorithm_not_allowed"),
    "HS256 keyed with the public key": ({"alg": "HS256-public-key"}, "id_token_algorithm_not_allowed"),
    "RS256 header naming an EC key": ({"alg": "RS256", "kid": "ec-1"}, "id_token_key_type_mismatch"),
    "wrong iss": ({"claims": {"iss": "https://evil.example"}}, "id_token_issuer"),
    "aud without our client": ({"claims": {"aud": ["someone-else"]}}, "id_token_audience"),
    "no aud": ({"claims": {"aud": REMOVE}}, "id_token_missing_aud"),
    "expired": ({"claims": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000}}, "id_token_expired"),
    "no iat": ({"claims": {"iat": REMOVE}}, "id_token_missing_iat"),
    "iat in the future": ({"claims": {"iat": int(time.time()) + 3600}}, "id_token_issued_in_future"),
    "nbf in the future": ({"claims": {"nbf": int(time.time()) + 3600}}, "id_token_not_yet_valid"),
    "no exp": ({"claims": {"exp": REMOVE}}, "id_token_missing_exp"),
    "nonce missing": ({"claims": {"nonce": REMOVE}}, "id_token_nonce_missing"),
    "nonce wrong": ({"claims": {"nonce": "not-the-nonce-we-sent"}}, "id_token_nonce_mismatch"),
    "no sub": ({"claims": {"sub": REMOVE}}, "id_token_missing_sub"),
    "empty sub": ({"claims": {"sub": " "}}, "id_token_missing_sub"),
    "iat of the wrong type": ({"claims": {"iat": [1]}}, "id_token_malformed"),
    "two audiences without azp": ({"claims": {"aud": ["steunregister", "other"]}}, "id_token_azp"),
}


@pytest.mark.parametrize("behaviour, code", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_or_wrong_id_token_is_refused_without_a_session(rp_app, hostile, behaviour, code):
    client = rp_app.test_client()
    for name, value in behaviour.items():
        setattr(hostile.behaviour, name, value)
    response = login(client, hostile)
    assert_refused(response, client, code)
    assert hostile.hits["userinfo"] == 0  # a token that failed is never used


def test_a_token_within_the_clock_skew_is_accepted(rp_app, hostile):
    now = int(time.time())
    hostile.behaviour.claims = {"exp": now - 30, "iat": now + 30, "nbf": now + 30}
    client = rp_app.test_client()
    assert_logged_in(login(client, hostile), client)


def test_a_replayed_nonce_is_refused(rp_app, hostile):
    first = rp_app.test_client()
    assert_logged_in(login(first, hostile), first)
    earlier = hostile.issued_id_tokens[-1]
    # A second login, to which the issuer answers with the first login's (validly signed) ID token.
    hostile.behaviour.replay_id_token = earlier
    second = rp_app.test_client()
    response = login(second, hostile)
    assert response.status_code == 400 and "id_token_nonce_mismatch" in response.get_data(as_text=True)
    assert second.get_cookie(COOKIE) is None and sessions() == 1


def test_a_replayed_callback_is_refused(rp_app, hostile):
    client = rp_app.test_client()
    callback = hostile.approve(start(client, hostile))
    assert_logged_in(client.get(callback), client)
    again = client.get(callback)
    assert again.status_code == 400 and "Foutcode voor de helpdesk: state_mismatch" in again.get_data(as_text=True)
    assert sessions() == 1
    assert hostile.hits["token"] == 1  # the used code was not even sent to the issuer again


def test_a_state_used_in_another_browser_is_refused_once_used(rp_app, hostile):
    # Even with the cookie copied, the server-side row makes state (and with it the nonce) single use.
    client = rp_app.test_client()
    callback = hostile.approve(start(client, hostile))
    flask_cookie = client.get_cookie("steunregister_flask").value
    assert_logged_in(client.get(callback), client)
    thief = rp_app.test_client()
    thief.set_cookie("steunregister_flask", flask_cookie)
    response = thief.get(callback)
    assert response.status_code == 400 and "state_used_or_expired" in response.get_data(as_text=True)
    assert thief.get_cookie(COOKIE) is None and sessions() == 1


def test_a_state_mismatch_is_refused(rp_app, hostile):
    client = rp_app.test_client()
    callback = hostile.approve(start(client, hostile))
    response = client.get(with_params(callback, state="forged-" + query(callback)["state"][:20]))
    assert_refused(response, client, "state_mismatch")
    assert hostile.hits["token"] == 0


def test_a_callback_from_a_browser_that_did_not_start_the_login_is_refused(rp_app, hostile):
    # Login CSRF: an attacker's own callback URL, opened in the victim's browser.
    attacker = rp_app.test_client()
    callback = hostile.approve(start(attacker, hostile))
    victim = rp_app.test_client()
    response = victim.get(callback)
    assert_refused(response, victim, "state_mismatch")


def test_a_code_with_the_wrong_pkce_verifier_is_refused(rp_app, hostile):
    # Code injection: a code issued for one browser's PKCE challenge, delivered to another browser's
    # callback with that browser's own state. Our verifier does not fit the code, the issuer refuses.
    victim = rp_app.test_client()
    victim_callback = hostile.approve(start(victim, hostile))
    attacker = rp_app.test_client()
    attacker_callback = hostile.approve(start(attacker, hostile))
    injected = with_params(attacker_callback, code=query(victim_callback)["code"])
    response = attacker.get(injected)
    assert_refused(response, attacker, "token_refused_invalid_grant")
    assert hostile.hits["userinfo"] == 0


def test_a_userinfo_sub_that_differs_is_refused(rp_app, hostile):
    hostile.behaviour.userinfo_sub = "someone-else"
    client = rp_app.test_client()
    response = login(client, hostile)
    assert_refused(response, client, "userinfo_sub_mismatch")
    assert hostile.hits["userinfo"] == 1


def test_a_discovery_document_naming_another_issuer_is_refused_before_redirecting(rp_app, hostile):
    hostile.behaviour.discovery_issuer = "https://evil.example"
    client = rp_app.test_client()
    response = client.get("/login/digid")
    assert response.status_code == 502
    html = response.get_data(as_text=True)
    assert "niet kunnen controleren" in html and "discovery_issuer_mismatch" in html
    assert hostile.hits["authorize"] == 0 and hostile.hits["jwks"] == 0
    assert db.session.scalar(select(func.count()).select_from(LoginRequest)) == 0


def test_an_unreachable_issuer_gives_a_page_not_a_500(rp_config):
    from app import create_app

    app = create_app({**rp_config, "OIDC_ISSUER": "http://127.0.0.1:9", "OIDC_HTTP_TIMEOUT": "2"})
    with app.app_context():
        response = app.test_client().get("/login/digid")
        assert response.status_code == 502 and "niet bereikbaar" in response.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


def test_the_provider_cancelling_gives_a_page(rp_app, hostile):
    client = rp_app.test_client()
    callback = hostile.approve(start(client, hostile))
    response = client.get(with_params(callback, error="access_denied", code=""))
    assert_refused(response, client, "provider_error_access_denied")


def test_a_level_below_the_minimum_gets_a_plain_dutch_page(rp_app, hostile):
    hostile.behaviour.claims = {"acr": "midden"}
    client = rp_app.test_client()
    response = login(client, hostile)
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "<h1>Uw inlogniveau is te laag</h1>" in html
    assert "niveau <strong>Substantieel</strong> of hoger" in html and "U logde in op niveau Midden" in html
    assert client.get_cookie(COOKIE) is None and sessions() == 0
    assert hostile.hits["userinfo"] == 0


def test_an_unknown_level_is_refused(rp_app, hostile):
    hostile.behaviour.claims = {"acr": "loa4"}  # an eHerkenning level on a DigiD login
    client = rp_app.test_client()
    assert_refused(login(client, hostile), client, "acr_unknown")


def test_a_token_without_a_valid_bsn_is_refused(rp_app, hostile):
    hostile.behaviour.claims = {"bsn": "123456789"}
    hostile.bsn, original = "123456789", hostile.bsn
    try:
        client = rp_app.test_client()
        assert_refused(login(client, hostile), client, "no_valid_bsn")
    finally:
        hostile.bsn = original


# --- what a correct issuer may do ------------------------------------------------------------------

def test_a_key_rotation_to_a_new_kid_is_accepted_without_restart(rp_app, hostile, monkeypatch):
    client = rp_app.test_client()
    assert_logged_in(login(client, hostile), client)
    assert hostile.hits["jwks"] == 1
    hostile.behaviour.published = ["rsa1", "rsa2", "ec1"]
    hostile.behaviour.signing_key = "rsa2"  # kid rsa-2, not in the cached JWKS
    later = services._clock() + 11  # past the refetch interval (10 s)
    monkeypatch.setattr(services, "_clock", lambda: later)
    second = rp_app.test_client()
    assert_logged_in_again(login(second, hostile), second)
    assert hostile.hits["jwks"] == 2  # exactly one refetch


def assert_logged_in_again(response: Any, client: Any) -> None:
    assert response.status_code == 302 and response.location == "/mijn-verklaring", response.get_data(as_text=True)
    assert client.get_cookie(COOKIE) is not None


def test_refetching_the_jwks_for_an_unknown_kid_is_rate_limited(rp_app, hostile, monkeypatch):
    client = rp_app.test_client()
    assert_logged_in(login(client, hostile), client)
    hostile.behaviour.signing_key = "rsa2"
    hostile.behaviour.published = ["rsa1", "rsa2", "ec1"]
    # Within the interval: no refetch, so the unknown kid is refused…
    response = login(rp_app.test_client(), hostile)
    assert response.status_code == 400 and "id_token_unknown_key" in response.get_data(as_text=True)
    response = login(rp_app.test_client(), hostile)
    assert "id_token_unknown_key" in response.get_data(as_text=True)
    assert hostile.hits["jwks"] == 1
    # …and once the interval has passed, one refetch finds it.
    later = services._clock() + 11
    monkeypatch.setattr(services, "_clock", lambda: later)
    third = rp_app.test_client()
    assert_logged_in_again(login(third, hostile), third)
    assert hostile.hits["jwks"] == 2


def test_a_token_without_kid_is_accepted_when_the_jwks_holds_one_key(rp_app, hostile):
    hostile.behaviour.published = ["rsa1"]
    hostile.behaviour.omit_kid = True
    client = rp_app.test_client()
    assert_logged_in(login(client, hostile), client)


def test_a_token_without_kid_is_refused_when_the_jwks_holds_several_keys(rp_app, hostile):
    hostile.behaviour.omit_kid = True
    client = rp_app.test_client()
    assert_refused(login(client, hostile), client, "id_token_kid_missing")


def test_the_session_subject_is_the_issuers_sub(rp_app, hostile):
    client = rp_app.test_client()
    assert_logged_in(login(client, hostile), client)
    row = db.session.scalar(select(AuthSession))
    assert row.subject == SUBJECT and row.kind == "voter" and row.provider == "digid"
