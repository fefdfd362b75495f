"""Command-line groups: ``flask --app app election|audit|demo|csb|dossier …``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from registry import demo_calendar
from registry.audit import services as audit
from registry.csb.cli import csb_cli
from registry.db import db, utcnow
from registry.demo import load_demo
from registry.dossier.cli import dossier_cli
from registry.elections import services as elections
from registry.eml import EmlError
from registry.i18n import count
from registry.transparency.cli import log_cli

AMS = ZoneInfo("Europe/Amsterdam")
CLI_ACTOR = "cli"

election_cli = AppGroup("election", help="Verkiezingen inlezen en instellen.")
audit_cli = AppGroup("audit", help="De auditketen controleren.")
demo_cli = AppGroup("demo", help="De demo-verkiezing laden en door haar kalender bewegen (alleen ontwikkeling).")


def _local_datetime(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is geen datum-tijd zoals 2026-03-02T17:00") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=AMS)


@election_cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def import_command(files: tuple[Path, ...]) -> None:
    """Lees EML_NL-bestanden in (110a definitie, 210 kandidaatstelling, 230b kandidatenlijsten)."""
    failed = False
    with click.progressbar(files, label="EML inlezen", file=sys.stderr, show_pos=True) as bar:
        for path in bar:
            try:
                data = path.read_bytes()
            except OSError as exc:
                click.echo(f"{path}: kan het bestand niet lezen: {exc.strerror}", err=True)
                failed = True
                continue
            try:
                result = elections.import_file(db.session, data, path.name, CLI_ACTOR)
            except (EmlError, elections.ImportRefused) as exc:
                click.echo(f"{path.name}: geweigerd, niets ingelezen. {exc}", err=True)
                failed = True
                continue
            what = {"110a": "verkiezingsdefinitie", "210": "kandidaatstelling", "230b": "kandidatenlijsten"}
            click.echo(f"{path.name}: {what[result.kind]} ingelezen voor {result.election}"
                       + (f"; {count(result.lists_created, 'nieuwe lijst', 'nieuwe lijsten')}, "
                          f"{count(result.versions_created, 'nieuwe versie', 'nieuwe versies')}"
                          if result.kind != "110a" else f"; {count(len(result.districts), 'kieskring', 'kieskringen')}")
                       + f". Vingerafdruk: {result.fingerprint}")
            if result.created_election and result.kind != "110a":
                click.echo(f"  Let op: verkiezing {result.election} is aangemaakt uit de lijsten; stel het "
                           f"aantal zetels in met: flask --app app election set {result.election} --seats N")
    if failed:
        sys.exit(1)


@election_cli.command("show")
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True, help="Als JSON.")
def show_command(identifier: str, as_json: bool) -> None:
    """Toon een verkiezing met haar instellingen, kieskringen en lijsten."""
    try:
        info = elections.describe(db.session, identifier)
    except elections.SettingsRefused as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(elections.json_dumps(info))
        return
    settings = info["settings"]
    opens = datetime.fromisoformat(settings["window_opens_at"]).astimezone(AMS)
    closes = datetime.fromisoformat(settings["window_closes_at"]).astimezone(AMS)
    click.echo(f"{info['identifier']}: {info['name']} ({info['category']}"
               f"{'/' + info['subcategory'] if info['subcategory'] else ''})")
    click.echo(f"  Dag van stemming:        {info['election_date']}")
    click.echo(f"  Dag van kandidaatstelling: {info['nomination_date']}")
    click.echo(f"  Zetels:                  {info['seats'] if info['seats'] else 'onbekend (stel in met --seats)'}")
    click.echo(f"  Termijn verklaringen:    {opens:%Y-%m-%d %H:%M} tot {closes:%Y-%m-%d %H:%M} (Europe/Amsterdam)")
    online = "open" if settings["online_open"] else "dicht"
    basis = f" (grondslag: {settings['online_legal_basis']})" if settings["online_legal_basis"] else ""
    click.echo(f"  Online kanaal:           {online}{basis}")
    click.echo(f"  Kieskringen ({len(info['districts'])}):")
    for district in info["districts"]:
        municipalities = count(district["municipalities"], "gemeente", "gemeenten")
        click.echo(f"    {district['number']:>5}  {district['name']} ({municipalities})")
    click.echo(f"  Lijsten ({len(info['lists'])}):")
    for item in info["lists"]:
        exempt = f"  vrijgesteld: {item['exempt_basis']}" if item["exempt"] else ""
        kieskringen = ", ".join(str(n) for n in item["districts"]) or "geen"
        click.echo(f"    {item['number'] if item['number'] is not None else '-':>5}  "
                   f"{item['designation'] or 'blanco lijst'} (kieskringen: {kieskringen}){exempt}")


@election_cli.command("set")
@click.argument("identifier")
@click.option("--window-opens", help="Begin termijn, bv. 2026-03-02T00:00 (Europe/Amsterdam).")
@click.option("--window-closes", help="Einde termijn, bv. 2026-03-16T17:00 (Europe/Amsterdam).")
@click.option("--online/--no-online", default=None, help="Online kanaal open of dicht.")
@click.option("--legal-basis", help="Wettelijke grondslag van het online kanaal.")
@click.option("--seats", type=int, help="Aantal zetels (voor de drempel bij GR).")
def set_command(identifier: str, window_opens: str | None, window_closes: str | None, online: bool | None,
                legal_basis: str | None, seats: int | None) -> None:
    """Wijzig de instellingen die niet in de EML-bestanden staan."""
    try:
        elections.update_settings(
            db.session, identifier, CLI_ACTOR,
            window_opens_at=_local_datetime(window_opens) if window_opens else None,
            window_closes_at=_local_datetime(window_closes) if window_closes else None,
            online_open=online, online_legal_basis=legal_basis, seats=seats,
        )
    except elections.SettingsRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Instellingen van {identifier} gewijzigd.")


@election_cli.command("exempt")
@click.argument("identifier")
@click.argument("list_ref", metavar="AANDUIDING|NUMMER")
@click.option("--basis", help="Bij welke verkiezing won de aanduiding een zetel (art. H 4 lid 8).")
@click.option("--undo", is_flag=True, help="Vrijstelling intrekken.")
def exempt_command(identifier: str, list_ref: str, basis: str | None, undo: bool) -> None:
    """Leg vast dat een aanduiding geen verklaringen nodig heeft (art. H 4 lid 8): de aanduiding zoals
    de partij haar registreerde (ook vóór de kandidaatstelling), of het lijstnummer als de lijst er een heeft."""
    reference: int | str = int(list_ref) if list_ref.strip().isdigit() else list_ref
    try:
        found = elections.set_exemption(db.session, identifier, reference, not undo, basis, CLI_ACTOR)
    except elections.SettingsRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{found.label} ({identifier}): {'geen vrijstelling' if undo else 'vrijgesteld'}.")


@audit_cli.command("verify")
@click.option("--expect-head", help="Een eerder vastgelegde kop 'seq:hash'; ontdekt ook afkappen.")
def verify_command(expect_head: str | None) -> None:
    """Controleer de hele auditketen; noemt de eerste rij die niet klopt."""
    expected = None
    if expect_head:
        seq, _, digest = expect_head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.BadParameter("gebruik seq:hash, bv. 1200:9f86…")
        expected = (int(seq), digest)
    report = audit.verify(db.session, expected_head=expected)
    if report.ok:
        click.echo(f"Auditketen in orde: {count(report.checked, 'rij', 'rijen')}, "
                   f"kop {report.head_seq}:{report.head_hash}")
        return
    click.echo(f"Auditketen gebroken bij rij {report.first_bad_seq}: {report.problem}. "
               f"Rijen 1 tot en met {report.head_seq} zijn in orde.", err=True)
    sys.exit(1)


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Alleen als er nog geen verkiezing is.")
def demo_load_command(if_empty: bool) -> None:
    """Laad de demo-verkiezing met data rond vandaag, zodat elke route te proberen is."""
    message = load_demo(db.session, only_if_empty=if_empty)
    click.echo(message)


@demo_cli.command("advance")
@click.option("--to", "to", type=click.Choice(list(demo_calendar.STEPS)),
              help="De fase om naartoe te gaan; zonder --to de volgende fase.")
def demo_advance_command(to: str | None) -> None:
    """Beweeg de demo-verkiezing door haar kalender: de klok van het register gaat vooruit en de zittingen
    van het centraal stembureau op de weg worden gehouden (onderzoek, beslissing, onherroepelijk, vernietiging)."""
    try:
        demo_calendar.refuse_in_production(current_app)
        result = demo_calendar.advance(db.session, to)
    except demo_calendar.DemoRefused as exc:
        raise click.ClickException(str(exc)) from None
    for what in result.done:
        click.echo(f"  {what}")
    click.echo(f"{result.election}: {demo_calendar.STEPS[result.step]}. "
               f"De klok van het register staat op {result.now.astimezone(AMS):%Y-%m-%d %H:%M} (Europe/Amsterdam).")


@demo_cli.command("status")
def demo_status_command() -> None:
    """Toon waar de demo-verkiezing in haar kalender staat."""
    demo_calendar.apply_recorded_offset(db.session)
    election = demo_calendar.demo_election(db.session)
    if election is None:
        raise click.ClickException("Er is geen demo-verkiezing. Laad die eerst: flask --app app demo load")
    step = demo_calendar.current_step(db.session, election)
    click.echo(f"{election.identifier}: {demo_calendar.STEPS.get(step, 'de termijn is nog niet open')} "
               f"({step}). Klok van het register: {utcnow().astimezone(AMS):%Y-%m-%d %H:%M} (Europe/Amsterdam).")


def register_commands(app: Flask) -> None:
    for group in (election_cli, audit_cli, demo_cli, csb_cli, dossier_cli, log_cli):
        app.cli.add_command(group)
