#!/usr/bin/env bash
# Install into .venv and start Steunregister on the embedded default: SQLite in ./instance, the mock
# identity provider, the demo election (dates around today) and the demo BRP people.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh  # exactly the versions in requirements.lock, as the tests and CI use them

export FLASK_APP=app
.venv/bin/flask db upgrade
.venv/bin/flask demo load --if-empty
echo "Steunregister draait op http://127.0.0.1:5000 (stoppen: Ctrl+C)"
exec .venv/bin/flask run --host 127.0.0.1 --port "${PORT:-5000}"
