"""The relying party: code flow with PKCE, token and userinfo checks, server-side sessions.

Nothing the provider sends is trusted before it is checked (see tokens.py for the JWT rules); any
failure raises LoginFailed, which the routes show as a plain-Dutch page, and nothing is written:
no session row, no session cookie, and — when the ID token fails — no userinfo call.

The provider is reached through a Fetcher: urllib for a real broker, or an in-process WSGI call when
the issuer is this app's own mock (an HTTP request from the app to itself would deadlock a
single-threaded server and cannot work inside Flask's test client).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol
from urllib.parse import quote, urlencode, urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app, g, request, session, url_for
from sqlalchemy import delete, or_, select, update

from auth.access import AGENT_ROLE, ELECTION_ROLE, MUNICIPALITY_ROLE, Identity
from auth.models import AuthSession, LoginRequest
from auth.rp import tokens
from auth.settings import AuthSettings, ProviderSettings
from registry.audit import services as audit
from registry.config import value as setting_value
from registry.db import begin_write, db, utcnow
from registry.domain.bsn import InvalidBsn, normalize_bsn

log = logging.getLogger("registry.auth")

COOKIE_NAME = "steunregister_sid"
PENDING_KEY = "oidc_pending"  # the states of logins this browser started (Flask's signed cookie)
LOGIN_REQUEST_TTL = timedelta(minutes=10)
DISCOVERY_TTL = 3600.0
JWKS_TTL = 3600.0
MAX_RESPONSE_BYTES = 1_000_000
EXTENSION = "steunregister.auth"
MAX_VERIFIED_TOKENS = 50_000  # a bound on the verified-token cache's memory (tokens of a few hundred bytes)
_clock = time.monotonic  # the caches' clock; tests move it instead of sleeping


# --- failures ------------------------------------------------------------------------------------

class LoginFailed(Exception):
    """A login (or bearer token) that must be refused.

    ``kind`` picks the page the user sees: unreachable, untrusted, invalid, state, cancelled, level,
    level_unknown, no_role, no_bsn. ``code`` is the precise reason, for logs, support and tests.
    """

    STATUS: ClassVar[dict[str, int]] = {"unreachable": 502, "untrusted": 502, "level": 403, "level_unknown": 403,
                                        "no_role": 403}

    def __init__(self, kind: str, code: str, detail: str = "", *, provider: str | None = None,
                 level: str | None = None) -> None:
        super().__init__(f"{kind}/{code}: {detail}")
        self.kind = kind
        self.code = code
        self.detail = detail
        self.provider = provider
        self.level = level

    @property
    def status(self) -> int:
        return self.STATUS.get(self.kind, 400)

    @property
    def public_detail(self) -> str:
        return {
            "level": "Het betrouwbaarheidsniveau van deze inlog is te laag.",
            "no_role": "Dit token geeft geen rol in het Steunregister.",
            "unreachable": "De inlogdienst is niet bereikbaar om het token te controleren.",
        }.get(self.kind, f"Het token is niet geldig ({self.code}).")


# --- fetching from the provider ----------------------------------------------------------------------

@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # names lower-cased
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json_object(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise ValueError("not JSON") from None
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        return value


class Fetcher(Protocol):
    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                form: Mapping[str, str] | None = None) -> HttpResponse:
        """Raises ProviderUnreachable when no HTTP answer came back."""
        ...


class ProviderUnreachable(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A provider endpoint that redirects is answered as-is (a 3xx status), never followed.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class UrllibFetcher:
    """Real HTTP with the standard library: http(s) only, no redirects, bounded size and time."""

    def __init__(self, timeout: float, *, https_only: bool) -> None:
        self.timeout = timeout
        self.https_only = https_only
        self._opener = urllib.request.build_opener(_NoRedirect)

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                form: Mapping[str, str] | None = None) -> HttpResponse:
        scheme = urlsplit(url).scheme
        if scheme != "https" and (self.https_only or scheme != "http"):
            raise ProviderUnreachable(f"refusing to fetch a {scheme or 'relative'} URL")
        data = urlencode(dict(form)).encode() if form is not None else None
        all_headers = {"Accept": "application/json", "User-Agent": "Steunregister", **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return self._response(resp.status, resp.headers, resp.read(MAX_RESPONSE_BYTES + 1))
        except urllib.error.HTTPError as exc:
            with exc:
                return self._response(exc.code, exc.headers, exc.read(MAX_RESPONSE_BYTES + 1))
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException, ValueError) as exc:
            raise ProviderUnreachable(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None

    @staticmethod
    def _response(status: int, headers: Any, body: bytes) -> HttpResponse:
        if len(body) > MAX_RESPONSE_BYTES:
            raise ProviderUnreachable("the provider's answer is too large")
        return HttpResponse(status, {k.lower(): v for k, v in (headers or {}).items()}, body)


class WsgiFetcher:
    """The app's own mock issuer, called in-process through werkzeug's test Client.

    A fresh application context gives the inner request its own database session, so the outer
    request's transaction is never touched.
    """

    def __init__(self, app: Flask, origin: str) -> None:
        self.app = app
        self.origin = origin

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                form: Mapping[str, str] | None = None) -> HttpResponse:
        from werkzeug.test import Client

        if not url.startswith(self.origin + "/"):
            raise ProviderUnreachable("the in-process fetcher only reaches this app's own mock issuer")
        with self.app.app_context():
            response = Client(self.app).open(url, method=method, headers=dict(headers or {}),
                                             data=dict(form) if form is not None else None)
            body = response.get_data()
            status = response.status_code
            response_headers = {k.lower(): v for k, v in response.headers.items()}
            response.close()
        return HttpResponse(status, response_headers, body)


# --- one provider: discovery, JWKS, token, userinfo ------------------------------------------------

@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    token_auth_methods: tuple[str, ...]


@dataclass
class OidcClient:
    """Discovery and JWKS of one issuer, cached in memory (caches only: never session state)."""

    issuer: str
    fetcher: Fetcher
    settings: AuthSettings
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _metadata: ProviderMetadata | None = None
    _metadata_at: float = 0.0
    _jwks: dict[str, Any] | None = None
    _jwks_at: float = float("-inf")
    jwks_fetches: int = 0
    # Access tokens already verified against the current keys, until their exp: an API client sends the same
    # token with every request, and checking its ES256 signature each time was a tenth of a declaration's CPU.
    # Emptied whenever the keys are fetched again, so a key the issuer withdrew stops working then.
    _verified: dict[tuple[str, str], tuple[dict[str, Any], float]] = field(default_factory=dict)

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            if self._metadata is not None and _clock() - self._metadata_at < DISCOVERY_TTL:
                return self._metadata
        doc = self._get_json(self.issuer + "/.well-known/openid-configuration", "discovery")
        if doc.get("issuer") != self.issuer:
            # OIDC Discovery §4.3: the document must name exactly the issuer we asked.
            raise LoginFailed("untrusted", "discovery_issuer_mismatch",
                              f"discovery names issuer {str(doc.get('issuer'))[:200]!r}")
        endpoints = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
                     "end_session_endpoint"):
            value = doc.get(name)
            required = name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
            if value is None and not required:
                endpoints[name] = None
                continue
            if not isinstance(value, str) or not self._acceptable_url(value):
                raise LoginFailed("untrusted", "discovery_endpoint", f"{name} is missing or not an allowed URL")
            endpoints[name] = value
        methods = doc.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise LoginFailed("untrusted", "discovery_no_pkce", "the provider does not support PKCE S256")
        auth_methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        metadata = ProviderMetadata(
            issuer=self.issuer,
            authorization_endpoint=endpoints["authorization_endpoint"],
            token_endpoint=endpoints["token_endpoint"],
            jwks_uri=endpoints["jwks_uri"],
            userinfo_endpoint=endpoints["userinfo_endpoint"],
            end_session_endpoint=endpoints["end_session_endpoint"],
            token_auth_methods=tuple(m for m in auth_methods if isinstance(m, str)),
        )
        with self._lock:
            self._metadata, self._metadata_at = metadata, _clock()
        return metadata

    def _acceptable_url(self, url: str) -> bool:
        scheme = urlsplit(url).scheme
        return scheme == "https" or (scheme == "http" and not self.settings.production)

    def _get_json(self, url: str, what: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        try:
            response = self.fetcher.request("GET", url, headers=headers)
        except ProviderUnreachable as exc:
            raise LoginFailed("unreachable", f"{what}_unreachable", str(exc)) from None
        if response.status != 200:
            raise LoginFailed("unreachable", f"{what}_http_{response.status}", f"{what} answered {response.status}")
        try:
            return response.json_object()
        except ValueError as exc:
            raise LoginFailed("untrusted", f"{what}_not_json", str(exc)) from None

    # JWKS: cached; one refetch when a token names a kid we do not know, at most once per interval.
    def _fetch_jwks(self) -> dict[str, Any]:
        jwks = self._get_json(self.metadata().jwks_uri, "jwks")
        if not isinstance(jwks.get("keys"), list):
            raise LoginFailed("untrusted", "jwks_malformed", "the JWKS has no keys list")
        with self._lock:
            self._jwks, self._jwks_at = jwks, _clock()
            self.jwks_fetches += 1
            self._verified.clear()
        return jwks

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            if self._jwks is not None and _clock() - self._jwks_at < JWKS_TTL:
                return self._jwks
        return self._fetch_jwks()

    def _may_refetch(self) -> bool:
        with self._lock:
            return _clock() - self._jwks_at >= self.settings.jwks_refetch_interval

    def verify(self, token: str, audience: str, what: str) -> dict[str, Any]:
        """Verified claims, or LoginFailed('invalid', '<what>_<reason>')."""
        cacheable = what == "access_token"
        if cacheable and self.still_verified(token, audience):
            with self._lock:
                hit = self._verified.get((token, audience))
            if hit is not None:
                return dict(hit[0])
        claims = self._verify(token, audience, what)
        expires = claims.get("exp")
        if cacheable and isinstance(expires, int | float):
            with self._lock:
                if len(self._verified) >= MAX_VERIFIED_TOKENS:
                    self._verified.clear()
                self._verified[(token, audience)] = (dict(claims), float(expires))
        return claims

    def still_verified(self, token: str, audience: str) -> bool:
        """Whether this access token was verified against the keys held now and has not expired."""
        with self._lock:
            hit = self._verified.get((token, audience))
            fresh_keys = self._jwks is not None and _clock() - self._jwks_at < JWKS_TTL
        return hit is not None and fresh_keys and time.time() < hit[1]

    def _verify(self, token: str, audience: str, what: str) -> dict[str, Any]:
        leeway = self.settings.clock_skew
        try:
            try:
                return tokens.verify_jwt(token, self.jwks(), issuer=self.issuer, audience=audience, leeway=leeway)
            except tokens.UnknownKey:
                if not self._may_refetch():
                    raise
                log.info("unknown signing key from %s: fetching the JWKS again", self.issuer)
                return tokens.verify_jwt(token, self._fetch_jwks(), issuer=self.issuer, audience=audience,
                                         leeway=leeway)
        except tokens.TokenError as exc:
            raise LoginFailed("invalid", f"{what}_{exc.code}", exc.detail) from None

    def exchange_code(self, provider: ProviderSettings, code: str, redirect_uri: str,
                      verifier: str) -> dict[str, Any]:
        metadata = self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": verifier}
        headers: dict[str, str] = {}
        if provider.client_secret is None:
            form["client_id"] = provider.client_id
        elif ("client_secret_basic" in metadata.token_auth_methods
              or "client_secret_post" not in metadata.token_auth_methods):
            # RFC 6749 §2.3.1: form-encode id and secret before base64.
            pair = f"{quote(provider.client_id, safe='')}:{quote(provider.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form.update(client_id=provider.client_id, client_secret=provider.client_secret)
        try:
            response = self.fetcher.request("POST", metadata.token_endpoint, headers=headers, form=form)
        except ProviderUnreachable as exc:
            raise LoginFailed("unreachable", "token_unreachable", str(exc)) from None
        try:
            body = response.json_object()
        except ValueError:
            body = {}
        if response.status != 200:
            error = str(body.get("error") or f"http_{response.status}")[:60]
            raise LoginFailed("invalid", f"token_refused_{error}", str(body.get("error_description") or "")[:300])
        if str(body.get("token_type", "")).lower() != "bearer":
            raise LoginFailed("invalid", "token_type", "the token endpoint gave no bearer token")
        for name in ("id_token", "access_token"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise LoginFailed("invalid", f"token_no_{name}", f"the token endpoint gave no {name}")
        return body

    def userinfo(self, access_token: str) -> dict[str, Any] | None:
        endpoint = self.metadata().userinfo_endpoint
        if endpoint is None:
            return None
        info = self._get_json(endpoint, "userinfo", headers={"Authorization": f"Bearer {access_token}"})
        return info


# --- per-app state -------------------------------------------------------------------------------------

class AuthState:
    """What the auth package keeps per app: settings, provider clients, the session cipher."""

    def __init__(self, app: Flask, settings: AuthSettings) -> None:
        self.app = app
        self.settings = settings
        self._clients: dict[str, OidcClient] = {}
        # Access token -> the identity made from it and the client that verified it (reused while that client
        # still vouches for the token: see identity_from_access_token).
        self.identities: dict[str, tuple[Identity, OidcClient]] = {}
        self._lock = threading.Lock()
        self.session_cipher = AESGCM(settings.derive_key("auth-sessions bsn v1"))
        self.subject_key = settings.derive_key("auth voter subject v1")

    def client(self, provider: ProviderSettings) -> OidcClient:
        with self._lock:
            existing = self._clients.get(provider.issuer)
            if existing is None:
                existing = OidcClient(provider.issuer, self._fetcher(provider), self.settings)
                self._clients[provider.issuer] = existing
            return existing

    def _fetcher(self, provider: ProviderSettings) -> Fetcher:
        if self.settings.uses_mock(provider):
            parts = urlsplit(self.settings.mock.issuer)
            return WsgiFetcher(self.app, f"{parts.scheme}://{parts.netloc}")
        return UrllibFetcher(self.settings.http_timeout, https_only=self.settings.production)


def state() -> AuthState:
    return current_app.extensions[EXTENSION]


def settings() -> AuthSettings:
    return state().settings


# --- starting and finishing a login ------------------------------------------------------------------

def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 for c in target) or urlsplit(target).netloc:
        return None
    return target[:500]


def redirect_uri() -> str:
    return settings().redirect_uri or url_for("auth.callback", _external=True)


def post_logout_redirect_uri() -> str:
    logout = settings().post_logout_redirect_uri
    if logout:
        return logout
    configured = settings().redirect_uri
    if configured:
        parts = urlsplit(configured)
        return f"{parts.scheme}://{parts.netloc}/uitgelogd"
    return url_for("auth.logged_out", _external=True)


def start_login(provider: ProviderSettings, next_url: str | None) -> str:
    """Record a pending login and return the provider's authorize URL to send the browser to."""
    metadata = state().client(provider).metadata()  # refuses an untrusted discovery before anything else
    login_state = secrets.token_urlsafe(32)  # 256 bits each
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters (RFC 7636: 43-128)
    challenge = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    callback = redirect_uri()
    now = utcnow()
    begin_write(db.session)
    try:
        _prune_login_requests(now)
        db.session.add(LoginRequest(state_hash=_sha256(login_state), provider=provider.name,
                                    nonce_hash=_sha256(nonce), code_verifier=verifier, redirect_uri=callback,
                                    next_url=safe_next(next_url), created_at=now,
                                    expires_at=now + LOGIN_REQUEST_TTL))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    pending = [s for s in session.get(PENDING_KEY, []) if isinstance(s, str)][-2:]
    session[PENDING_KEY] = [*pending, login_state]
    params = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": callback,
        "scope": settings().scopes,
        "state": login_state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "acr_values": settings().acr_value_for(provider.min_level),
    }
    separator = "&" if "?" in metadata.authorization_endpoint else "?"
    return metadata.authorization_endpoint + separator + urlencode(params)


def _prune_login_requests(now: datetime) -> None:
    """Expired and used pending logins go at once; beyond LOGIN_PENDING_MAX the oldest go too, so a flood
    of login starts (from many addresses) cannot grow the table without bound."""
    db.session.execute(delete(LoginRequest).where(
        or_(LoginRequest.expires_at < now, LoginRequest.used_at.is_not(None))))
    keep = setting_value(current_app.config["STEUNREGISTER"], "LOGIN_PENDING_MAX") - 1
    oldest = select(LoginRequest.state_hash).order_by(LoginRequest.created_at.desc()).offset(keep).scalar_subquery()
    db.session.execute(delete(LoginRequest).where(LoginRequest.state_hash.in_(oldest)))


@dataclass(frozen=True)
class LoginResult:
    identity: Identity
    provider: ProviderSettings
    next_url: str | None


def finish_login(args: Mapping[str, str]) -> LoginResult:
    """Check the callback, redeem the code, verify everything; raises LoginFailed."""
    row = _consume_login_request(args.get("state"))
    provider = settings().provider(row.provider)
    if provider is None:
        raise LoginFailed("state", "unknown_provider")
    if args.get("error"):
        raise LoginFailed("cancelled", f"provider_error_{str(args['error'])[:40]}",
                          str(args.get("error_description", ""))[:300], provider=provider.name)
    # RFC 9207: an authorization response naming another issuer is a mix-up attack.
    if "iss" in args and args["iss"] != provider.issuer:
        raise LoginFailed("invalid", "callback_iss_mismatch", provider=provider.name)
    code = args.get("code")
    if not code or len(code) > 2048:
        raise LoginFailed("invalid", "callback_no_code", provider=provider.name)

    try:
        return _redeem(provider, code, row)
    except LoginFailed as exc:
        exc.provider = exc.provider or provider.name
        raise


def _redeem(provider: ProviderSettings, code: str, row: _PendingLogin) -> LoginResult:
    client = state().client(provider)
    response = client.exchange_code(provider, code, row.redirect_uri, row.code_verifier)
    access_token: str = response["access_token"]
    claims = client.verify(response["id_token"], provider.client_id, "id_token")
    _check_id_token(claims, row, provider, access_token)
    level = check_level(claims.get("acr"), provider)
    # Only now, with a valid ID token, is the access token used.
    info = client.userinfo(access_token)
    if info is not None:
        if info.get("sub") != claims["sub"]:
            raise LoginFailed("invalid", "userinfo_sub_mismatch")
        claims = {**info, **claims}  # the signed ID token wins where both have a claim
    identity = identity_from_claims(claims, provider.kind, level)
    return LoginResult(identity, provider, row.next_url)


@dataclass(frozen=True)
class _PendingLogin:
    provider: str
    nonce_hash: str
    code_verifier: str
    redirect_uri: str
    next_url: str | None


def _consume_login_request(login_state: str | None) -> _PendingLogin:
    pending = [s for s in session.get(PENDING_KEY, []) if isinstance(s, str)]
    if not login_state or not any(hmac.compare_digest(login_state, s) for s in pending):
        raise LoginFailed("state", "state_mismatch", "the state is not one this browser started")
    session[PENDING_KEY] = [s for s in pending if s != login_state]
    now = utcnow()
    state_hash = _sha256(login_state)
    begin_write(db.session)
    try:
        # Single use across every instance: only the first UPDATE finds used_at still empty.
        result = db.session.execute(
            update(LoginRequest)
            .where(LoginRequest.state_hash == state_hash, LoginRequest.used_at.is_(None),
                   LoginRequest.expires_at > now)
            .values(used_at=now)
        )
        row = db.session.get(LoginRequest, state_hash) if result.rowcount == 1 else None
        pending_login = None if row is None else _PendingLogin(row.provider, row.nonce_hash, row.code_verifier,
                                                               row.redirect_uri, row.next_url)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if pending_login is None:
        raise LoginFailed("state", "state_used_or_expired", "this login was already used or has expired")
    return pending_login


def _check_id_token(claims: Mapping[str, Any], row: _PendingLogin, provider: ProviderSettings,
                    access_token: str) -> None:
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise LoginFailed("invalid", "id_token_nonce_missing", provider=provider.name)
    if not hmac.compare_digest(_sha256(nonce), row.nonce_hash):
        raise LoginFailed("invalid", "id_token_nonce_mismatch", provider=provider.name)
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != provider.client_id:
        raise LoginFailed("invalid", "id_token_azp", provider=provider.name)
    if "at_hash" in claims and not hmac.compare_digest(str(claims["at_hash"]), tokens.at_hash(access_token)):
        raise LoginFailed("invalid", "id_token_at_hash", provider=provider.name)


def check_level(acr: Any, provider: ProviderSettings) -> str:
    level = settings().level(acr)
    if level not in provider.levels:
        raise LoginFailed("level_unknown", "acr_unknown", f"acr {str(acr)[:80]!r} is not a {provider.name} level",
                          provider=provider.name, level=None)
    if provider.levels.index(level) < provider.levels.index(provider.min_level):
        raise LoginFailed("level", "acr_too_low", f"{level} is below {provider.min_level}",
                          provider=provider.name, level=level)
    return level


def identity_from_claims(claims: Mapping[str, Any], kind: str, level: str) -> Identity:
    names = settings().claims
    if kind == "voter":
        try:
            bsn = normalize_bsn(claims.get(names.bsn))  # type: ignore[arg-type]
        except InvalidBsn:
            raise LoginFailed("no_bsn", "no_valid_bsn", f"claim {names.bsn!r} holds no valid BSN") from None
        return Identity(kind="voter", subject=_voter_subject(str(claims["sub"]), bsn), acr=level,
                        roles=frozenset(), bsn=bsn, organisation=None, employee_id=None,
                        display_name=_voter_display(bsn))
    roles = _roles(claims.get(names.roles))
    if not roles:
        raise LoginFailed("no_role", "no_role", "no recognised role in the roles claim")
    employee = _short(claims.get(names.employee_id))
    organisation = _short(claims.get(names.organisation))
    name = _short(claims.get(names.name))
    return Identity(kind="staff", subject=str(claims["sub"])[:255], acr=level, roles=roles, bsn=None,
                    organisation=organisation, employee_id=employee,
                    display_name=name or (f"Medewerker {employee}" if employee else "Medewerker"))


def _roles(raw: Any) -> frozenset[str]:
    values = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return frozenset(v for v in values if isinstance(v, str)
                     and (MUNICIPALITY_ROLE.fullmatch(v) or ELECTION_ROLE.fullmatch(v) or AGENT_ROLE.fullmatch(v)))


def _short(value: Any) -> str | None:
    return (value.strip()[:200] or None) if isinstance(value, str) else None


def _voter_subject(sub: str, bsn: str) -> str:
    # A broker that puts the BSN in `sub` must not get it into audit actors: use a keyed hash instead.
    if sub == bsn or bsn in sub:
        return "h" + hmac.new(state().subject_key, bsn.encode(), hashlib.sha256).hexdigest()[:40]
    return sub[:255]


def _voter_display(bsn: str) -> str:
    return f"Kiezer (BSN *****{bsn[-4:]})"


# --- bearer tokens for /api/v1 ----------------------------------------------------------------------

def identity_from_access_token(token: str) -> Identity:
    """An access token from one of our issuers, for audience OIDC_API_AUDIENCE; raises LoginFailed.
    An identity already made from this token is reused while its issuer still vouches for the token
    (OidcClient.still_verified: until its exp, with the keys it was verified against)."""
    known = state().identities.get(token)
    if known is not None and known[1].still_verified(token, settings().api_audience):
        return known[0]
    identity, client = _identity_from_access_token(token)
    identities = state().identities
    if len(identities) >= MAX_VERIFIED_TOKENS:
        identities.clear()
    identities[token] = (identity, client)
    return identity


def _identity_from_access_token(token: str) -> tuple[Identity, OidcClient]:
    conf = settings()
    try:
        header = tokens.unverified_header(token)
        issuer = tokens.unverified_claims(token).get("iss")
    except tokens.TokenError as exc:
        raise LoginFailed("invalid", f"access_token_{exc.code}", exc.detail) from None
    candidates = [p for p in conf.providers() if p.issuer == issuer]
    if not candidates:
        raise LoginFailed("invalid", "access_token_issuer", "the token is not from our identity provider")
    client = state().client(candidates[0])
    claims = client.verify(token, conf.api_audience, "access_token")
    typ = str(header.get("typ", "at+jwt")).lower()
    if typ not in ("at+jwt", "application/at+jwt") or "nonce" in claims:
        # An ID token is not an access token, even when its audience happens to fit.
        raise LoginFailed("invalid", "access_token_type", "this is not an access token")
    names = conf.claims
    if claims.get(names.bsn) is not None:
        provider = next((p for p in candidates if p.kind == "voter"), conf.digid)
        return identity_from_claims(claims, "voter", check_level(claims.get("acr"), provider)), client
    client_id = claims.get("client_id")
    if isinstance(client_id, str) and client_id and claims["sub"] == client_id:
        municipalities = frozenset(r for r in _roles(claims.get(names.roles)) if MUNICIPALITY_ROLE.fullmatch(r))
        return Identity(kind="system", subject=client_id[:255], acr="", roles=municipalities, bsn=None,
                        organisation=_short(claims.get(names.organisation)), employee_id=None,
                        display_name=_short(claims.get(names.name)) or f"Systeem {client_id[:80]}"), client
    provider = next((p for p in candidates if p.kind == "staff"), conf.eherkenning)
    return identity_from_claims(claims, "staff", check_level(claims.get("acr"), provider)), client


# --- server-side sessions ------------------------------------------------------------------------------

def _encrypt_bsn(bsn: str, id_hash: str) -> bytes:
    nonce = secrets.token_bytes(12)
    return nonce + state().session_cipher.encrypt(nonce, bsn.encode(), f"auth_sessions:{id_hash}".encode())


def _decrypt_bsn(blob: bytes, id_hash: str) -> str | None:
    try:
        return state().session_cipher.decrypt(blob[:12], blob[12:], f"auth_sessions:{id_hash}".encode()).decode()
    except (InvalidTag, ValueError):
        return None


def create_session(result: LoginResult, previous_raw_id: str | None) -> str:
    """A new session (new random id at every login); ends the browser's previous one. Returns the id."""
    identity = result.identity
    raw_id = secrets.token_urlsafe(32)
    id_hash = _sha256(raw_id)
    now = utcnow()
    conf = settings()
    stored_claims = {"acr": identity.acr, "roles": sorted(identity.roles), "organisation": identity.organisation,
                     "employee_id": identity.employee_id}
    if identity.kind != "voter":
        stored_claims["display_name"] = identity.display_name
    begin_write(db.session)
    try:
        db.session.execute(delete(AuthSession).where(AuthSession.expires_at < now))
        if previous_raw_id:
            _end(_sha256(previous_raw_id), now, "replaced")
        db.session.add(AuthSession(
            id_hash=id_hash, provider=result.provider.name, kind=identity.kind, subject=identity.subject,
            claims=stored_claims,
            bsn_ciphertext=_encrypt_bsn(identity.bsn, id_hash) if identity.bsn else None,
            created_at=now, last_seen_at=now, expires_at=now + timedelta(seconds=conf.lifetime),
        ))
        if identity.kind == "staff":
            audit.append(db.session, actor=identity.audit_actor, action="auth.login",
                         payload={"provider": result.provider.name, "acr": identity.acr,
                                  "roles": sorted(identity.roles)})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log.info("login: %s via %s (%s)", identity.kind, result.provider.name, identity.acr)
    return raw_id


def _end(id_hash: str, now: datetime, reason: str) -> bool:
    result = db.session.execute(
        update(AuthSession).where(AuthSession.id_hash == id_hash, AuthSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return result.rowcount == 1


def end_session(raw_id: str, reason: str = "logout") -> str | None:
    """End the session; returns its provider name (for the provider's logout), or None."""
    id_hash = _sha256(raw_id)
    identity = _load(raw_id, touch=False)
    row = db.session.get(AuthSession, id_hash)
    provider = row.provider if row is not None else None
    now = utcnow()
    begin_write(db.session)
    try:
        ended = _end(id_hash, now, reason)
        if ended and identity is not None and identity.kind == "staff":
            audit.append(db.session, actor=identity.audit_actor, action="auth.logout", payload={"reason": reason})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return provider


def _load(raw_id: str, *, touch: bool) -> Identity | None:
    if not raw_id or len(raw_id) > 100:
        return None
    id_hash = _sha256(raw_id)
    row = db.session.get(AuthSession, id_hash)
    if row is None or row.ended_at is not None:
        return None
    conf = settings()
    now = utcnow()
    expired = "expired" if now >= row.expires_at else (
        "idle" if now - row.last_seen_at > timedelta(seconds=conf.idle_timeout) else None)
    identity = _identity_from_row(row, id_hash)
    stale = now - row.last_seen_at > timedelta(seconds=min(60, max(1, conf.idle_timeout // 10)))
    if expired or identity is None:
        if touch:
            _write(lambda: _end(id_hash, now, expired or "unreadable"))
        return None
    if touch and stale:
        _write(lambda: db.session.execute(
            update(AuthSession).where(AuthSession.id_hash == id_hash, AuthSession.ended_at.is_(None))
            .values(last_seen_at=now)))
    return identity


def _write(action: Any) -> None:
    begin_write(db.session)
    try:
        action()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _identity_from_row(row: AuthSession, id_hash: str) -> Identity | None:
    claims = row.claims or {}
    bsn = _decrypt_bsn(row.bsn_ciphertext, id_hash) if row.bsn_ciphertext else None
    if row.kind == "voter" and bsn is None:
        return None  # a voter session without a readable BSN is of no use (e.g. a changed master key)
    return Identity(
        kind=row.kind,  # type: ignore[arg-type]
        subject=row.subject,
        acr=str(claims.get("acr", "")),
        roles=frozenset(claims.get("roles") or ()),
        bsn=bsn,
        organisation=claims.get("organisation"),
        employee_id=claims.get("employee_id"),
        display_name=_voter_display(bsn) if bsn else str(claims.get("display_name") or "Medewerker"),
    )


def identity_from_session_cookie(touch: bool = False) -> Identity | None:
    """The identity of the browser's session cookie; with ``touch``, also records activity and ends a
    session that timed out (only from before_request, never in the middle of a view's transaction)."""
    if request.path.startswith("/api/"):
        return None  # the API takes bearer tokens only, so a cookie can never be used cross-site there
    raw_id = request.cookies.get(COOKIE_NAME)
    if not raw_id:
        return None
    identity = _load(raw_id, touch=touch)
    if identity is None:
        g._steunregister_clear_cookie = True
    return identity


def set_session_cookie(response: Any, raw_id: str) -> None:
    response.set_cookie(COOKIE_NAME, raw_id, httponly=True, samesite="Lax", secure=settings().secure_cookies,
                        path="/")


def clear_session_cookie(response: Any) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="Lax", secure=settings().secure_cookies)


# Where each role lands after login: URLs, not endpoints, so whichever feature serves the page (or
# the placeholder in auth/pages.py) takes the visitor in.
LANDING_PAGES: dict[str, str] = {
    "voter": "/mijn-verklaring",
    "clerk": "/balie",
    "csb": "/csb/{election}",
    "party_agent": "/partij",
}


def landing_page(identity: Identity) -> str:
    names = identity.role_names()
    role = next((r for r in ("voter", "clerk", "csb", "party_agent") if r in names), None)
    if role is None:
        return "/"
    elections = sorted(identity.elections())
    return LANDING_PAGES[role].format(election=quote(elections[0], safe="") if elections else "")


def logout_url(provider_name: str | None) -> str:
    """Where to send the browser after ending our session: the provider's end-session endpoint."""
    local = post_logout_redirect_uri()
    provider = settings().provider(provider_name or "")
    if provider is None:
        return local
    try:
        metadata = state().client(provider).metadata()
    except LoginFailed as exc:
        log.warning("provider logout skipped: %s", exc.code)
        return local
    if not metadata.end_session_endpoint:
        return local
    separator = "&" if "?" in metadata.end_session_endpoint else "?"
    return metadata.end_session_endpoint + separator + urlencode(
        {"client_id": provider.client_id, "post_logout_redirect_uri": local})
