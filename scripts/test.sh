#!/usr/bin/env bash
# Install everything the suite needs and run every test, on SQLite and on a real PostgreSQL that the
# suite starts itself (initdb into a temporary folder). Extra arguments go to pytest.
#   bash scripts/test.sh [PYTEST ARGS]            the packages pinned in requirements.lock (CI)
#   bash scripts/test.sh --latest [PYTEST ARGS]   the newest versions the ranges allow, in .venv-latest
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages from Debian: the PostgreSQL server for the suite.
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
/sbin/ldconfig -p 2>/dev/null | grep libpangoft2 >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
# WeasyPrint subsets fonts with harfbuzz; without it it falls back to a slow, deprecated path.
/sbin/ldconfig -p 2>/dev/null | grep libharfbuzz-subset >/dev/null || need+=(libharfbuzz-subset0)
# The browser tests (tests/browser) drive Debian's chromium; Playwright never downloads a browser.
command -v chromium >/dev/null || need+=(chromium)
# The privacy scan reads PDFs as text (pdftotext), so a BSN inside a PDF cannot hide.
command -v pdftotext >/dev/null || need+=(poppler-utils)
# tests/prod/test_shared_limits.py runs a Redis of its own: rate limits shared across instances.
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Python packages: exactly the versions in requirements.lock. With --latest (first argument): the newest
# versions pyproject.toml's ranges allow, in .venv-latest, to see breakage before a user does.
venv=.venv
if [ "${1:-}" = "--latest" ]; then
  shift
  venv=.venv-latest
  bash scripts/install.sh --latest "$venv"
  echo "Packages newer than requirements.lock:"
  "$venv/bin/python" -m pip freeze --exclude-editable | tr 'A-Z_' 'a-z-' | sort \
    | comm -13 <(sed -n 's/^\([a-z0-9._-]*==[^ ]*\) .*/\1/p' requirements.lock | sort) - | sed 's/^/  /'
else
  bash scripts/install.sh "$venv"
fi

exec "$venv/bin/python" -m pytest "$@"
