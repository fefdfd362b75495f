#!/usr/bin/env bash
# Refresh requirements.lock: the newest versions that pyproject.toml's ranges allow, for the app, its
# test extra and its build backend, each with the SHA-256 of every file PyPI offers for it. pip-tools
# runs from a throw-away venv, so the project itself needs nothing beyond pip to install.
# Afterwards: bash scripts/test.sh, and commit the lock with what changed in it.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/python" -m pip install --quiet 'pip-tools>=7.4,<8'
# Extras stay in the lock (fonttools[woff] for WeasyPrint): pip's --require-hashes mode refuses a dependency
# with extras that the lock pins without them when a pip constraints file is configured on the machine.
CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh" "$tools/bin/pip-compile" --quiet --upgrade \
  --extra test --all-build-deps --allow-unsafe --generate-hashes --no-strip-extras \
  --no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml
echo "requirements.lock: $(grep -c '^[a-z]' requirements.lock) packages pinned"
