"""Configuration from the environment: one registry of every setting, one policy for a bad value.

Every setting is an environment variable prefixed ``STEUNREGISTER_`` and named in SETTINGS with its default,
its type and what it means; the README's table is generated from SETTINGS (``python -m registry.config``) and
a test keeps the two equal. ``create_app(config=...)`` may override any key (tests do); nothing else reads
the environment. Every reader goes through ``value(config, name)``; ``check(config)`` runs first at the start,
and a value that does not fit its type stops the start with the setting's name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many

PREFIX = "STEUNREGISTER_"
PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
PROJECT_DIR = PACKAGE_DIR.parent

ENVIRONMENTS = ("development", "test", "production")
MIN_SECRET_KEY_BYTES = 32
# Levels of assurance, lowest first. DigiD: Logius' four levels; eHerkenning: EH1…EH4 as loa1…loa4.
DIGID_LEVELS: tuple[str, ...] = ("basis", "midden", "substantieel", "hoog")
EHERKENNING_LEVELS: tuple[str, ...] = ("loa1", "loa2", "loa3", "loa4")


class SettingError(RuntimeError):
    """A setting's value does not fit its type: the app does not start."""


# --- the types: each turns the text of a variable into a value, or says what it must be -----------------

@dataclass(frozen=True)
class Type:
    kind: str  # what a value must be, as the error and the README say it: "a whole number ≥ 0"
    convert: Callable[[str], Any]  # raises ValueError for a value that does not fit
    bad_example: str | None = None  # a value it refuses (the test of the policy); None: any text fits
    empty_means_default: bool = True  # VAR= (empty) is the default; not for ENV, where a near miss matters


def _text(raw: str) -> str:
    return raw


def whole(minimum: int = 0, maximum: int | None = None) -> Type:
    def convert(raw: str) -> int:
        if not raw.strip().isdigit() or not minimum <= int(raw) <= (maximum if maximum is not None else int(raw)):
            raise ValueError(raw)
        return int(raw)

    kind = f"a whole number ≥ {minimum}" if maximum is None else f"a whole number from {minimum} to {maximum}"
    return Type(kind, convert, bad_example="x")


def seconds(above: float | None = None) -> Type:
    """A number of seconds, fractions allowed; at least 0, or more than ``above``."""
    def convert(raw: str) -> float:
        number = float(raw)  # ValueError for text
        if not (number > above if above is not None else number >= 0) or number != number:
            raise ValueError(raw)
        return number

    return Type(f"a number of seconds {'> ' + format(above, 'g') if above is not None else '≥ 0'}", convert,
                bad_example="-1")


def one_of(*choices: str) -> Type:
    def convert(raw: str) -> str:
        if raw not in choices:
            raise ValueError(raw)
        return raw

    return Type(f"one of {', '.join(choices)}", convert, bad_example="none-of-these")


def _flag(raw: str) -> bool:
    word = raw.strip().lower()
    if word not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(raw)
    return word in ("1", "true", "yes", "on")


def _url(raw: str) -> str:
    text = raw.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(raw)
    return text


def _rate_limits(raw: str) -> str:
    parse_many(raw)  # ValueError: "couldn't parse rate limit string"
    return raw


def _json_object(raw: str) -> dict[str, Any]:
    value = json.loads(raw)  # JSONDecodeError is a ValueError
    if not isinstance(value, dict) or not value:
        raise ValueError(raw)
    return value


def _scopes(raw: str) -> str:
    if "openid" not in raw.split():
        raise ValueError(raw)
    return raw


TEXT = Type("text", _text)
URL = Type("an http:// or https:// URL", _url, bad_example="broker.example")
FLAG = Type("1 or 0 (also true/false, yes/no, on/off)", _flag, bad_example="maybe")
RATE_LIMITS = Type('limits such as "20 per minute;200 per day"', _rate_limits, bad_example="lots")
JSON_OBJECT = Type("a non-empty JSON object", _json_object, bad_example="{")
SCOPES = Type("space-separated scopes including openid", _scopes, bad_example="profile")
ENVIRONMENT = Type(f"one of {', '.join(ENVIRONMENTS)}", one_of(*ENVIRONMENTS).convert, bad_example="prod",
                   empty_means_default=False)


@dataclass(frozen=True)
class Setting:
    default: str | None  # as the environment would give it; None: unset (what that means is in the description)
    type: Type
    description: str
    shown: str | None = None  # the default as the README shows it, where it is not the plain value


# name (without the prefix) -> its default, type and meaning.
SETTINGS: dict[str, Setting] = {
    "ENV": Setting("development", ENVIRONMENT,
            "exactly `development`, `test` or `production` (anything else stops the start); production refuses to"
            " start without keys"),
    "DATABASE_URL": Setting(None, TEXT,
            "SQLAlchemy URL, e.g. `postgresql://user@host/db` (psycopg 3)",
            shown="SQLite file `instance/steunregister.sqlite`"),
    "INSTANCE_PATH": Setting(None, TEXT, "folder for the SQLite file and the development keys", shown="`./instance`"),
    "SECRET_KEY": Setting(None, TEXT,
            "signs the session cookie; at least 32 bytes in production",
            shown="generated in the instance folder (development)"),
    "MASTER_KEY": Setting(None, TEXT, "base64 32-byte key that wraps every election's keys; never in the database"),
    "MASTER_KEY_FILE": Setting(None, TEXT,
            "file holding the master key instead",
            shown="`instance/master.key`, generated (development)"),
    "BRP_FIXTURE": Setting(str(DATA_DIR / "brp_demo.json"), TEXT,
            "person register as a JSON file shaped like BRP Personen Bevragen v2",
            shown="`registry/data/brp_demo.json`"),
    "BRP_URL": Setting(None, URL, "base URL of a real BRP Personen Bevragen v2 endpoint (replaces the fixture)"),
    "BRP_API_KEY": Setting(None, TEXT, "sent as `X-API-KEY` to `STEUNREGISTER_BRP_URL`"),
    "BRP_TIMEOUT": Setting("5", seconds(above=0), "seconds before the BRP counts as unreachable"),
    "LOG_LEVEL": Setting("INFO", one_of("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
            "level of the app's own logger"),
    "RATE_LIMIT_ENABLED": Setting("1", FLAG, "`0` turns the rate limits off"),
    "RATE_LIMIT_STORAGE": Setting("memory://", TEXT,
            "Flask-Limiter storage URI; `redis://…` when several processes share limits"),
    "RATE_LIMIT_PER_ADDRESS": Setting("120 per minute", RATE_LIMITS,
            "limit per IP address on the online and party pages"),
    "RATE_LIMIT_PER_SESSION": Setting("20 per minute;200 per day", RATE_LIMITS,
            "limit per logged-in voter on choose and confirm"),
    "RATE_LIMIT_LOGIN": Setting("30 per minute;300 per day", RATE_LIMITS,
            "limit per IP address on starting a login (`/login/digid`, `/login/eherkenning`)"),
    "RATE_LIMIT_LOOKUP": Setting("30 per minute;300 per hour", RATE_LIMITS,
            "limit per clerk on the counter's first step (is this person eligible, have they declared)"),
    "RATE_LIMIT_PER_CLIENT": Setting("600 per minute", RATE_LIMITS,
            "limit per clerk or system client on the declaration API (a batch counts once)"),
    "LOGIN_PENDING_MAX": Setting("10000", whole(1),
            "pending logins kept at most (each expires after 10 minutes); beyond it the oldest is dropped"),
    "ONLINE_MAX_CONCURRENT": Setting("16", whole(1),
            "online confirmations handled at once per process; one more gets a 503 page"),
    "ONLINE_BUSY_RETRY_AFTER": Setting("60", whole(1), "seconds in Retry-After on the busy page"),
    "API_MAX_CONCURRENT": Setting("8", whole(1),
            "declaration API requests handled at once per process; one more gets 503 + Retry-After (sheds a burst"
            " under gunicorn's gthread worker)"),
    "API_QUEUE": Setting("0", whole(0),
            "declaration API requests per process that may wait for a slot; one more gets 503 at once"),
    "API_QUEUE_WAIT_MS": Setting("500", whole(0), "how long such a request waits for a slot before it gets 503"),
    "PROGRESS_MAX_AGE": Setting("5", seconds(), "seconds before the party progress aggregates are recomputed"),
    "DOSSIER_SIGNING_KEY_FILE": Setting(None, TEXT,
            "PEM file (PKCS#8, unencrypted) with the Ed25519 key that signs dossiers; set it to keep the "
            "published key when the master key changes",
            shown="— (derived from the master key)"),
    "LOG_SIGNING_KEY_FILE": Setting(None, TEXT,
            "PEM file (PKCS#8, unencrypted) with the Ed25519 key that signs the transparency log's tree heads "
            "(docs/transparency.md)",
            shown="— (derived from the master key)"),
    "LOG_SEAL_INTERVAL": Setting("30", whole(1, 60),
            "seconds between two runs of the log sealer `flask --app app log run` (1–60)"),
    "PROXY_HOPS": Setting("0", whole(0),
            "number of reverse proxies in front that set `X-Forwarded-For`/`-Proto`; the client address behind "
            "them is then used for rate limits and logs. `0`: those headers are ignored (nobody can forge an "
            "address)"),
    "BODY_TIMEOUT": Setting("10", whole(1),
            "seconds a client may take to send a request body; then 408 and the connection is closed (a proxy "
            "that buffers bodies keeps slow clients away before that)"),
    "MAX_REQUEST_BYTES": Setting(str(6 * 1024 * 1024), whole(1),
            "largest request body in bytes; a larger one gets 413 (a Dutch page, or problem+json under `/api/`); "
            "leaves room for a party's 5 MB EML file",
            shown="`6291456` (6 MB)"),
    "MOCK_IDP": Setting(None, FLAG,
            "1 mounts the mock OIDC issuer at /mock-idp; default on in development and test, production refuses "
            "to start with it"),
    "MOCK_IDP_ISSUER": Setting(None, URL,
            "issuer URL of the mock; default http://127.0.0.1:5000/mock-idp (test: http://localhost/mock-idp)"),
    "MOCK_IDP_REDIRECT_URIS": Setting(None, TEXT,
            "comma-separated extra redirect URIs the mock accepts for the app's own client; <issuer "
            "origin>/login/callback always"),
    "MOCK_IDP_KEY_RETENTION": Setting("86400", whole(0),
            "seconds a rotated-out mock signing key stays published in the JWKS"),
    "MOCK_IDP_BSN_CLAIM": Setting("bsn", TEXT, "name of the claim in which the mock puts the BSN"),
    "OIDC_ISSUER": Setting(None, URL,
            "issuer URL of the DigiD/eHerkenning broker; default the mock's issuer when it runs"),
    "OIDC_CLIENT_ID": Setting("steunregister", TEXT, "our client id at the broker"),
    "OIDC_CLIENT_SECRET": Setting(None, TEXT,
            "our client secret at the broker; derived from the master key for the mock"),
    "OIDC_EHERKENNING_ISSUER": Setting(None, URL, "issuer for eHerkenning logins when it differs from OIDC_ISSUER"),
    "OIDC_EHERKENNING_CLIENT_ID": Setting(None, TEXT, "client id for eHerkenning logins; default OIDC_CLIENT_ID"),
    "OIDC_EHERKENNING_CLIENT_SECRET": Setting(None, TEXT,
            "client secret for eHerkenning logins; default OIDC_CLIENT_SECRET"),
    "OIDC_REDIRECT_URI": Setting(None, URL,
            "our callback URL as registered at the broker; required (https) in production; elsewhere default "
            "<this host>/login/callback"),
    "OIDC_POST_LOGOUT_REDIRECT_URI": Setting(None, URL,
            "where the broker sends the browser after logout, as registered there; required (https) in "
            "production; elsewhere default <origin of the redirect URI or this host>/uitgelogd"),
    "OIDC_SCOPES": Setting("openid", SCOPES, "space-separated scopes asked for at login"),
    "OIDC_API_AUDIENCE": Setting("steunregister-api", TEXT, "audience that bearer tokens for /api/v1 must carry"),
    "OIDC_ACR_MAP": Setting(None, JSON_OBJECT,
            "JSON object mapping the broker's acr values to basis/midden/substantieel/hoog or loa1-loa4; replaces"
            " the built-in map (plain names and the usual SAML/eToegang URNs)"),
    "OIDC_MIN_ACR_DIGID": Setting("substantieel", one_of(*DIGID_LEVELS), "lowest DigiD level a voter may log in with"),
    "OIDC_MIN_ACR_EHERKENNING": Setting("loa3", one_of(*EHERKENNING_LEVELS),
            "lowest eHerkenning level staff may log in with"),
    "OIDC_CLAIM_BSN": Setting("bsn", TEXT, "claim holding the BSN"),
    "OIDC_CLAIM_ROLES": Setting("roles", TEXT, "claim holding the roles (clerk:GM0363, csb:TK2025, agent:<list id>)"),
    "OIDC_CLAIM_ORGANISATION": Setting("organisation", TEXT, "claim holding the KvK number or OIN of the organisation"),
    "OIDC_CLAIM_EMPLOYEE_ID": Setting("employee_id", TEXT, "claim holding the employee id"),
    "OIDC_CLAIM_NAME": Setting("name", TEXT, "claim holding a display name (staff)"),
    "OIDC_CLOCK_SKEW": Setting("60", whole(0, 300), "seconds of clock difference allowed on exp, iat and nbf"),
    "OIDC_HTTP_TIMEOUT": Setting("5", seconds(above=0), "seconds before the broker counts as unreachable"),
    "OIDC_JWKS_REFETCH_INTERVAL": Setting("10", seconds(),
            "at least this many seconds between JWKS fetches for an unknown kid"),
    "SESSION_IDLE_TIMEOUT": Setting("900", whole(1), "seconds without a request after which a login session ends"),
    "SESSION_LIFETIME": Setting("28800", whole(1),
            "seconds after login at which a session ends regardless of activity"),
}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read every STEUNREGISTER_* variable into a flat config dict (key without the prefix)."""
    env = os.environ if environ is None else environ
    return {name: env.get(PREFIX + name, setting.default) for name, setting in SETTINGS.items()}


def value(config: dict[str, Any] | None, name: str) -> Any:
    """The setting ``name`` of ``config``, converted by its type; its default when unset (None when that is
    unset too). A value that does not fit stops the start: raises SettingError naming the setting."""
    setting = SETTINGS[name]
    raw = (config or {}).get(name)
    if raw is None or (setting.type.empty_means_default and str(raw).strip() == ""):
        raw = setting.default
    if raw is None:
        return None
    try:
        return setting.type.convert(str(raw))
    except ValueError:
        raise SettingError(f"Steunregister will not start: {PREFIX}{name} must be {setting.type.kind}, "
                           f"not {raw!r}") from None


def check(config: dict[str, Any]) -> None:
    """Every setting at once, at the start: one message names each bad value."""
    problems = []
    for name in SETTINGS:
        try:
            value(config, name)
        except SettingError as exc:
            problems.append(str(exc).removeprefix("Steunregister will not start: "))
    if problems:
        raise SettingError("Steunregister will not start: " + "; ".join(problems))


def whole_number(config: dict[str, Any], name: str, minimum: int = 0) -> int:
    """Kept for callers written before the registry (registry/api/routes.py): the same as ``value``, whose
    type carries the minimum."""
    return int(value(config, name))


def proxy_hops(config: dict[str, Any]) -> int:
    return int(value(config, "PROXY_HOPS"))


def environment(config: dict[str, Any]) -> str:
    """ENV, exactly one of ENVIRONMENTS. A near miss ("prod", "production ") would otherwise run with the
    production checks off: keys generated silently, the mock issuer mounted."""
    return str(value(config, "ENV"))


def is_development(config: dict[str, Any]) -> bool:
    return environment(config) == "development"


def is_production(config: dict[str, Any]) -> bool:
    return environment(config) == "production"


def markdown_table() -> str:
    """The README's table of settings, generated from SETTINGS."""
    lines = ["| variable | default | value | meaning |", "|---|---|---|---|"]
    for name, setting in SETTINGS.items():
        shown = setting.shown or (f"`{setting.default}`" if setting.default is not None else "—")
        lines.append(f"| `{PREFIX}{name}` | {shown} | {setting.type.kind} | {setting.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
