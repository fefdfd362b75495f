"""The identity settings, read once from the STEUNREGISTER_* config into typed objects.

Everything a deployment changes to swap the mock for a real DigiD/eHerkenning broker lives here:
issuer URL, client id and secret, claim names, the acr map and the minimum levels.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from registry.config import DIGID_LEVELS, EHERKENNING_LEVELS, environment, is_production, value
from registry.privacy.keys import KeyConfigurationError, load_master_key

ProviderName = Literal["digid", "eherkenning"]

# Levels of assurance, lowest first: DIGID_LEVELS and EHERKENNING_LEVELS (registry.config, the settings' types).
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
        for acr, mapped in self.acr_map.items():
            if mapped == level:
                return acr
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
    # Every value through the settings registry (registry.config): its default and type live there.
    environment_name = environment(config)
    production = is_production(config)
    master_key = _master_key(config, instance_path, production)

    mock_flag = value(config, "MOCK_IDP")
    mock_enabled = environment_name in ("development", "test") if mock_flag is None else bool(mock_flag)
    if mock_enabled and production:
        raise AuthConfigurationError(
            "Steunregister will not start: the mock identity provider (STEUNREGISTER_MOCK_IDP) is enabled "
            "under a production configuration"
        )
    mock_issuer = value(config, "MOCK_IDP_ISSUER") or (TEST_MOCK_ISSUER if environment_name == "test"
                                                          else DEV_MOCK_ISSUER)
    origin = _origin(mock_issuer)
    extra_redirects = tuple(u.strip() for u in str(value(config, "MOCK_IDP_REDIRECT_URIS") or "").split(",")
                            if u.strip())
    mock = MockSettings(
        enabled=mock_enabled,
        issuer=mock_issuer,
        redirect_uris=(origin + "/login/callback", *extra_redirects),
        post_logout_redirect_uris=(origin + "/uitgelogd", *(_origin(u) + "/uitgelogd" for u in extra_redirects)),
        key_retention_seconds=value(config, "MOCK_IDP_KEY_RETENTION"),
        bsn_claim=value(config, "MOCK_IDP_BSN_CLAIM"),
        key_dir=Path(instance_path) / "mock-idp-keys",
    )

    issuer = value(config, "OIDC_ISSUER") or (mock_issuer if mock_enabled else None)
    if not issuer:
        raise AuthConfigurationError(
            "Steunregister will not start: no identity provider; set STEUNREGISTER_OIDC_ISSUER "
            "(or STEUNREGISTER_MOCK_IDP=1 outside production)"
        )
    client_id = value(config, "OIDC_CLIENT_ID")
    secret = value(config, "OIDC_CLIENT_SECRET")
    if secret is None and mock_enabled and issuer == mock_issuer:
        secret = _derive_secret(master_key, f"mock-idp client secret {client_id}")
    eh_issuer = value(config, "OIDC_EHERKENNING_ISSUER") or issuer
    eh_client_id = value(config, "OIDC_EHERKENNING_CLIENT_ID") or client_id
    eh_secret = value(config, "OIDC_EHERKENNING_CLIENT_SECRET")
    if eh_secret is None:
        eh_secret = secret if (eh_issuer, eh_client_id) == (issuer, client_id) else None
    if eh_secret is None and mock_enabled and eh_issuer == mock_issuer:
        eh_secret = _derive_secret(master_key, f"mock-idp client secret {eh_client_id}")

    acr_map = _acr_map(value(config, "OIDC_ACR_MAP"))
    digid_min = value(config, "OIDC_MIN_ACR_DIGID")  # its type: one of DIGID_LEVELS
    eh_min = value(config, "OIDC_MIN_ACR_EHERKENNING")

    settings = AuthSettings(
        environment=environment_name,
        production=production,
        digid=ProviderSettings("digid", issuer, client_id, secret, DIGID_LEVELS, digid_min),
        eherkenning=ProviderSettings("eherkenning", eh_issuer, eh_client_id, eh_secret, EHERKENNING_LEVELS,
                                     eh_min),
        redirect_uri=value(config, "OIDC_REDIRECT_URI"),
        post_logout_redirect_uri=value(config, "OIDC_POST_LOGOUT_REDIRECT_URI"),
        scopes=value(config, "OIDC_SCOPES"),
        api_audience=value(config, "OIDC_API_AUDIENCE"),
        acr_map=acr_map,
        claims=ClaimNames(
            bsn=value(config, "OIDC_CLAIM_BSN"),
            roles=value(config, "OIDC_CLAIM_ROLES"),
            organisation=value(config, "OIDC_CLAIM_ORGANISATION"),
            employee_id=value(config, "OIDC_CLAIM_EMPLOYEE_ID"),
            name=value(config, "OIDC_CLAIM_NAME"),
        ),
        clock_skew=value(config, "OIDC_CLOCK_SKEW"),
        http_timeout=value(config, "OIDC_HTTP_TIMEOUT"),
        jwks_refetch_interval=value(config, "OIDC_JWKS_REFETCH_INTERVAL"),
        idle_timeout=value(config, "SESSION_IDLE_TIMEOUT"),
        lifetime=value(config, "SESSION_LIFETIME"),
        mock=mock,
        master_key=master_key,
    )
    _check(settings)
    return settings


def _check(settings: AuthSettings) -> None:
    """What production needs beyond each setting's type (scopes, timeouts and skew: their types, in the registry)."""
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
        return load_master_key(value(config, "MASTER_KEY"), value(config, "MASTER_KEY_FILE"),
                               create_at=None if production else Path(instance_path) / "master.key")
    except KeyConfigurationError as exc:
        raise AuthConfigurationError(f"Steunregister will not start: {exc}") from exc


def _derive_secret(master_key: bytes, purpose: str) -> str:
    digest = hmac.new(master_key, purpose.encode(), hashlib.sha256).digest()[:24]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _acr_map(configured: dict[str, Any] | None) -> dict[str, str]:
    if configured is None:
        return dict(DEFAULT_ACR_MAP)
    known = set(DIGID_LEVELS + EHERKENNING_LEVELS)
    bad = sorted(str(level) for level in configured.values() if level not in known)
    if bad:
        raise AuthConfigurationError(f"STEUNREGISTER_OIDC_ACR_MAP maps to unknown levels: {', '.join(bad)}")
    return {str(k): str(v) for k, v in configured.items()}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
