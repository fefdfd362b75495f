"""Configuration from the environment.

Every setting is an environment variable prefixed ``STEUNREGISTER_`` and documented in the README.
``create_app(config=...)`` may override any key (tests do); nothing else reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PREFIX = "STEUNREGISTER_"
PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"
PROJECT_DIR = PACKAGE_DIR.parent

# name -> (default, description). The README table is checked against this dict by a test.
SETTINGS: dict[str, tuple[Any, str]] = {
    "ENV": ("development", "development, test or production; production refuses to start without keys"),
    "DATABASE_URL": (None, "SQLAlchemy URL; default SQLite file in the instance folder"),
    "INSTANCE_PATH": (None, "folder for the SQLite file and dev keys; default ./instance"),
    "SECRET_KEY": (None, "Flask session signing key; generated into the instance folder in development"),
    "MASTER_KEY": (None, "base64 32-byte key that wraps the per-election keys (or use MASTER_KEY_FILE)"),
    "MASTER_KEY_FILE": (None, "file holding the base64 master key; default instance/master.key in development"),
    "BRP_FIXTURE": (str(DATA_DIR / "brp_demo.json"), "JSON file of persons shaped like BRP Personen v2"),
    "BRP_URL": (None, "base URL of a real BRP Personen Bevragen v2 endpoint; overrides BRP_FIXTURE"),
    "BRP_API_KEY": (None, "API key sent as X-API-KEY to BRP_URL"),
    "BRP_TIMEOUT": ("5", "seconds before a BRP call counts as unreachable"),
    "LOG_LEVEL": ("INFO", "log level of the app logger"),
}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read every STEUNREGISTER_* variable into a flat config dict (key without the prefix)."""
    env = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for name, (default, _description) in SETTINGS.items():
        config[name] = env.get(PREFIX + name, default)
    return config


def is_production(config: dict[str, Any]) -> bool:
    return str(config.get("ENV", "")).lower() == "production"
