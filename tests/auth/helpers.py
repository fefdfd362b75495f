"""Log in through the mock issuer without a browser; for any test that needs a voter, clerk, CSB member,
party agent or municipal system.

    login(client, "clerk:GM0392")                       # the web session of a clerk of Haarlem
    login(client, f"bsn:{bsn('voter_haarlem_1')}")      # a voter (DigiD level substantieel)
    login(client, "bsn:…", acr="basis")                 # too low: returns the refusal page (403)
    token = bearer_token(client, "csb:TK2025")          # Authorization: Bearer <token> for /api/v1
    token = system_token(client, "gemeente-GM0363", mock_client_secret(app, "gemeente-GM0363"))

login_hint values: bsn:<BSN>, clerk:<GM code>, csb:<election identifier>, agent:<designation or list id>.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from flask import Flask

CLI_CLIENT_ID = "steunregister-cli"
CLI_REDIRECT_URI = "http://127.0.0.1:8765/callback"
API_AUDIENCE = "steunregister-api"


def with_params(url: str, **params: str) -> str:
    """``url`` with these query parameters set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def login(client: Any, hint: str, acr: str | None = None, provider: str | None = None) -> Any:
    """The whole code flow: /login/<provider> → mock authorize with login_hint → /login/callback → the
    landing page. Returns the last response: the landing page (200) after a successful login, or the
    refusal page (e.g. 403 when ``acr`` is below the minimum)."""
    provider = provider or ("digid" if hint.startswith("bsn:") else "eherkenning")
    start = client.get(f"/login/{provider}")
    assert start.status_code == 302, f"/login/{provider} answered {start.status_code}"
    extra = {"login_hint": hint, **({"acr_values": acr} if acr else {})}
    authorize = client.get(with_params(start.location, **extra))
    assert authorize.status_code == 302, (
        f"the mock refused login_hint {hint!r}: {authorize.status_code} {_text(authorize)[:300]}")
    callback = client.get(authorize.location)
    if callback.status_code != 302:
        return callback
    assert urlsplit(callback.location).path.startswith("/"), callback.location
    return client.get(callback.location)


def logout(client: Any) -> Any:
    """Press the logout button of the page header; returns the redirect (to the provider's logout)."""
    page = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', _text(page))
    assert match, "no logout form on the page: is the client logged in?"
    return client.post("/logout", data={"csrf_token": match.group(1)})


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def bearer_token(client: Any, hint: str, audience: str = API_AUDIENCE, acr: str | None = None) -> str:
    """An access token for /api/v1, obtained like a tool would: the public client steunregister-cli,
    code flow with PKCE and login_hint."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    params = {"client_id": CLI_CLIENT_ID, "redirect_uri": CLI_REDIRECT_URI, "response_type": "code",
              "scope": "openid", "state": state, "nonce": secrets.token_urlsafe(16), "code_challenge": challenge,
              "code_challenge_method": "S256", "login_hint": hint, "resource": audience}
    if acr:
        params["acr_values"] = acr
    authorize = client.get("/mock-idp/authorize?" + urlencode(params))
    assert authorize.status_code == 302, f"the mock refused: {authorize.status_code} {_text(authorize)[:300]}"
    answer = query(authorize.location)
    assert answer.get("state") == state and "code" in answer, answer
    token = client.post("/mock-idp/token", data={
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": CLI_REDIRECT_URI,
        "client_id": CLI_CLIENT_ID, "code_verifier": verifier})
    assert token.status_code == 200, token.get_json()
    return token.get_json()["access_token"]


def system_token(client: Any, client_id: str, secret: str, audience: str | None = None) -> str:
    """An access token for a municipal system (client_credentials, client_secret_basic)."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials", **({"resource": audience} if audience else {})}
    token = client.post("/mock-idp/token", data=data, headers={"Authorization": f"Basic {basic}"})
    assert token.status_code == 200, token.get_json()
    return token.get_json()["access_token"]


def mock_client_secret(app: Flask, client_id: str) -> str:
    """The demo secret of one of the mock's confidential clients (derived from the master key)."""
    from auth.mock_idp.clients import client_secret
    from auth.rp.services import EXTENSION

    return client_secret(app.extensions[EXTENSION].settings, client_id)


def auth_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _text(response: Any) -> str:
    return response.get_data(as_text=True)
