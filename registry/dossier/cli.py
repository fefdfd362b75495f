"""``flask --app app dossier build|verify|import|public-key``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from registry.db import db
from registry.declarations.models import Declaration
from registry.dossier import verify as verifier
from registry.dossier.services import (
    DossierNotFound,
    SigningKeyError,
    build_dossier,
    find_list,
    public_key_pem,
    signing_key,
)
from registry.i18n import count

CLI_ACTOR = "cli"

dossier_cli = AppGroup("dossier", help="Het ondertekende dossier van een lijst maken en controleren.")


def _list_ref(value: str) -> tuple[int, bool]:
    """``7`` is list number 7; ``id:12`` is the list with registry id 12 (a blanco lijst has no number)."""
    text = value.strip().lower()
    by_number = not text.startswith("id:")
    digits = text if by_number else text[3:]
    if not digits.isdigit():
        raise click.BadParameter(f"{value!r}: geef een lijstnummer (7) of een id (id:12)")
    return int(digits), by_number


def _key() -> bytes:
    try:
        return public_key_pem(signing_key())
    except SigningKeyError as exc:
        raise click.ClickException(str(exc)) from None


@dossier_cli.command("build")
@click.argument("election")
@click.argument("list_ref", metavar="LIJST")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Het ZIP-bestand dat wordt geschreven.")
def build_command(election: str, list_ref: str, output: Path) -> None:
    """Maak het dossier van een lijst (lijstnummer, of id:N) als ondertekend ZIP-bestand."""
    number, by_number = _list_ref(list_ref)
    try:
        _election, candidate_list = find_list(db.session, election, number, by_number)
    except DossierNotFound as exc:
        raise click.ClickException(str(exc)) from None
    total = db.session.scalar(select(func.count()).where(Declaration.list_id == candidate_list.id)) or 0
    partial = output.with_name(output.name + ".part")
    with click.progressbar(length=total, label="Verklaringen", file=sys.stderr, show_pos=True) as bar:
        done = 0

        def progress(rows: int) -> None:
            nonlocal done
            bar.update(rows - done)
            done = rows

        try:
            with open(partial, "w+b") as out:
                built = build_dossier(db.session, election, number, out, actor=CLI_ACTOR, by_number=by_number,
                                      progress=progress)
                os.fsync(out.fileno())
        except (DossierNotFound, SigningKeyError) as exc:
            partial.unlink(missing_ok=True)
            raise click.ClickException(str(exc)) from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    partial.replace(output)  # never a half-written dossier under the real name
    click.echo(f"Dossier geschreven: {output} ({count(built.rows, 'verklaring', 'verklaringen')}, {built.size} bytes).")
    click.echo(f"Vingerafdruk van het manifest: {built.fingerprint}")


def _verify(file: Path, public_key: Path | None, confirm: bool) -> None:
    if public_key is not None:
        try:
            pem = public_key.read_bytes()
        except OSError as exc:
            raise click.ClickException(f"Kan de sleutel niet lezen: {exc.strerror or exc}") from None
        source = "de opgegeven sleutel"
    else:
        pem, source = _key(), "de sleutel van dit register"
    report = verifier.verify(file, pem)
    if not report.ok:
        click.echo(f"Dossier NIET in orde: {report.problem}", err=True)
        sys.exit(1)
    for line in verifier.summary(report):
        click.echo(line)
    click.echo(f"Gecontroleerd met {source}.")
    if confirm:
        def ask(prompt: str) -> str:
            return str(click.prompt(prompt, default="", show_default=False))

        if not verifier.confirm_fingerprint(report.fingerprint or "", ask, click.echo):
            sys.exit(1)


@dossier_cli.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--public-key", type=click.Path(dir_okay=False, path_type=Path),
              help="Controleer met deze sleutel (PEM) in plaats van die van dit register.")
@click.option("--confirm", is_flag=True, help="Vraag daarna twee groepen van de vingerafdruk van het voorblad.")
def verify_command(file: Path, public_key: Path | None, confirm: bool) -> None:
    """Controleer een dossier: 0 als het ongeschonden is, 1 met de reden als het dat niet is."""
    _verify(file, public_key, confirm)


@dossier_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--public-key", type=click.Path(dir_okay=False, path_type=Path),
              help="Controleer met deze sleutel (PEM) in plaats van die van dit register.")
def import_command(file: Path, public_key: Path | None) -> None:
    """Lees een dossier in: controleer het en vergelijk de vingerafdruk met het papieren voorblad."""
    _verify(file, public_key, confirm=True)


@dossier_cli.command("public-key")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Schrijf de PEM hierheen.")
def public_key_command(output: Path | None) -> None:
    """Toon de publieke sleutel waarmee dit register dossiers ondertekent (om te publiceren)."""
    pem = _key()
    key = verifier.load_public_key(pem, "de sleutel")
    if output is not None:
        output.write_bytes(pem)
        click.echo(f"Geschreven: {output}")
    else:
        click.echo(pem.decode().rstrip())
    click.echo(f"Vingerafdruk (SHA-256 van de ruwe sleutel): {verifier.public_key_fingerprint(key)}",
               err=output is None)  # stdout stays a clean PEM
