"""``flask --app app mock-idp …``: the mock issuer's keys and clients (only when the mock is enabled)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from auth.mock_idp import clients as mock_clients
from auth.mock_idp.services import mock
from registry.i18n import count

mock_idp_cli = AppGroup("mock-idp", help="De test-inlogdienst (mock DigiD/eHerkenning).")


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@mock_idp_cli.command("rotate-keys")
def rotate_keys_command() -> None:
    """Maak nieuwe ondertekensleutels (RS256 en ES256); de oude blijven een tijd gepubliceerd."""
    store = mock().keys
    new = store.rotate()
    retention = store.retention
    click.echo(f"Nieuwe sleutels: {', '.join(new)}.")
    click.echo(f"Vorige sleutels blijven {count(retention, 'seconde', 'seconden')} in de JWKS staan "
               "(STEUNREGISTER_MOCK_IDP_KEY_RETENTION).")


@mock_idp_cli.command("keys")
def keys_command() -> None:
    """Toon de sleutels van de test-inlogdienst."""
    store = mock().keys
    for record in store.records():
        status = "actief" if record.retired_at is None else (
            f"vervangen {_when(record.retired_at)}, gepubliceerd tot {_when(record.retired_at + store.retention)}")
        click.echo(f"{record.alg}  {record.kid}  aangemaakt {_when(record.created_at)}  {status}")


@mock_idp_cli.command("clients")
def clients_command() -> None:
    """Toon de clients van de test-inlogdienst met hun (afgeleide) secrets."""
    conf = mock().conf
    for client in mock_clients.all_clients(conf):
        kind = "publiek (PKCE)" if client.public else f"secret {client.secret}"
        grants = ", ".join(sorted(client.grant_types))
        redirects = ", ".join(client.redirect_uris) or "-"
        click.echo(f"{client.client_id}: {client.label}; {grants}; {kind}; redirect: {redirects}")
