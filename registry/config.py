"""Configuration from the environment.

Every setting is an environment variable prefixed ``STEUNREGISTER_`` and documented in the README.
``create_app(config=...)`` may override any key (tests do); nothing else reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PREFIX = "STEUNREGISTER_"
PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
PROJECT_DIR = PACKAGE_DIR.parent

# name -> (default, description). The README table is checked against this dict by a test.
SETTINGS: dict[str, tuple[Any, str]] = {
    "ENV": ("development", "development, test or production (exactly; anything else stops the start); production "
                           "refuses to start without keys"),
    "DATABASE_URL": (None, "SQLAlchemy URL; default SQLite file in the instance folder"),
    "INSTANCE_PATH": (None, "folder for the SQLite file and dev keys; default ./instance"),
    "SECRET_KEY": (None, "Flask session signing key, at least 32 bytes in production; generated into the instance "
                         "folder in development"),
    "MASTER_KEY": (None, "base64 32-byte key that wraps the per-election keys (or use MASTER_KEY_FILE)"),
    "MASTER_KEY_FILE": (None, "file holding the base64 master key; default instance/master.key in development"),
    "BRP_FIXTURE": (str(DATA_DIR / "brp_demo.json"), "JSON file of persons shaped like BRP Personen v2"),
    "BRP_URL": (None, "base URL of a real BRP Personen Bevragen v2 endpoint; overrides BRP_FIXTURE"),
    "BRP_API_KEY": (None, "API key sent as X-API-KEY to BRP_URL"),
    "BRP_TIMEOUT": ("5", "seconds before a BRP call counts as unreachable"),
    "LOG_LEVEL": ("INFO", "log level of the app logger"),
    "RATE_LIMIT_ENABLED": ("1", "0 turns the rate limits off"),
    "RATE_LIMIT_STORAGE": ("memory://", "Flask-Limiter storage URI; redis://… when several processes share limits"),
    "RATE_LIMIT_PER_ADDRESS": ("120 per minute", "limit per IP address on the online and party pages"),
    "RATE_LIMIT_PER_SESSION": ("20 per minute;200 per day", "limit per logged-in voter on choose and confirm"),
    "RATE_LIMIT_LOGIN": ("30 per minute;300 per day", "limit per IP address on starting a login "
                                                     "(/login/digid, /login/eherkenning)"),
    "RATE_LIMIT_LOOKUP": ("30 per minute;300 per hour", "limit per clerk on the counter's first step (is this "
                                                         "person eligible, have they declared)"),
    "RATE_LIMIT_PER_CLIENT": ("600 per minute", "limit per clerk or system client on the declaration API (a "
                                                "batch counts once)"),
    "LOGIN_PENDING_MAX": ("10000", "pending logins kept at most (each expires after 10 minutes); beyond it the "
                                   "oldest is dropped"),
    "ONLINE_MAX_CONCURRENT": ("16", "online confirmations handled at once per process; one more gets a 503 page"),
    "ONLINE_BUSY_RETRY_AFTER": ("60", "seconds in Retry-After on the busy page"),
    "API_MAX_CONCURRENT": ("8", "declaration API requests handled at once per process; one more gets 503 + "
                                "Retry-After (sheds a burst under gunicorn's gthread worker)"),
    "API_QUEUE": ("0", "declaration API requests per process that may wait for a slot; one more gets 503 at once "
                       "(0: none wait, so a saturated process refuses before Flask, registry.admission.Shedder)"),
    "API_QUEUE_WAIT_MS": ("500", "how long such a request waits for a slot before it gets 503"),
    "PROGRESS_MAX_AGE": ("5", "seconds before the party progress aggregates are recomputed"),
    "DOSSIER_SIGNING_KEY_FILE": (None, "PEM file (PKCS#8, unencrypted) with the Ed25519 key that signs dossiers; "
                                       "default a key derived from the master key"),
    "LOG_SIGNING_KEY_FILE": (None, "PEM file (PKCS#8, unencrypted) with the Ed25519 key that signs the transparency "
                                   "log's tree heads; default a key derived from the master key"),
    "LOG_SEAL_INTERVAL": ("30", "seconds between two runs of the log sealer (flask --app app log run); at most 60"),
    "PROXY_HOPS": ("0", "reverse proxies in front that set X-Forwarded-For/-Proto; their client address is used "
                        "(rate limits, logs); 0: the header is ignored"),
    "BODY_TIMEOUT": ("10", "seconds a client may take to send a request body; then 408 and the connection is "
                           "closed (a proxy that buffers bodies keeps slow clients away before that)"),
    "MAX_REQUEST_BYTES": (str(6 * 1024 * 1024), "largest request body in bytes; a larger one gets 413 (room for "
                                                 "a party's 5 MB EML file)"),
    # --- identity: the mock DigiD/eHerkenning issuer (development and test only) -----------------------
    "MOCK_IDP": (None, "1 mounts the mock OIDC issuer at /mock-idp; default on in development and test, "
                       "production refuses to start with it"),
    "MOCK_IDP_ISSUER": (None, "issuer URL of the mock; default http://127.0.0.1:5000/mock-idp "
                              "(test: http://localhost/mock-idp)"),
    "MOCK_IDP_REDIRECT_URIS": (None, "comma-separated extra redirect URIs the mock accepts for the app's own "
                                     "client; <issuer origin>/login/callback always"),
    "MOCK_IDP_KEY_RETENTION": ("86400", "seconds a rotated-out mock signing key stays published in the JWKS"),
    "MOCK_IDP_BSN_CLAIM": ("bsn", "name of the claim in which the mock puts the BSN"),
    # --- identity: the relying party ------------------------------------------------------------------
    "OIDC_ISSUER": (None, "issuer URL of the DigiD/eHerkenning broker; default the mock's issuer when it runs"),
    "OIDC_CLIENT_ID": ("steunregister", "our client id at the broker"),
    "OIDC_CLIENT_SECRET": (None, "our client secret at the broker; derived from the master key for the mock"),
    "OIDC_EHERKENNING_ISSUER": (None, "issuer for eHerkenning logins when it differs from OIDC_ISSUER"),
    "OIDC_EHERKENNING_CLIENT_ID": (None, "client id for eHerkenning logins; default OIDC_CLIENT_ID"),
    "OIDC_EHERKENNING_CLIENT_SECRET": (None, "client secret for eHerkenning logins; default OIDC_CLIENT_SECRET"),
    "OIDC_REDIRECT_URI": (None, "our callback URL as registered at the broker; required (https) in production; "
                                "outside production default <this host>/login/callback"),
    "OIDC_POST_LOGOUT_REDIRECT_URI": (None, "where the broker sends the browser after logout, as registered there; "
                                            "required (https) in production; outside production default "
                                            "<origin of OIDC_REDIRECT_URI or this host>/uitgelogd"),
    "OIDC_SCOPES": ("openid", "space-separated scopes asked for at login"),
    "OIDC_API_AUDIENCE": ("steunregister-api", "audience that bearer tokens for /api/v1 must carry"),
    "OIDC_ACR_MAP": (None, "JSON object mapping the broker's acr values to basis/midden/substantieel/hoog or "
                           "loa1-loa4; replaces the built-in map (plain names and the usual SAML/eToegang URNs)"),
    "OIDC_MIN_ACR_DIGID": ("substantieel", "lowest DigiD level a voter may log in with"),
    "OIDC_MIN_ACR_EHERKENNING": ("loa3", "lowest eHerkenning level staff may log in with"),
    "OIDC_CLAIM_BSN": ("bsn", "claim holding the BSN"),
    "OIDC_CLAIM_ROLES": ("roles", "claim holding the roles (clerk:GM0363, csb:TK2025, agent:<list id>)"),
    "OIDC_CLAIM_ORGANISATION": ("organisation", "claim holding the KvK number or OIN of the organisation"),
    "OIDC_CLAIM_EMPLOYEE_ID": ("employee_id", "claim holding the employee id"),
    "OIDC_CLAIM_NAME": ("name", "claim holding a display name (staff)"),
    "OIDC_CLOCK_SKEW": ("60", "seconds of clock difference allowed on exp, iat and nbf"),
    "OIDC_HTTP_TIMEOUT": ("5", "seconds before the broker counts as unreachable"),
    "OIDC_JWKS_REFETCH_INTERVAL": ("10", "at least this many seconds between JWKS fetches for an unknown kid"),
    "SESSION_IDLE_TIMEOUT": ("900", "seconds without a request after which a login session ends"),
    "SESSION_LIFETIME": ("28800", "seconds after login at which a session ends regardless of activity"),
}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read every STEUNREGISTER_* variable into a flat config dict (key without the prefix)."""
    env = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for name, (default, _description) in SETTINGS.items():
        config[name] = env.get(PREFIX + name, default)
    return config


def proxy_hops(config: dict[str, Any]) -> int:
    """PROXY_HOPS as a number; anything else stops the start (a wrong value would trust forged headers)."""
    raw = str(config.get("PROXY_HOPS") or "0").strip()
    if not raw.isdigit():
        raise RuntimeError(f"Steunregister will not start: STEUNREGISTER_PROXY_HOPS must be 0 or more, not {raw!r}")
    return int(raw)


def whole_number(config: dict[str, Any], name: str, minimum: int = 0) -> int:
    """A numeric setting; a value that is not a whole number of at least ``minimum`` stops the start
    with the setting's name, rather than running with a limit nobody chose."""
    raw = str(config.get(name) or SETTINGS[name][0]).strip()
    if not raw.isdigit() or int(raw) < minimum:
        raise RuntimeError(f"Steunregister will not start: {PREFIX}{name} must be a whole number of at least "
                           f"{minimum}, not {raw!r}")
    return int(raw)


ENVIRONMENTS = ("development", "test", "production")
MIN_SECRET_KEY_BYTES = 32


def environment(config: dict[str, Any]) -> str:
    """ENV, exactly one of ENVIRONMENTS. A near miss ("prod", "production ") would otherwise run with the
    production checks off: keys generated silently, the mock issuer mounted."""
    raw = config.get("ENV")
    value = SETTINGS["ENV"][0] if raw is None else raw
    if value not in ENVIRONMENTS:
        raise RuntimeError(f"Steunregister will not start: {PREFIX}ENV must be one of {', '.join(ENVIRONMENTS)}, "
                           f"not {value!r}")
    return str(value)


def is_development(config: dict[str, Any]) -> bool:
    return str(config.get("ENV") or "development").lower() == "development"


def is_production(config: dict[str, Any]) -> bool:
    return str(config.get("ENV", "")).lower() == "production"
