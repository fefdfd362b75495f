"""The identity settings, read once from the STEUNREGISTER_* config into typed objects.

Everything a deployment changes to swap the mock for a real DigiD/eHerkenning broker lives here:
issuer URL, client id and secret, claim names, the acr map and the minimum levels.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from registry.config import is_production
from registry.privacy.keys import KeyConfigurationError, load_master_key

ProviderName = Literal["digid", "eherkenning"]

# Levels of assurance, lowest first. DigiD: Logius' four levels; eHerkenning: EH1…EH4 as loa1…loa4.
DIGID_LEVELS: tuple[str, ...] = ("basis", "midden", "substantieel", "hoog")
EHERKENNING_LEVELS: tuple[str, ...] = ("loa1", "loa2", "loa3", "loa4")
DIGID_LABELS = {"basis": "Basis", "midden": "Midden", "substantieel": "Substantieel", "hoog": "Hoog"}

# Incoming acr value -> level. Plain names first: the reverse lookup (what we ask for in acr_values)
# takes the first key that maps to a level, so the mock gets plain names and a broker whose map is
# configured with URNs gets URNs.
DEFAULT_ACR_MAP: dict[str, str] = {
    **{level: level for level in DIGID_LEVELS + EHERKENNING_LEVELS},
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport": "basis",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract": "midden",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard": "substantieel",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI": "hoog",
    "urn:etoegang:core:assurance-class:loa1": "loa1",
    "urn:etoegang:core:assurance-class:loa2": "loa2",
    "urn:etoegang:core:assurance-class:loa2plus": "loa2",
    "urn:etoegang:core:assurance-class:loa3": "loa3",
    "urn:etoegang:core:assurance-class:loa4": "loa4",
}

MOCK_PATH = "/mock-idp"
DEV_MOCK_ISSUER = "http://127.0.0.1:5000" + MOCK_PATH
TEST_MOCK_ISSUER = "http://localhost" + MOCK_PATH  # the host Flask's test client uses


class AuthConfigurationError(RuntimeError):
    """The identity settings are unusable; the app must not start."""


@dataclass(frozen=True)
class ClaimNames:
    bsn: str = "bsn"
    roles: str = "roles"
    organisation: str = "organisation"
    employee_id: str = "employee_id"
    name: str = "name"


@dataclass(frozen=True)
class ProviderSettings:
    """One login route (/login/digid or /login/eherkenning) and the issuer behind it."""

    name: ProviderName
    issuer: str
    client_id: str
    client_secret: str | None
    levels: tuple[str, ...]
    min_level: str

    @property
    def kind(self) -> Literal["voter", "staff"]:
        return "voter" if self.name == "digid" else "staff"


@dataclass(frozen=True)
class MockSettings:
    enabled: bool
    issuer: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    key_retention_seconds: int
    bsn_claim: str
    key_dir: Path


@dataclass(frozen=True)
class AuthSettings:
    environment: str
    production: bool
    digid: ProviderSettings
    eherkenning: ProviderSettings
    redirect_uri: str | None
    post_logout_redirect_uri: str | None
    scopes: str
    api_audience: str
    acr_map: dict[str, str]
    claims: ClaimNames
    clock_skew: int
    http_timeout: float
    jwks_refetch_interval: float
    idle_timeout: int
    lifetime: int
    mock: MockSettings
    master_key: bytes = field(repr=False)

    @property
    def secure_cookies(self) -> bool:
        return self.environment not in ("development", "test")

    def provider(self, name: str) -> ProviderSettings | None:
        return {"digid": self.digid, "eherkenning": self.eherkenning}.get(name)

    def providers(self) -> tuple[ProviderSettings, ...]:
        return (self.digid, self.eherkenning)

    def level(self, acr: Any) -> str | None:
        """Our level name for an acr value from the broker, or None when it is not in the map."""
        return self.acr_map.get(acr) if isinstance(acr, str) else None

    def acr_value_for(self, level: str) -> str:
        """What to send as acr_values to ask for at least ``level``."""
        for value, mapped in self.acr_map.items():
            if mapped == level:
                return value
        return level

    def uses_mock(self, provider: ProviderSettings) -> bool:
        """True when this provider is the app's own mock, reached in-process (never over HTTP)."""
        return self.mock.enabled and provider.issuer == self.mock.issuer

    def derive_key(self, purpose: str, length: int = 32) -> bytes:
        """A key for one purpose, derived from the master key (HKDF-SHA-256); never stored."""
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"steunregister-auth",
                    info=purpose.encode()).derive(self.master_key)

    def derive_secret(self, purpose: str) -> str:
        return _derive_secret(self.master_key, purpose)


def load(config: dict[str, Any], instance_path: str) -> AuthSettings:
    environment = str(config.get("ENV") or "development").lower()
    production = is_production(config)
    master_key = _master_key(config, instance_path, production)

    mock_flag = config.get("MOCK_IDP")
    mock_enabled = (environment in ("development", "test")) if mock_flag in (None, "") else _flag(mock_flag)
    if mock_enabled and production:
        raise AuthConfigurationError(
            "Steunregister will not start: the mock identity provider (STEUNREGISTER_MOCK_IDP) is enabled "
            "under a production configuration"
        )
    mock_issuer = _url(config.get("MOCK_IDP_ISSUER")) or (TEST_MOCK_ISSUER if environment == "test"
                                                             else DEV_MOCK_ISSUER)
    origin = _origin(mock_issuer)
    extra_redirects = tuple(u.strip() for u in str(config.get("MOCK_IDP_REDIRECT_URIS") or "").split(",")
                            if u.strip())
    mock = MockSettings(
        enabled=mock_enabled,
        issuer=mock_issuer,
        redirect_uris=(origin + "/login/callback", *extra_redirects),
        post_logout_redirect_uris=(origin + "/uitgelogd", *(_origin(u) + "/uitgelogd" for u in extra_redirects)),
        key_retention_seconds=_int(config, "MOCK_IDP_KEY_RETENTION", 86400),
        bsn_claim=str(config.get("MOCK_IDP_BSN_CLAIM") or "bsn"),
        key_dir=Path(instance_path) / "mock-idp-keys",
    )

    issuer = _url(config.get("OIDC_ISSUER")) or (mock_issuer if mock_enabled else None)
    if not issuer:
        raise AuthConfigurationError(
            "Steunregister will not start: no identity provider; set STEUNREGISTER_OIDC_ISSUER "
            "(or STEUNREGISTER_MOCK_IDP=1 outside production)"
        )
    client_id = str(config.get("OIDC_CLIENT_ID") or "steunregister")
    secret = config.get("OIDC_CLIENT_SECRET") or None
    if secret is None and mock_enabled and issuer == mock_issuer:
        secret = _derive_secret(master_key, f"mock-idp client secret {client_id}")
    eh_issuer = _url(config.get("OIDC_EHERKENNING_ISSUER")) or issuer
    eh_client_id = str(config.get("OIDC_EHERKENNING_CLIENT_ID") or client_id)
    eh_secret = config.get("OIDC_EHERKENNING_CLIENT_SECRET") or None
    if eh_secret is None:
        eh_secret = secret if (eh_issuer, eh_client_id) == (issuer, client_id) else None
    if eh_secret is None and mock_enabled and eh_issuer == mock_issuer:
        eh_secret = _derive_secret(master_key, f"mock-idp client secret {eh_client_id}")

    acr_map = _acr_map(config.get("OIDC_ACR_MAP"))
    digid_min = str(config.get("OIDC_MIN_ACR_DIGID") or "substantieel")
    eh_min = str(config.get("OIDC_MIN_ACR_EHERKENNING") or "loa3")
    if digid_min not in DIGID_LEVELS:
        raise AuthConfigurationError(f"STEUNREGISTER_OIDC_MIN_ACR_DIGID must be one of {', '.join(DIGID_LEVELS)}")
    if eh_min not in EHERKENNING_LEVELS:
        raise AuthConfigurationError(
            f"STEUNREGISTER_OIDC_MIN_ACR_EHERKENNING must be one of {', '.join(EHERKENNING_LEVELS)}")

    settings = AuthSettings(
        environment=environment,
        production=production,
        digid=ProviderSettings("digid", issuer, client_id, secret, DIGID_LEVELS, digid_min),
        eherkenning=ProviderSettings("eherkenning", eh_issuer, eh_client_id, eh_secret, EHERKENNING_LEVELS,
                                     eh_min),
        redirect_uri=_url(config.get("OIDC_REDIRECT_URI")),
        post_logout_redirect_uri=_url(config.get("OIDC_POST_LOGOUT_REDIRECT_URI")),
        scopes=str(config.get("OIDC_SCOPES") or "openid"),
        api_audience=str(config.get("OIDC_API_AUDIENCE") or "steunregister-api"),
        acr_map=acr_map,
        claims=ClaimNames(
            bsn=str(config.get("OIDC_CLAIM_BSN") or "bsn"),
            roles=str(config.get("OIDC_CLAIM_ROLES") or "roles"),
            organisation=str(config.get("OIDC_CLAIM_ORGANISATION") or "organisation"),
            employee_id=str(config.get("OIDC_CLAIM_EMPLOYEE_ID") or "employee_id"),
            name=str(config.get("OIDC_CLAIM_NAME") or "name"),
        ),
        clock_skew=_int(config, "OIDC_CLOCK_SKEW", 60),
        http_timeout=float(config.get("OIDC_HTTP_TIMEOUT") or 5),
        jwks_refetch_interval=float(config.get("OIDC_JWKS_REFETCH_INTERVAL") or 10),
        idle_timeout=_int(config, "SESSION_IDLE_TIMEOUT", 900),
        lifetime=_int(config, "SESSION_LIFETIME", 28800),
        mock=mock,
        master_key=master_key,
    )
    _check(settings)
    return settings


def _check(settings: AuthSettings) -> None:
    if "openid" not in settings.scopes.split():
        raise AuthConfigurationError("STEUNREGISTER_OIDC_SCOPES must contain openid")
    if settings.idle_timeout <= 0 or settings.lifetime <= 0:
        raise AuthConfigurationError("session timeouts must be positive")
    if settings.clock_skew < 0 or settings.clock_skew > 300:
        raise AuthConfigurationError("STEUNREGISTER_OIDC_CLOCK_SKEW must be between 0 and 300 seconds")
    if not settings.production:
        return
    for provider in settings.providers():
        if not provider.issuer.startswith("https://"):
            raise AuthConfigurationError(
                f"Steunregister will not start: the {provider.name} issuer must be an https:// URL in production")
        if not provider.client_secret:
            raise AuthConfigurationError(
                f"Steunregister will not start: no client secret for {provider.name} "
                "(STEUNREGISTER_OIDC_CLIENT_SECRET)")
    # Never derived from a request in production: the Host header is the client's to choose.
    for name, uri in (("OIDC_REDIRECT_URI", settings.redirect_uri),
                      ("OIDC_POST_LOGOUT_REDIRECT_URI", settings.post_logout_redirect_uri)):
        if not uri:
            raise AuthConfigurationError(f"Steunregister will not start: STEUNREGISTER_{name} is not set "
                                         "(production never builds it from a request's Host header)")
        if not uri.startswith("https://"):
            raise AuthConfigurationError(f"Steunregister will not start: STEUNREGISTER_{name} must be https:// "
                                         "in production")


def _master_key(config: dict[str, Any], instance_path: str, production: bool) -> bytes:
    # The same call the app factory made a moment ago, so this returns the same key (and never
    # creates a second file); the key stays in memory here, only derived keys are used.
    try:
        return load_master_key(config.get("MASTER_KEY"), config.get("MASTER_KEY_FILE"),
                               create_at=None if production else Path(instance_path) / "master.key")
    except KeyConfigurationError as exc:
        raise AuthConfigurationError(f"Steunregister will not start: {exc}") from exc


def _derive_secret(master_key: bytes, purpose: str) -> str:
    digest = hmac.new(master_key, purpose.encode(), hashlib.sha256).digest()[:24]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _acr_map(raw: Any) -> dict[str, str]:
    if raw in (None, ""):
        return dict(DEFAULT_ACR_MAP)
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise AuthConfigurationError(f"STEUNREGISTER_OIDC_ACR_MAP is not valid JSON: {exc}") from None
    if not isinstance(value, dict) or not value:
        raise AuthConfigurationError("STEUNREGISTER_OIDC_ACR_MAP must be a non-empty JSON object")
    known = set(DIGID_LEVELS + EHERKENNING_LEVELS)
    bad = sorted(str(level) for level in value.values() if level not in known)
    if bad:
        raise AuthConfigurationError(f"STEUNREGISTER_OIDC_ACR_MAP maps to unknown levels: {', '.join(bad)}")
    return {str(k): str(v) for k, v in value.items()}


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _int(config: dict[str, Any], name: str, default: int) -> int:
    raw = config.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise AuthConfigurationError(f"STEUNREGISTER_{name} must be a whole number, not {raw!r}") from None


def _url(value: Any) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AuthConfigurationError(f"{text!r} is not an http(s) URL")
    return text


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
