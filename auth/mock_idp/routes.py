"""The mock issuer's endpoints under /mock-idp (only mounted when STEUNREGISTER_MOCK_IDP is on).

    /.well-known/openid-configuration   discovery
    /jwks                               public keys (active and recently rotated)
    /authorize   GET, POST              code flow with PKCE S256; the picker page or login_hint
    /token       POST                   authorization_code, client_credentials (CSRF-exempt)
    /userinfo    GET, POST              claims for an access token (CSRF-exempt)
    /logout      GET                    end-session: back to a registered post-logout URI

Authorize errors follow RFC 6749 §4.1.2.1: an unknown client or unregistered redirect URI gets a
page and never a redirect; everything else goes back to the client as ``error=…``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any
from urllib.parse import unquote, urlencode

from flask import Blueprint, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response

from auth.mock_idp import clients as mock_clients
from auth.mock_idp.services import TokenRequestError, UnknownHint, mock, valid_challenge
from auth.rp import tokens
from auth.settings import DIGID_LABELS, DIGID_LEVELS, EHERKENNING_LEVELS

bp = Blueprint("mock_idp", __name__, url_prefix="/mock-idp")

AUTHORIZE_PARAMS = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge",
                    "code_challenge_method", "acr_values", "resource", "audience", "prompt")


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    issuer = mock().issuer
    return _no_store(jsonify({
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "userinfo_endpoint": issuer + "/userinfo",
        "jwks_uri": issuer + "/jwks",
        "end_session_endpoint": issuer + "/logout",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid"],
        "claims_supported": ["sub", "acr", mock().conf.mock.bsn_claim, "sub_id_type", "organisation",
                             "organisation_id_type", "employee_id", "roles", "name"],
        "acr_values_supported": list(DIGID_LEVELS + EHERKENNING_LEVELS),
        "authorization_response_iss_parameter_supported": True,
    }))


@bp.get("/jwks")
def jwks() -> Response:
    response = jsonify(mock().keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


# --- authorize ---------------------------------------------------------------------------------------

def _params(source: Any) -> dict[str, str]:
    return {name: str(source.get(name, ""))[:2048] for name in AUTHORIZE_PARAMS}


def _error_page(message: str, status: int = 400) -> tuple[str, int]:
    return render_template("mock_idp/error.html", message=message), status


def _back(redirect_uri: str, values: dict[str, str]) -> Response:
    separator = "&" if "?" in redirect_uri else "?"
    response = redirect(redirect_uri + separator + urlencode({k: v for k, v in values.items() if v}))
    return _no_store(response)


def _check_request(params: dict[str, str]) -> tuple[mock_clients.MockClient | None, Any]:
    """(client, None) when the request may proceed, else (client or None, the response to give)."""
    client = mock_clients.get_client(mock().conf, params["client_id"])
    if client is None:
        return None, _error_page("Onbekende client_id: deze applicatie is niet bij de test-inlogdienst bekend.")
    if "authorization_code" not in client.grant_types:
        return None, _error_page("Deze client mag geen inlogcode aanvragen.")
    if params["redirect_uri"] not in client.redirect_uris:
        return None, _error_page("Deze redirect_uri is niet geregistreerd voor de client. Er wordt niet "
                                 "doorgestuurd.")
    problems = []
    if params["response_type"] != "code":
        problems.append(("unsupported_response_type", "alleen response_type=code"))
    elif "openid" not in params["scope"].split():
        problems.append(("invalid_scope", "scope moet openid bevatten"))
    elif params["code_challenge_method"] != "S256" or not valid_challenge(params["code_challenge"]):
        problems.append(("invalid_request", "PKCE met code_challenge_method=S256 is verplicht"))
    elif len(params["nonce"]) > 255 or len(params["state"]) > 512:
        problems.append(("invalid_request", "state of nonce te lang"))
    elif _audience(params) not in client.audiences:
        problems.append(("invalid_target", "onbekende resource"))
    if problems:
        error, description = problems[0]
        return client, _back(params["redirect_uri"], {"error": error, "error_description": description,
                                                      "state": params["state"], "iss": mock().issuer})
    return client, None


def _audience(params: dict[str, str]) -> str:
    return params["resource"] or params["audience"] or mock().conf.api_audience


@bp.get("/authorize")
def authorize() -> Any:
    params = _params(request.args)
    client, refusal = _check_request(params)
    if refusal is not None:
        return refusal
    assert client is not None
    hint = request.args.get("login_hint")
    if hint:
        try:
            identity = mock().resolve_hint(hint)
        except UnknownHint as exc:
            return _picker(params, error=str(exc), status=400)
        return _issue(client, params, identity, identity.level_for(params["acr_values"]))
    if params["prompt"] == "none":
        return _back(params["redirect_uri"], {"error": "login_required", "state": params["state"],
                                              "iss": mock().issuer})
    return _picker(params)


@bp.post("/authorize")
def authorize_choice() -> Any:
    params = _params(request.form)
    client, refusal = _check_request(params)
    if refusal is not None:
        return refusal
    assert client is not None
    try:
        identity = mock().resolve_hint(request.form.get("identity"))
    except UnknownHint as exc:
        return _picker(params, error=str(exc), status=400)
    level = request.form.get("level", "")
    if level not in identity.levels:
        return _picker(params, error="Kies een betrouwbaarheidsniveau dat bij deze inlog past.", status=400)
    return _issue(client, params, identity, level)


def _issue(client: mock_clients.MockClient, params: dict[str, str], identity: Any, level: str) -> Response:
    code = mock().issue_code(client, params["redirect_uri"], identity, level, params["nonce"] or None,
                             params["code_challenge"], _audience(params))
    return _back(params["redirect_uri"], {"code": code, "state": params["state"], "iss": mock().issuer})


def _picker(params: dict[str, str], error: str | None = None, status: int = 200) -> tuple[str, int]:
    requested = params["acr_values"].split()
    wants_digid = any(v in DIGID_LEVELS for v in requested)
    wants_staff = any(v in EHERKENNING_LEVELS for v in requested)
    show_digid = wants_digid or not wants_staff
    show_staff = wants_staff or not wants_digid
    return render_template(
        "mock_idp/authorize.html", params=params, error=error, show_digid=show_digid, show_staff=show_staff,
        persons=mock().person_choices() if show_digid else [],
        staff=mock().staff_choices() if show_staff else [],
        digid_levels=[(level, DIGID_LABELS[level]) for level in DIGID_LEVELS],
        eherkenning_levels=list(EHERKENNING_LEVELS),
        digid_default=next((v for v in requested if v in DIGID_LEVELS), "substantieel"),
        staff_default=next((v for v in requested if v in EHERKENNING_LEVELS), "loa3"),
    ), status


# --- token, userinfo, logout ---------------------------------------------------------------------------

def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    if error == "invalid_client":
        response.headers["WWW-Authenticate"] = 'Basic realm="mock-idp"'
    return _no_store(response)


def _authenticate_client() -> mock_clients.MockClient:
    """client_secret_basic, client_secret_post, or a public client naming itself (RFC 6749 §2.3)."""
    client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise TokenRequestError("invalid_client", "Ongeldige Basic-authenticatie.", 401) from None
        basic_id, _, basic_secret = decoded.partition(":")
        client_id, secret = unquote(basic_id), unquote(basic_secret)
    client = mock_clients.get_client(mock().conf, client_id)
    if client is None:
        raise TokenRequestError("invalid_client", "Onbekende client.", 401)
    if client.public:
        return client
    if not secret or not hmac.compare_digest(secret.encode(), client.secret.encode()):  # type: ignore[union-attr]
        raise TokenRequestError("invalid_client", "Client-authenticatie mislukt.", 401)
    return client


@bp.post("/token")
def token() -> Response:
    try:
        client = _authenticate_client()
        grant_type = request.form.get("grant_type")
        if grant_type not in client.grant_types:
            raise TokenRequestError("unauthorized_client" if grant_type in ("authorization_code", "client_credentials")
                                    else "unsupported_grant_type", f"grant_type {grant_type!r} niet toegestaan")
        if grant_type == "authorization_code":
            code = request.form.get("code")
            if not code:
                raise TokenRequestError("invalid_request", "code ontbreekt")
            body = mock().redeem_code(client, code, request.form.get("redirect_uri"),
                                      request.form.get("code_verifier"))
        else:
            body = mock().client_credentials(client, request.form.get("resource") or request.form.get("audience"))
    except TokenRequestError as exc:
        return _oauth_error(exc.error, exc.description, exc.status)
    return _no_store(jsonify(body))


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        response = jsonify(error="invalid_token", error_description="Bearer-token ontbreekt")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="mock-idp"'
        return response
    try:
        claims = mock().userinfo(value.strip())
    except tokens.TokenError as exc:
        response = jsonify(error="invalid_token", error_description=exc.code)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="mock-idp", error="invalid_token"'
        return response
    return _no_store(jsonify(claims))


@bp.get("/logout")
def end_session() -> Any:
    client = mock_clients.get_client(mock().conf, request.args.get("client_id"))
    target = request.args.get("post_logout_redirect_uri")
    if client is not None and target and target in client.post_logout_redirect_uris:
        state = request.args.get("state")
        separator = "&" if "?" in target else "?"
        return redirect(target + (separator + urlencode({"state": state}) if state else ""))
    return render_template("mock_idp/logged_out.html")
