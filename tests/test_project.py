"""The project itself: documented settings, the schema only through migrations, the demo."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from registry.calendar_utils import AMS, today_local
from registry.config import SETTINGS
from registry.db import db
from registry.elections.models import CandidateList, Election

PROJECT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme():
    readme = (PROJECT / "README.md").read_text()
    missing = [name for name in SETTINGS if f"`STEUNREGISTER_{name}`" not in readme]
    assert not missing, f"settings missing from the README: {missing}"


def test_the_readme_gives_the_two_setup_commands_and_ci_runs_the_test_one():
    readme = (PROJECT / "README.md").read_text()
    assert "bash scripts/run.sh" in readme and "bash scripts/test.sh" in readme
    assert "scripts/test.sh" in (PROJECT / ".ci" / "run").read_text()


def test_the_migrations_build_exactly_the_models(app, session):
    # The test database was built with `upgrade`; the models must not differ from it.
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_demo_load_opens_the_window_today_with_the_online_pilot(cli, session):
    result = cli.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    election = session.scalar(select(Election))
    now = datetime.now(AMS)
    assert election.window_opens_at <= now < election.window_closes_at
    assert election.nomination_date == today_local() + timedelta(days=7)
    assert election.online_open and "Demonstratie" in election.online_legal_basis
    lists = session.scalars(select(CandidateList)).all()
    assert len(lists) == 23 and any(cl.exempt for cl in lists) and not all(cl.exempt for cl in lists)
    assert len(lists[0].submissions) == 20  # the demo lists stand in every kieskring
    again = cli.invoke(args=["demo", "load", "--if-empty"])
    assert again.exit_code == 0 and "al verkiezingen" in again.output


def test_ruff_finds_nothing():
    import shutil
    import subprocess

    ruff = shutil.which("ruff") or str(Path(__import__("sys").executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "."], cwd=PROJECT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
