"""`flask --app app log …`: seal the transparency log, run the sealer, watch a log from outside.

    flask --app app log seal [ELECTION]          append pending declarations, sign the heads that are due
    flask --app app log run [--interval 30]      the single sealer, every interval seconds (systemd: docs/deploy.md)
    flask --app app log status ELECTION          size, heads, and the delay from recording to inclusion
    flask --app app log monitor URL              fetch the heads over time and check consistency proofs
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from registry.config import value
from registry.db import db
from registry.dossier import verify
from registry.privacy.keys import ElectionKeysDestroyed
from registry.transparency import services as transparency

log_cli = AppGroup("log", help="Het openbare logboek van verklaringen (docs/transparency.md).")
MAX_INTERVAL = 60  # the issue: a head at least every minute while the window is open


def _report(result: transparency.SealResult) -> None:
    heads = f"; boomkop ondertekend: {', '.join(result.heads)}" if result.heads else ""
    click.echo(f"{result.election}: {result.appended} toegevoegd, {result.size} in het logboek{heads}")


@log_cli.command("seal")
@click.argument("election", required=False)
def seal_command(election: str | None) -> None:
    """Neem de nieuwe verklaringen op in het logboek en onderteken de boomkoppen die nodig zijn."""
    try:
        if election:
            _report(transparency.seal(db.session, transparency.find_election(db.session, election)))
        else:
            for result in transparency.seal_all(db.session):
                _report(result)
    except transparency.LogNotFound as exc:
        raise click.ClickException(str(exc)) from None
    except ElectionKeysDestroyed:
        raise click.ClickException(f"De sleutels van {election} zijn vernietigd (art. I 19).") from None


@log_cli.command("run")
@click.option("--interval", type=click.IntRange(1, MAX_INTERVAL), default=None,
              help="Seconden tussen twee rondes (standaard STEUNREGISTER_LOG_SEAL_INTERVAL).")
@click.option("--rounds", type=int, default=0, help="Stop na zoveel rondes (0: tot u stopt).")
def run_command(interval: int | None, rounds: int) -> None:
    """De verzegelaar: elke interval seconden seal voor elke verkiezing. Er mag er één tegelijk draaien; een
    tweede wacht op de rij van de eerste in log_states en doet dan niets dubbel."""
    every = interval or value(current_app.config["STEUNREGISTER"], "LOG_SEAL_INTERVAL")  # its type: 1 to 60
    done = 0
    while True:
        started = time.monotonic()
        try:
            for result in transparency.seal_all(db.session):
                if result.appended or result.heads:
                    _report(result)
        except Exception as exc:  # the database may be away for a moment: the next round tries again
            db.session.rollback()
            click.echo(f"ronde mislukt ({exc.__class__.__name__}: {exc}); volgende ronde opnieuw", err=True)
        done += 1
        if rounds and done >= rounds:
            return
        time.sleep(max(0.0, every - (time.monotonic() - started)))


@log_cli.command("status")
@click.argument("election")
def status_command(election: str) -> None:
    """Grootte, boomkoppen en de tijd van vastleggen tot opname in het logboek."""
    try:
        found = transparency.find_election(db.session, election)
    except transparency.LogNotFound as exc:
        raise click.ClickException(str(exc)) from None
    heads = transparency.heads(db.session, found)
    delays = sorted(transparency.sealing_delays(db.session, found))
    click.echo(f"{found.identifier}: {len(delays)} verklaringen in het logboek, {len(heads)} boomkoppen")
    for head in heads[-5:]:
        click.echo(f"  {head.timestamp} {head.kind}: {head.tree_size}, wortel {head.root_hash.hex()}")
    if delays:
        p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
        click.echo(f"  van vastleggen tot opname: mediaan {statistics.median(delays):.1f} s, 95% {p95:.1f} s, "
                   f"hoogst {delays[-1]:.1f} s")


@log_cli.command("monitor")
@click.argument("url")
@click.option("--log-key", type=click.Path(dir_okay=False, path_type=Path), help="De gepubliceerde sleutel (PEM).")
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path), help="Onthoud de geziene boomkoppen.")
@click.option("--interval", type=float, default=60, show_default=True, help="Seconden tussen twee rondes.")
@click.option("--rounds", type=int, default=0, help="Aantal rondes (0: tot u stopt).")
def monitor_command(url: str, log_key: Path | None, state: Path | None, interval: float, rounds: int) -> None:
    """Bewaak het logboek op URL (…/api/v1/elections/<verkiezing>/log): alle boomkoppen ondertekend, geen
    enkele veranderd of verdwenen, elke nieuwe een uitbreiding van de vorige (consistentiebewijs)."""
    key = verify.load_public_key(log_key.read_bytes(), str(log_key)) if log_key else None
    sys.exit(verify.monitor(url, key=key, state_file=state, interval=interval, rounds=rounds, say=click.echo))
