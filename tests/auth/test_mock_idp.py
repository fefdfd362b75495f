"""The mock DigiD/eHerkenning issuer: a small but real OpenID Connect provider."""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
import urllib.request
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from auth.mock_idp.services import mock
from auth.rp import services, tokens
from registry.elections.models import CandidateList
from tests.auth.helpers import (
    CLI_CLIENT_ID,
    CLI_REDIRECT_URI,
    auth_header,
    bearer_token,
    login,
    mock_client_secret,
    pkce_pair,
    query,
    system_token,
)
from tests.conftest import TEST_MASTER_KEY, bsn, import_eml

ISSUER = "http://localhost/mock-idp"


def authorize_params(**extra: str) -> dict[str, str]:
    _, challenge = pkce_pair()
    return {"client_id": CLI_CLIENT_ID, "redirect_uri": CLI_REDIRECT_URI, "response_type": "code",
            "scope": "openid", "state": "s1", "nonce": "n1", "code_challenge": challenge,
            "code_challenge_method": "S256", **extra}


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_discovery_and_jwks(client, app):
    doc = client.get("/mock-idp/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == ISSUER + "/authorize" and doc["token_endpoint"] == ISSUER + "/token"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert {"authorization_code", "client_credentials"} <= set(doc["grant_types_supported"])
    keys = client.get("/mock-idp/jwks").get_json()["keys"]
    assert sorted(k["alg"] for k in keys) == ["ES256", "RS256"]
    assert all(k["kid"] == tokens.thumbprint(k) and "d" not in k for k in keys)  # public halves only
    key_dir = app.instance_path + "/mock-idp-keys"
    pems = list(__import__("pathlib").Path(key_dir).glob("*.pem"))
    assert len(pems) == 2 and all(p.stat().st_mode & 0o777 == 0o600 for p in pems)


def test_a_voter_logs_in_through_the_mock_and_sees_only_a_masked_bsn(client, session):
    number = bsn("voter_haarlem_1")
    page = login(client, f"bsn:{number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.request.path == "/mijn-verklaring"
    assert f"Ingelogd als Kiezer (BSN *****{number[-4:]})" in html and number not in html


def test_the_id_token_carries_the_documented_claims(client, session, tk2025):
    verifier, challenge = pkce_pair()
    params = authorize_params(code_challenge=challenge, login_hint="clerk:GM0363", acr_values="loa4")
    code = query(client.get("/mock-idp/authorize?" + urlencode(params)).location)["code"]
    body = client.post("/mock-idp/token", data={"grant_type": "authorization_code", "code": code,
                                                "redirect_uri": CLI_REDIRECT_URI, "client_id": CLI_CLIENT_ID,
                                                "code_verifier": verifier}).get_json()
    jwks = client.get("/mock-idp/jwks").get_json()
    claims = tokens.verify_jwt(body["id_token"], jwks, issuer=ISSUER, audience=CLI_CLIENT_ID, leeway=0)
    assert claims["acr"] == "loa4" and claims["roles"] == ["clerk:GM0363"] and claims["nonce"] == "n1"
    assert claims["organisation"] == "00000001000000363000" and re.fullmatch(r"E\d{5}", claims["employee_id"])
    assert claims["at_hash"] == tokens.at_hash(body["access_token"])
    assert tokens.unverified_header(body["id_token"])["alg"] == "ES256"  # the CLI client's algorithm
    access = tokens.verify_jwt(body["access_token"], jwks, issuer=ISSUER, audience="steunregister-api", leeway=0)
    assert access["client_id"] == CLI_CLIENT_ID and tokens.unverified_header(body["access_token"])["typ"] == "at+jwt"


def test_a_person_gets_the_bsn_claim_and_a_pseudonymous_sub(client, session):
    number = bsn("voter_amsterdam_1")
    token = bearer_token(client, f"bsn:{number}")
    info = client.get("/mock-idp/userinfo", headers=auth_header(token)).get_json()
    assert info["bsn"] == number and info["sub_id_type"] == "urn:nl-eid-gdi:1.0:id:legacy-BSN"
    assert info["acr"] == "substantieel" and number not in info["sub"]
    assert bearer_token(client, f"bsn:{number}") != token
    assert client.get("/mock-idp/userinfo", headers=auth_header(bearer_token(client, f"bsn:{number}"))
                      ).get_json()["sub"] == info["sub"]  # stable per person


def test_the_bsn_claim_name_is_configuration(app_config):
    from app import create_app
    from registry.db import db

    app = create_app({**app_config, "MOCK_IDP_BSN_CLAIM": "urn:nl:bsn", "OIDC_CLAIM_BSN": "urn:nl:bsn"})
    with app.app_context():
        client = app.test_client()
        number = bsn("voter_haarlem_1")
        info = client.get("/mock-idp/userinfo", headers=auth_header(bearer_token(client, f"bsn:{number}"))).get_json()
        assert info["urn:nl:bsn"] == number and "bsn" not in info
        assert login(client, f"bsn:{number}").status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_agent_by_designation_gets_every_list_with_that_designation(client, session, tk2025):
    import_eml(session, "Kandidatenlijsten_GR2026_Assen.eml.xml")
    vvd = session.scalars(select(CandidateList.id).where(CandidateList.designation == "VVD")).all()
    assert len(vvd) == 2
    me = client.get("/api/v1/whoami", headers=auth_header(bearer_token(client, "agent:VVD"))).get_json()
    assert me["agent_lists"] == sorted((str(i) for i in vvd), key=int) and me["role_names"] == ["party_agent"]
    one = client.get("/api/v1/whoami", headers=auth_header(bearer_token(client, f"agent:{vvd[0]}"))).get_json()
    assert one["agent_lists"] == [str(vvd[0])]


def test_an_unregistered_redirect_uri_gets_a_page_never_a_redirect(client, session):
    for params in (authorize_params(redirect_uri="https://evil.example/cb"),
                   authorize_params(client_id="unknown-client")):
        hint = "bsn:" + bsn("voter_haarlem_1")
        response = client.get("/mock-idp/authorize?" + urlencode({**params, "login_hint": hint}))
        assert response.status_code == 400 and "Location" not in response.headers
        assert "<h1>Test-inlogdienst: verzoek geweigerd</h1>" in response.get_data(as_text=True)


@pytest.mark.parametrize("change, error", [
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": ""}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"scope": "profile"}, "invalid_scope"),
    ({"resource": "https://other-api.example"}, "invalid_target"),
])
def test_other_authorize_errors_go_back_to_the_client(client, session, change, error):
    response = client.get("/mock-idp/authorize?" + urlencode(authorize_params(**change)))
    assert response.status_code == 302 and response.location.startswith(CLI_REDIRECT_URI)
    answer = query(response.location)
    assert answer["error"] == error and answer["state"] == "s1" and "code" not in answer


def test_an_unknown_login_hint_shows_the_picker_with_the_reason(client, session):
    response = client.get("/mock-idp/authorize?" + urlencode(authorize_params(login_hint="clerk:GM9999")))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Gemeente GM9999 doet aan geen ingelezen verkiezing mee." in html
    response = client.get("/mock-idp/authorize?" + urlencode(authorize_params(login_hint="bsn:123456789")))
    assert response.status_code == 400 and "elfproef" in response.get_data(as_text=True)


def test_the_picker_page_lets_a_tester_choose_and_needs_its_csrf_token(client, session, tk2025):
    page = client.get("/mock-idp/authorize?" + urlencode(authorize_params()))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("<h1>") == 1 and "<title>Test-inlogdienst – Steunregister" in html
    for field in ("person", "digid-level", "staff", "staff-level"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert "Baliemedewerker gemeente Haarlem (GM0392)" in html and ">Substantieel<" in html and "EH4 (loa4)" in html
    form = {**authorize_params(), "identity": "csb:TK2025", "level": "loa3"}
    refused = client.post("/mock-idp/authorize", data=form)
    assert refused.status_code == 400 and "<h1>Formulier verlopen</h1>" in refused.get_data(as_text=True)
    chosen = client.post("/mock-idp/authorize", data={**form, "csrf_token": csrf_token(html)})
    assert chosen.status_code == 302 and "code" in query(chosen.location)
    wrong_level = client.post("/mock-idp/authorize", data={**form, "level": "hoog", "csrf_token": csrf_token(html)})
    assert wrong_level.status_code == 400 and "betrouwbaarheidsniveau" in wrong_level.get_data(as_text=True)


def test_the_picker_shows_only_digid_when_the_app_asks_for_a_digid_level(client, session):
    start = client.get("/login/digid")
    html = client.get(start.location).get_data(as_text=True)
    assert "DigiD (kiezers)" in html and "eHerkenning (medewerkers" not in html
    assert "voter haarlem 1" in html  # the demo's edge cases are named


def code_for(client, hint: str = "csb:TK2025") -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    response = client.get("/mock-idp/authorize?" + urlencode(authorize_params(code_challenge=challenge,
                                                                               login_hint=hint)))
    return query(response.location)["code"], verifier


def redeem(client, code: str, verifier: str, **extra: str):
    return client.post("/mock-idp/token", data={"grant_type": "authorization_code", "code": code,
                                                "redirect_uri": CLI_REDIRECT_URI, "client_id": CLI_CLIENT_ID,
                                                "code_verifier": verifier, **extra})


def test_a_code_is_single_use_and_bound_to_its_pkce_verifier(client, session, tk2025):
    code, verifier = code_for(client)
    wrong = redeem(client, code, pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    assert "PKCE" in wrong.get_json()["error_description"]
    assert redeem(client, code, verifier).get_json()["error"] == "invalid_grant"  # burned by the failed attempt
    code, verifier = code_for(client)
    assert redeem(client, code, verifier).status_code == 200
    again = redeem(client, code, verifier)
    assert again.status_code == 400 and again.headers["Cache-Control"] == "no-store"
    code, verifier = code_for(client)
    assert redeem(client, code, verifier, redirect_uri="http://127.0.0.1:8765/other").get_json()["error"] == \
        "invalid_grant"


def test_client_authentication_at_the_token_endpoint(app, client, session, tk2025):
    secret = mock_client_secret(app, "gemeente-GM0363")
    bad = base64.b64encode(b"gemeente-GM0363:wrong").decode()
    refused = client.post("/mock-idp/token", data={"grant_type": "client_credentials"},
                          headers={"Authorization": f"Basic {bad}"})
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
    assert refused.headers["WWW-Authenticate"].startswith("Basic")
    posted = client.post("/mock-idp/token", data={"grant_type": "client_credentials", "client_id": "gemeente-GM0363",
                                                  "client_secret": secret})
    assert posted.status_code == 200 and posted.get_json()["token_type"] == "Bearer"
    public = client.post("/mock-idp/token", data={"grant_type": "client_credentials", "client_id": CLI_CLIENT_ID})
    assert public.get_json()["error"] == "unauthorized_client"
    unknown = client.post("/mock-idp/token", data={"grant_type": "client_credentials", "client_id": "gemeente-GM9999",
                                                   "client_secret": "x"})
    assert unknown.status_code == 401
    odd = client.post("/mock-idp/token", data={"grant_type": "password", "client_id": CLI_CLIENT_ID})
    assert odd.get_json()["error"] == "unsupported_grant_type"


def test_a_municipal_system_gets_a_token_bound_to_its_municipality(app, client, session, tk2025):
    token = system_token(client, "gemeente-GM0363", mock_client_secret(app, "gemeente-GM0363"))
    me = client.get("/api/v1/whoami", headers=auth_header(token)).get_json()
    assert me["kind"] == "system" and me["subject"] == "gemeente-GM0363" and me["municipalities"] == ["GM0363"]
    userinfo = client.get("/mock-idp/userinfo", headers=auth_header(token))
    assert userinfo.status_code == 401  # no user behind a client_credentials token


def test_userinfo_needs_a_valid_access_token(client, session):
    assert client.get("/mock-idp/userinfo").status_code == 401
    forged = client.get("/mock-idp/userinfo", headers=auth_header("eyJhbGciOiJub25lIn0.e30."))
    assert forged.status_code == 401 and forged.get_json()["error"] == "invalid_token"


def test_end_session_redirects_only_to_a_registered_uri(client, session):
    ok = client.get("/mock-idp/logout?" + urlencode({"client_id": "steunregister",
                                                     "post_logout_redirect_uri": "http://localhost/uitgelogd",
                                                     "state": "x"}))
    assert ok.status_code == 302 and ok.location == "http://localhost/uitgelogd?state=x"
    evil = client.get("/mock-idp/logout?" + urlencode({"client_id": "steunregister",
                                                       "post_logout_redirect_uri": "https://evil.example/"}))
    assert evil.status_code == 200 and "Location" not in evil.headers
    assert "<h1>Uitgelogd bij de test-inlogdienst</h1>" in evil.get_data(as_text=True)


def test_rotate_keys_keeps_the_old_key_published_for_a_while(app, cli, client, session, monkeypatch):
    before = {k["kid"] for k in client.get("/mock-idp/jwks").get_json()["keys"]}
    assert login(client, f"bsn:{bsn('voter_haarlem_1')}").status_code == 200
    result = cli.invoke(args=["mock-idp", "rotate-keys"])
    assert result.exit_code == 0 and "Nieuwe sleutels" in result.output
    after = {k["kid"] for k in client.get("/mock-idp/jwks").get_json()["keys"]}
    assert before < after and len(after) == 4
    # The running app signs with the new key and its own relying party follows without a restart.
    later = services._clock() + 11
    monkeypatch.setattr(services, "_clock", lambda: later)
    other = app.test_client()
    assert login(other, f"bsn:{bsn('voter_haarlem_1')}").status_code == 200
    listing = cli.invoke(args=["mock-idp", "keys"]).output
    assert listing.count("actief") == 2 and listing.count("vervangen") == 2
    # After the retention period the old keys leave the JWKS and their files are deleted.
    retention = mock().keys.retention
    assert {k["kid"] for k in mock().keys.jwks(now=time.time() + retention + 1)["keys"]} == after - before
    mock().keys.rotate(now=time.time() + retention + 1)
    assert len(list((__import__("pathlib").Path(app.instance_path) / "mock-idp-keys").glob("*.pem"))) == 4


def test_the_clients_command_lists_the_demo_clients(cli, session, tk2025):
    output = cli.invoke(args=["mock-idp", "clients"]).output
    assert "steunregister-cli: " in output and "http://127.0.0.1:8765/callback" in output
    assert re.search(r"gemeente-GM0363: Gemeentelijk systeem Amsterdam; client_credentials; secret \S+", output)


def test_production_refuses_to_start_with_the_mock(tmp_path):
    from app import create_app

    config = {"ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite", "INSTANCE_PATH": str(tmp_path),
              "SECRET_KEY": "s" * 40, "MASTER_KEY": TEST_MASTER_KEY, "MOCK_IDP": "1",
              "OIDC_REDIRECT_URI": "https://steunregister.example/login/callback",
              "OIDC_POST_LOGOUT_REDIRECT_URI": "https://steunregister.example/uitgelogd"}
    with pytest.raises(RuntimeError, match="mock identity provider"):
        create_app(config)
    with pytest.raises(RuntimeError, match="OIDC_ISSUER"):
        create_app({**config, "MOCK_IDP": "0"})
    with pytest.raises(RuntimeError, match="https"):
        create_app({**config, "MOCK_IDP": "0", "OIDC_ISSUER": "http://broker.example", "OIDC_CLIENT_SECRET": "x"})
    with pytest.raises(RuntimeError, match="client secret"):
        create_app({**config, "MOCK_IDP": "0", "OIDC_ISSUER": "https://broker.example"})
    app = create_app({**config, "MOCK_IDP": "0", "OIDC_ISSUER": "https://broker.example", "OIDC_CLIENT_SECRET": "x"})
    assert not any(rule.rule.startswith("/mock-idp") for rule in app.url_map.iter_rules())
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.test_request_context():
        response = app.response_class()
        services.set_session_cookie(response, "abc")
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_request_log_masks_the_bsn_in_a_login_hint(app, session, caplog):
    number = bsn("voter_haarlem_1")
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    caplog.set_level(logging.INFO, logger="werkzeug")
    params = urlencode(authorize_params(login_hint=f"bsn:{number}"))
    url = f"http://127.0.0.1:{server.server_port}/mock-idp/authorize?{params}"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(url, timeout=5)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302
    thread.join(timeout=5)
    server.server_close()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/mock-idp/authorize" in line for line in lines), lines
    assert all(number not in line for line in lines) and any("login_hint=bsn:*********" in line for line in lines)


def test_a_configured_client_secret_is_the_mocks_secret_too(app_config):
    from app import create_app
    from registry.db import db

    app = create_app({**app_config, "OIDC_CLIENT_ID": "my-app", "OIDC_CLIENT_SECRET": "chosen-secret"})
    with app.app_context():
        assert login(app.test_client(), f"bsn:{bsn('voter_haarlem_1')}").status_code == 200
        assert mock_client_secret(app, "gemeente-GM0363") != "chosen-secret"
        db.session.remove()
        db.engine.dispose()
