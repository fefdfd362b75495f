#!/usr/bin/env bash
# Install Steunregister into a venv, the way both README commands (and so CI) do.
#   bash scripts/install.sh [VENV]           every package at the version requirements.lock pins, each file
#                                            checked against its SHA-256 (VENV defaults to .venv)
#   bash scripts/install.sh --latest [VENV]  the newest versions pyproject.toml's ranges allow (.venv-latest):
#                                            to see what an upgrade would break before a user does
set -euo pipefail
cd "$(dirname "$0")/.."

latest=0
if [ "${1:-}" = "--latest" ]; then latest=1; shift; fi
venv="${1:-$([ $latest = 1 ] && echo .venv-latest || echo .venv)}"

python3 -m venv "$venv"
if [ $latest = 1 ]; then
  "$venv/bin/python" -m pip install --quiet --upgrade pip setuptools
  "$venv/bin/python" -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
else
  # The lock holds the app, its test extra and the build backend (setuptools), so the project itself
  # is installed without build isolation: nothing is fetched that the lock does not pin.
  "$venv/bin/python" -m pip install --quiet --require-hashes -r requirements.lock
  "$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
fi
"$venv/bin/pybabel" compile -d translations >/dev/null  # English pages (the .po files are committed)
