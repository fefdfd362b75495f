"""`flask --app app csb …`: the CSB's server-side commands. Destruction is deliberately not a button."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from registry.csb.services import CsbRefused, purge
from registry.db import db
from registry.elections.models import Election
from registry.i18n import count

csb_cli = AppGroup("csb", help="Het centraal stembureau: vernietiging na een onherroepelijke beslissing (art. I 19).")


@csb_cli.command("purge")
@click.argument("election")
@click.option("--execute", is_flag=True, help="Echt vernietigen. Zonder deze optie is het een proefrun.")
@click.option("--actor", default="csb:cli", show_default=True,
              help="Wie de vernietiging uitvoert (voor het proces-verbaal).")
def purge_command(election: str, execute: bool, actor: str) -> None:
    """Vernietig de persoonsgegevens van ELECTION (art. I 19). Standaard een proefrun die alleen telt."""
    found = db.session.scalar(select(Election).where(Election.identifier == election))
    if found is None:
        click.echo(f"Verkiezing {election} bestaat niet.", err=True)
        sys.exit(1)
    steps = ["tellen", "namen wissen", "pseudoniemen vervangen", "sleutels verwijderen", "proces-verbaal"]
    with click.progressbar(length=len(steps), label="Vernietiging" if execute else "Proefrun", file=sys.stderr) as bar:
        try:
            report = purge(db.session, found, actor, execute=execute)
        except CsbRefused as refused:
            click.echo(f"\n{refused.message}", err=True)
            sys.exit(1)
        bar.update(len(steps))
    verb = "Vernietigd" if report.executed else "Zou worden vernietigd"
    click.echo(f"{verb} voor {report.election}: {count(report.names, 'naam', 'namen')}, "
               f"{count(report.pseudonyms, 'pseudoniem', 'pseudoniemen')}, "
               f"de ontvangstcodes van {count(report.declarations, 'verklaring', 'verklaringen')}, "
               f"{'de sleutels van de verkiezing' if report.keys_present else 'geen sleutels (al weg)'}, "
               f"{count(report.idempotency_rows, 'bewaard API-antwoord', 'bewaarde API-antwoorden')}.")
    if not report.executed:
        click.echo("Dit was een proefrun. Vernietig echt met --execute.")
