"""The clients the mock issuer knows.

* the app itself (OIDC_CLIENT_ID, default ``steunregister``): confidential, code flow, redirect URIs
  ``<issuer origin>/login/callback`` plus MOCK_IDP_REDIRECT_URIS and OIDC_REDIRECT_URI;
* ``steunregister-cli``: a public client for tools and tests, code flow with PKCE, redirect URI
  ``http://127.0.0.1:8765/callback``; its tokens are for the API;
* ``gemeente-<GM code>``: one confidential demo client per municipality of any imported election, for
  ``client_credentials`` (a municipal back-office system); its tokens carry ``clerk:<GM code>``.

Secrets are derived from the master key (``flask --app app mock-idp clients`` prints them), so a demo
machine's mock does not share secrets with every other one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from auth.settings import AuthSettings
from registry.db import db
from registry.elections.models import Municipality

CLI_CLIENT_ID = "steunregister-cli"
CLI_REDIRECT_URI = "http://127.0.0.1:8765/callback"
MUNICIPAL_PREFIX = "gemeente-"
_MUNICIPAL = re.compile(r"gemeente-(GM\d{4})")


@dataclass(frozen=True)
class MockClient:
    client_id: str
    label: str
    secret: str | None  # None: a public client (PKCE only)
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    grant_types: frozenset[str]
    audiences: tuple[str, ...]  # audiences its access tokens may carry; the first is the default
    signing_alg: str = "RS256"
    roles: tuple[str, ...] = ()  # client_credentials only
    organisation: str | None = None

    @property
    def public(self) -> bool:
        return self.secret is None


def client_secret(conf: AuthSettings, client_id: str) -> str:
    # The same derivation auth.settings uses for the app's own default secret.
    return conf.derive_secret(f"mock-idp client secret {client_id}")


def municipality_oin(code: str) -> str:
    """A synthetic OIN-shaped number (20 digits) for a municipality: not a real OIN."""
    return f"00000001{int(code[2:]):09d}000"


def _app_clients(conf: AuthSettings) -> list[MockClient]:
    redirects = conf.mock.redirect_uris + ((conf.redirect_uri,) if conf.redirect_uri else ())
    # The app's own client(s) as the relying party is configured: same id, same secret.
    secrets = {p.client_id: p.client_secret or client_secret(conf, p.client_id)
               for p in conf.providers() if p.issuer == conf.mock.issuer}
    return [
        MockClient(client_id=client_id, label="Steunregister (deze applicatie)", secret=secret,
                   redirect_uris=redirects, post_logout_redirect_uris=conf.mock.post_logout_redirect_uris,
                   grant_types=frozenset({"authorization_code"}), audiences=(conf.api_audience,))
        for client_id, secret in secrets.items()
    ]


def _cli_client(conf: AuthSettings) -> MockClient:
    return MockClient(client_id=CLI_CLIENT_ID, label="Hulpprogramma's en tests (publiek, PKCE)", secret=None,
                      redirect_uris=(CLI_REDIRECT_URI,), post_logout_redirect_uris=(),
                      grant_types=frozenset({"authorization_code"}), audiences=(conf.api_audience,),
                      signing_alg="ES256")


def _municipal_client(conf: AuthSettings, code: str, name: str) -> MockClient:
    client_id = MUNICIPAL_PREFIX + code
    return MockClient(client_id=client_id, label=f"Gemeentelijk systeem {name}", secret=client_secret(conf, client_id),
                      redirect_uris=(), post_logout_redirect_uris=(), grant_types=frozenset({"client_credentials"}),
                      audiences=(conf.api_audience,), roles=(f"clerk:{code}",), organisation=municipality_oin(code))


def get_client(conf: AuthSettings, client_id: str | None) -> MockClient | None:
    if not client_id:
        return None
    for client in (*_app_clients(conf), _cli_client(conf)):
        if client.client_id == client_id:
            return client
    match = _MUNICIPAL.fullmatch(client_id)
    if match:
        name = db.session.scalar(select(Municipality.name).where(Municipality.code == match.group(1)).limit(1))
        if name is not None:
            return _municipal_client(conf, match.group(1), name)
    return None


def all_clients(conf: AuthSettings) -> list[MockClient]:
    rows = db.session.execute(select(Municipality.code, Municipality.name).order_by(Municipality.code)).all()
    municipal = {code: name for code, name in rows}
    return [*_app_clients(conf), _cli_client(conf),
            *(_municipal_client(conf, code, name) for code, name in municipal.items())]
