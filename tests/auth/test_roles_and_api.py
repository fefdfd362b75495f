"""Each role logs in through the mock and sees only what it may; the API takes bearer tokens only."""

from __future__ import annotations

import pytest

from registry.problems import PROBLEM_BASE
from tests.auth.helpers import auth_header, bearer_token, login, mock_client_secret, system_token, with_params
from tests.conftest import bsn, import_eml

VOTER = f"bsn:{bsn('voter_haarlem_1')}"


def text(response) -> str:
    return response.get_data(as_text=True)


def assert_forbidden_page(response, reason: str) -> None:
    assert response.status_code == 403
    html = text(response)
    assert "<h1>Geen toegang</h1>" in html and reason in html


def test_anonymous_visitors_are_sent_to_the_login_page(client, session):
    for path in ("/balie", "/csb/TK2025", "/partij", "/mijn-verklaring"):
        response = client.get(path)
        assert response.status_code == 302 and response.location == f"/login?next={path}"
    page = client.get("/login?next=/balie")
    assert "Inloggen met DigiD" in text(page) and "/login/eherkenning?next=/balie" in text(page)


def test_a_voter_sees_only_their_own_page(client, session, tk2025):
    page = login(client, VOTER)
    assert page.status_code == 200 and page.request.path == "/mijn-verklaring"
    assert "Ingelogd als Kiezer (BSN *****" in text(page) and bsn("voter_haarlem_1") not in text(page)
    assert_forbidden_page(client.get("/balie"), "baliemedewerkers")
    assert_forbidden_page(client.get("/csb/TK2025"), "centraal stembureau")
    assert_forbidden_page(client.get("/partij"), "gemachtigden")


def test_a_clerk_sees_their_municipality_and_cannot_act_for_another(client, session, tk2025):
    page = login(client, "clerk:GM0392")
    assert page.request.path == "/balie" and "Gemeente Haarlem (GM0392)" in text(page)
    assert "Ingelogd als Baliemedewerker gemeente Haarlem" in text(page)
    assert_forbidden_page(client.get("/balie?gemeente=GM0363"), "U mag niet optreden voor gemeente GM0363.")
    assert client.get("/balie?gemeente=GM0392").status_code == 200
    assert_forbidden_page(client.get("/mijn-verklaring"), "kiezers")
    assert_forbidden_page(client.get("/csb/TK2025"), "centraal stembureau")


def test_a_csb_member_sees_their_election_only(client, session, tk2025):
    import_eml(session, "Kandidatenlijsten_GR2026_Assen.eml.xml")
    page = login(client, "csb:TK2025")
    assert page.request.path == "/csb/TK2025"
    assert "<h1>Centraal stembureau: Tweede Kamer der Staten-Generaal 2025</h1>" in text(page)
    assert_forbidden_page(client.get("/csb/GR2026"), "geen lid van het centraal stembureau voor GR2026")
    # An election that does not exist is refused the same way: nothing is disclosed.
    assert_forbidden_page(client.get("/csb/XX1999"), "XX1999")
    assert_forbidden_page(client.get("/balie"), "baliemedewerkers")


def test_a_party_agent_sees_their_lists(client, session, tk2025):
    page = login(client, "agent:Volt")
    assert page.status_code == 200 and page.request.path == "/partij"
    assert "Volt" in text(page) and "VVD" not in text(page)
    assert "Ingelogd als Gemachtigde Volt" in text(page)
    assert_forbidden_page(client.get("/mijn-verklaring"), "kiezers")


def test_a_voter_below_substantieel_gets_a_plain_dutch_page_and_no_session(client, session):
    response = login(client, VOTER, acr="midden")
    assert response.status_code == 403 and "<h1>Uw inlogniveau is te laag</h1>" in text(response)
    assert "DigiD app met ID-check" in text(response)
    assert client.get("/mijn-verklaring").status_code == 302
    assert login(client, VOTER, acr="hoog").status_code == 200


def test_staff_below_loa3_are_refused(client, session, tk2025):
    response = login(client, "clerk:GM0392", acr="loa2")
    assert response.status_code == 403 and "EH3" in text(response) and "U logde in op niveau EH2" in text(response)


def test_a_person_on_the_eherkenning_route_is_told_which_route_to_take(client, session):
    response = login(client, VOTER, provider="eherkenning")
    assert response.status_code == 403 and "<h1>U heeft geen toegang</h1>" in text(response)
    assert "Kiezers loggen in met DigiD" in text(response) and "acr_unknown" in text(response)


def test_after_login_the_browser_returns_where_it_was_going(client, session, tk2025):
    start = client.get("/login/eherkenning?next=/balie%3Fgemeente%3DGM0392")
    callback = client.get(client.get(with_params(start.location, login_hint="clerk:GM0392")).location)
    assert callback.location == "/balie?gemeente=GM0392"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_next_never_leaves_the_site(client, session, target):
    start = client.get("/login/digid", query_string={"next": target})
    callback = client.get(client.get(with_params(start.location, login_hint=VOTER)).location)
    assert callback.location == "/mijn-verklaring"


# --- the API -----------------------------------------------------------------------------------------

def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json(force=True)
    assert body["type"] == PROBLEM_BASE + slug and body["status"] == status and body["title"] and body["detail"]
    return body


def test_the_api_wants_a_valid_bearer_token(client, session):
    response = client.get("/api/v1/whoami")
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    garbage = client.get("/api/v1/whoami", headers=auth_header("not-a-token"))
    assert_problem(garbage, 401, "invalid-token")
    assert 'error="invalid_token"' in garbage.headers["WWW-Authenticate"]


def test_the_api_ignores_the_session_cookie(client, session):
    login(client, VOTER)
    assert_problem(client.get("/api/v1/whoami"), 401, "unauthenticated")


def test_whoami_never_returns_the_bsn(client, session):
    number = bsn("voter_haarlem_1")
    response = client.get("/api/v1/whoami", headers=auth_header(bearer_token(client, f"bsn:{number}")))
    body = response.get_json()
    assert response.status_code == 200 and body["kind"] == "voter" and body["acr"] == "substantieel"
    assert number not in text(response) and "bsn" not in body


def test_a_clerk_token_for_one_municipality_gets_403_for_another(client, session, tk2025):
    token = bearer_token(client, "clerk:GM0363")
    own = client.get("/api/v1/municipalities/GM0363", headers=auth_header(token))
    assert own.status_code == 200 and own.get_json() == {"code": "GM0363", "name": "Amsterdam",
                                                          "elections": ["TK2025"]}
    other = client.get("/api/v1/municipalities/GM0392", headers=auth_header(token))
    body = assert_problem(other, 403, "forbidden")
    assert body["detail"] == "U mag niet optreden voor gemeente GM0392." and body["municipality"] == "GM0392"


def test_a_municipal_system_is_bound_to_its_municipality(app, client, session, tk2025):
    token = system_token(client, "gemeente-GM0363", mock_client_secret(app, "gemeente-GM0363"))
    assert client.get("/api/v1/municipalities/GM0363", headers=auth_header(token)).status_code == 200
    assert_problem(client.get("/api/v1/municipalities/GM0392", headers=auth_header(token)), 403, "forbidden")


def test_roles_are_checked_on_the_api(client, session, tk2025):
    voter = bearer_token(client, VOTER)
    assert_problem(client.get("/api/v1/municipalities/GM0363", headers=auth_header(voter)), 403, "forbidden")
    csb = bearer_token(client, "csb:TK2025")
    assert_problem(client.get("/api/v1/municipalities/GM0363", headers=auth_header(csb)), 403, "forbidden")


def test_an_api_token_below_the_minimum_level_is_refused(client, session):
    token = bearer_token(client, VOTER, acr="basis")
    body = assert_problem(client.get("/api/v1/whoami", headers=auth_header(token)), 401, "insufficient-assurance")
    assert body["reason"] == "acr_too_low"


def test_an_id_token_is_not_an_access_token(client, session):
    import secrets
    from urllib.parse import urlencode

    from tests.auth.helpers import CLI_CLIENT_ID, CLI_REDIRECT_URI, pkce_pair, query

    verifier, challenge = pkce_pair()
    params = {"client_id": CLI_CLIENT_ID, "redirect_uri": CLI_REDIRECT_URI, "response_type": "code",
              "scope": "openid", "state": "s", "nonce": secrets.token_urlsafe(8), "code_challenge": challenge,
              "code_challenge_method": "S256", "login_hint": VOTER}
    code = query(client.get("/mock-idp/authorize?" + urlencode(params)).location)["code"]
    id_token = client.post("/mock-idp/token", data={"grant_type": "authorization_code", "code": code,
                                                    "redirect_uri": CLI_REDIRECT_URI, "client_id": CLI_CLIENT_ID,
                                                    "code_verifier": verifier}).get_json()["id_token"]
    body = assert_problem(client.get("/api/v1/whoami", headers=auth_header(id_token)), 401, "invalid-token")
    assert body["reason"] == "access_token_audience"


def test_a_token_from_another_issuer_is_refused(client, session):
    from tests.auth.hostile_issuer import HostileIssuer

    forger = HostileIssuer(bsn("voter_haarlem_1"))
    forger.behaviour.claims = {"iss": "http://localhost/mock-idp", "aud": "steunregister-api"}
    forger._server = type("S", (), {"server_port": 1})()  # never served: only its signing is used
    token = forger.sign(forger.id_token_claims({"client_id": "steunregister-api"}))
    body = assert_problem(client.get("/api/v1/whoami", headers=auth_header(token)), 401, "invalid-token")
    assert body["reason"] in ("access_token_unknown_key", "access_token_signature")


def test_a_bare_or_garbled_callback_is_a_page_not_a_500(client, session):
    for path in ("/login/callback", "/login/callback?code=x", "/login/callback?state=%00&code=" + "x" * 5000):
        response = client.get(path)
        assert response.status_code == 400 and "<h1>Inloggen is niet gelukt</h1>" in text(response)
