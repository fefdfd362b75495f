"""docs/deploy.md's install commands work as written: run them into a temporary folder, outside this
checkout, then migrate a fresh PostgreSQL database and start gunicorn from the installed copy.

The commands are read from the guide itself (between its install markers), so the guide cannot drift
from what is tested. Only the release URL is replaced by this repository, and /opt/steunregister by a
temporary folder. What is tested is what is committed: the copy is a clone of HEAD.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.prod.test_prod_instances import production_config
from tests.support.postgres import PostgresServer
from tests.support.servers import PROJECT, AppServer, Http

pytestmark = pytest.mark.postgres

GUIDE = PROJECT / "docs" / "deploy.md"
PREFIX = "/opt/steunregister"


def install_commands() -> list[str]:
    text = GUIDE.read_text()
    block = re.search(r"<!-- install:begin -->\s*```sh\n(.*?)```\s*<!-- install:end -->", text, re.S)
    assert block, "docs/deploy.md has no install block between <!-- install:begin --> and <!-- install:end -->"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def as_run_here(command: str, root: Path) -> str:
    """The guide's command with the release URL replaced by this repository and /opt by ``root``."""
    clone = re.fullmatch(r"git clone (?:--\S+(?: \S+)? )*\S+ (\S+)", command)
    if clone:
        command = f"git clone --quiet --depth 1 file://{PROJECT} {clone.group(1)}"
    return command.replace(PREFIX, str(root))


def test_the_install_commands_of_the_deploy_guide_are_the_locked_ones():
    commands = install_commands()
    assert any("--require-hashes -r" in c and "requirements.lock" in c for c in commands), commands
    assert any(c.startswith("git clone") for c in commands), commands
    assert (PROJECT / "requirements.lock").exists()


def test_a_copy_installed_as_the_deploy_guide_says_migrates_and_serves(tmp_path: Path,
                                                                        postgres_server: PostgresServer):
    if not (PROJECT / ".git").exists():
        pytest.skip("the guide installs from a git checkout; this copy of the project has no .git")
    root = tmp_path / "opt"
    root.mkdir()
    # No variable of this test run may point the install at this checkout or its venv.
    clean = {k: v for k, v in os.environ.items()
             if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME") and not k.startswith("STEUNREGISTER_")}
    clean["PATH"] = os.pathsep.join(p for p in clean.get("PATH", "").split(os.pathsep)
                                    if not p.startswith(str(Path(sys.prefix))))
    for command in install_commands():
        bash = [shutil.which("bash") or "/bin/bash", "-euo", "pipefail", "-c", as_run_here(command, root)]
        done = subprocess.run(bash, cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"

    app_dir, venv = root / "app", root / "venv"
    python = str(venv / "bin" / "python")
    # The installed copy imports its own packages, from the clone, not from this checkout.
    where = subprocess.run([python, "-c", "import registry, auth; print(registry.__file__, auth.__file__)"],
                           cwd=tmp_path, env=clean, capture_output=True, text=True, check=True).stdout
    assert where.count(str(app_dir)) == 2, where

    name = f"steun_deploy_{os.getpid()}"
    postgres_server.execute(f"CREATE DATABASE {name}")
    config = production_config(tmp_path, DATABASE_URL=postgres_server.url_for(name))
    env = {**clean, **{f"STEUNREGISTER_{k}": v for k, v in config.items() if v is not None}}
    migrated = subprocess.run([str(venv / "bin" / "flask"), "--app", "app", "db", "upgrade"], cwd=app_dir,
                              env=env, capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-4000:]
    heads = subprocess.run([str(venv / "bin" / "flask"), "--app", "app", "db", "heads"], cwd=app_dir, env=env,
                           capture_output=True, text=True, check=True).stdout.split()[0]
    with psycopg.connect(postgres_server.url_for(name).replace("+psycopg", "")) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == heads

    settings = {k: v for k, v in env.items() if k.startswith("STEUNREGISTER_")}
    with AppServer(settings, workers=1, log_dir=tmp_path, python=python, project=app_dir).start() as server:
        http = Http(server.url)
        start = http.get("/")
        assert start.status == 200, server.log_tail()
        assert "<h1" in start.text and "Steunregister" in start.text
        stylesheets = re.findall(r'<link[^>]+href="(/static/[^"]+\.css)"', start.text)
        assert stylesheets and all(http.get(href).status == 200 for href in stylesheets), stylesheets
        # The compiled translations are there: the language switch gives an English page.
        english = Http(server.url)
        switched = english.get("/taal/en?next=/")
        assert switched.status in (302, 303), switched.text[:300]
        assert '<html lang="en"' in english.get("/").text
        answer = http.get("/api/v1/elections", headers={"Authorization": "Bearer nope"})
        assert answer.status == 401 and answer.headers["content-type"].startswith("application/problem+json")
