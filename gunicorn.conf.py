"""Gunicorn settings for a production instance of Steunregister (see docs/deploy.md).

    gunicorn -c gunicorn.conf.py

Every value below can be set per instance through a GUNICORN_* environment variable, so one file
serves every instance; the app's own settings are STEUNREGISTER_* variables (README).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from pathlib import Path
from typing import Any


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise SystemExit(f"{name} must be at least 1, not {value}")
    return value


PROJECT_DIR = Path(__file__).resolve().parent

# The app is built at start (not on a first request), so a configuration that create_app refuses (no
# keys, the mock issuer under production, ...) stops gunicorn instead of answering requests with errors.
# Preloaded: built once in the master and forked, so workers start at once and share its memory; each
# worker then drops any database connection it inherited (post_fork). GUNICORN_PRELOAD=0 builds the
# app in every worker instead (needed for code reloads with HUP).
wsgi_app = "app:create_app()"
preload_app = os.environ.get("GUNICORN_PRELOAD", "1").strip().lower() not in ("0", "false", "no", "off")
chdir = str(PROJECT_DIR)

bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
        if address.strip()]
# The request work is mostly waiting for PostgreSQL, so a few more processes than cores. WEB_CONCURRENCY
# is the name most platforms set.
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
# The gthread worker: requests reach the app while others are in flight, so the declaration API's
# admission control (API_MAX_CONCURRENT, API_QUEUE) can answer a burst with 503 + Retry-After at once
# instead of letting it queue in the listen backlog (sync workers: 1). Every thread may hold one
# database connection: instances x workers x threads must stay under max_connections (docs/deploy.md).
threads = _int("GUNICORN_THREADS", 16)

# Declarations take milliseconds and every outside call (BRP, identity provider) has a timeout of
# its own of 5 s; a worker that is silent for 30 s is stuck and gets replaced.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then, at different moments, so a slow leak never takes all of them down.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 2000)
# The heartbeat file of each worker: in memory, so a slow or full disk never makes gunicorn kill
# healthy workers. (gunicorn makes it with mkstemp and unlinks it at once, so a shared folder is safe.)
SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or (SHM if os.path.isdir(SHM) else None)

# The reverse proxy in front (docs/deploy.md) may set X-Forwarded-Proto; nobody else may.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs: the path without the query string, no referrer or user agent (either can carry a query
# string), the duration in milliseconds. Anything nine digits long is masked (see on_starting).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
proc_name = "steunregister"
# gunicorn 25+ opens a control socket at one fixed path per user, which several instances on one host
# would fight over; set GUNICORN_CONTROL_SOCKET to a path of this instance's own to use gunicornc.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


def on_starting(server: Any) -> None:
    # Masks BSN-shaped numbers in every log record of the master and, inherited through fork, of
    # every worker, from before the first request (create_app installs the same factory again).
    # Local imports in these hooks: gunicorn reads this file before it changes to the app's directory and
    # sets its path, so the project's modules are importable only once a hook runs.
    from registry import config
    from registry.privacy import logging as privacy_logging

    privacy_logging.install()
    storage = config.value(config.from_environment(), "RATE_LIMIT_STORAGE")
    if storage.startswith("memory") and server.cfg.workers > 1:
        logging.getLogger("gunicorn.error").warning(
            "rate limits are kept in memory, per worker: each of the %s workers counts on its own; "
            "set STEUNREGISTER_RATE_LIMIT_STORAGE=redis://... to share them (docs/deploy.md)", server.cfg.workers)


def post_fork(server: Any, worker: Any) -> None:
    # A connection opened by the master would now be shared by several processes; the pool forgets
    # them without closing them (closing would end the master's session for everyone).
    if not server.cfg.preload_app:
        return
    from registry.db import db

    application = worker.app.wsgi()
    with application.app_context():
        db.engine.dispose(close=False)
