"""Gunicorn instances of the app as subprocesses, and a small HTTP client for talking to them.

    server = AppServer(env, workers=2).start()     # gunicorn -c gunicorn.conf.py on a free port
    server.kill_workers()                          # kill -9 every worker; the master starts new ones
    server.stop()

    http = Http(server.url)                        # cookies kept, redirects not followed
    answer = http.post_json("/api/v1/...", body, headers={...})

Each instance is started exactly as docs/deploy.md says (the project's gunicorn.conf.py), only bound
to a free loopback port. The client is urllib: nothing beyond the standard library.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.support.postgres import PostgresServer, free_port

PROJECT = Path(__file__).resolve().parents[2]
CONF = PROJECT / "gunicorn.conf.py"


class ServerFailed(RuntimeError):
    pass


def _children(pid: int) -> list[int]:
    """Direct children of ``pid``, read from /proc (no psutil on the machine)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces, so split after the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class AppServer:
    """One instance: a gunicorn master with its workers, on 127.0.0.1:<free port>."""

    def __init__(self, env: dict[str, str], *, workers: int = 2, threads: int = 1, port: int | None = None,
                 log_dir: Path | None = None, python: str = sys.executable, project: Path = PROJECT) -> None:
        self.python = python  # another venv's interpreter, for an installed copy (tests/prod/test_deploy_install.py)
        self.project = project
        self.port = port or free_port()
        self.env = env
        self.workers = workers
        self.threads = threads
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="steunregister-gunicorn-"))
        self.log = self.log_dir / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> AppServer:
        self.launch()
        self.wait_ready(timeout)
        return self

    def launch(self) -> None:
        """Start the master without waiting for it (start several instances side by side)."""
        # Only the settings given here: nothing leaks in from the shell that runs the tests.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("STEUNREGISTER_", "GUNICORN_"))}
        env = {**inherited, **self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}",
               "GUNICORN_WORKERS": str(self.workers), "GUNICORN_THREADS": str(self.threads)}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([self.python, "-m", "gunicorn", "-c", str(self.project / CONF.name)],
                                            cwd=self.project,
                                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        """Until /healthz answers 200 on every worker count we asked for (the master forks them at once)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise ServerFailed(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=5) as answer:  # noqa: S310
                    if answer.status == 200 and len(self.worker_pids()) >= self.workers:
                        return
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise ServerFailed(f"gunicorn on {self.url} not ready after {timeout} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        return _children(self.process.pid) if self.process is not None else []

    def kill_workers(self) -> list[int]:
        """kill -9 every worker, as the kernel's OOM killer would; the master forks new ones."""
        pids = self.worker_pids()
        for pid in pids:
            _kill(pid)
        return pids

    def stop(self, graceful: bool = False) -> None:
        self.signal_stop(graceful)
        self.wait_stopped()

    def signal_stop(self, graceful: bool = False) -> None:
        """TERM lets requests finish, as a deploy would; otherwise the instance (its whole process group)
        is killed at once, which is all a test's teardown needs."""
        if self.process is None or self.process.poll() is not None:
            return
        if graceful:
            self.process.send_signal(signal.SIGTERM)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def wait_stopped(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


def crash_postgres(server: PostgresServer) -> None:
    """kill -9 the postmaster and every backend at once, as a crash of the machine's processes would (the
    files stay). The postmaster is frozen first so that it can neither fork nor react; a backend left
    running would keep the old shared memory and block the restart."""
    pid_file = server.data / "postmaster.pid"
    if not pid_file.exists():
        return
    postmaster = int(pid_file.read_text().splitlines()[0])
    with contextlib.suppress(ProcessLookupError):
        os.kill(postmaster, signal.SIGSTOP)
    backends = _children(postmaster)
    for pid in [*backends, postmaster]:
        _kill(pid)
    # Until the dead postmaster is reaped too: PostgreSQL refuses to start while the pid in its lock file
    # still exists, even as a zombie (an init that reaps slowly makes this take a second or two).
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in [postmaster, *backends]) and time.monotonic() < deadline:
        time.sleep(0.02)


# --- the client -------------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


@dataclass
class Http:
    """A browser-like client for one base URL: keeps cookies (also across ``Http.on(other_url)``),
    follows no redirects, never raises on an HTTP status. Network errors (a killed worker) raise OSError."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 30
    host: str | None = None  # the Host header, as a proxy in front of every instance would send it

    def on(self, base: str) -> Http:
        """The same browser (cookie jar, Host) talking to another instance."""
        return Http(base, self.cookies, self.timeout, self.host)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        parts = urlsplit(path)
        url = self.base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        all_headers = {**({"Host": self.host} if self.host else {}), **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(url, data=body, headers=all_headers, method=method)  # noqa: S310
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                answer = Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
                raw_cookies = response.headers.get_all("Set-Cookie") or []
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())
            raw_cookies = error.headers.get_all("Set-Cookie") or []
        for raw in raw_cookies:
            for name, morsel in SimpleCookie(raw).items():
                if morsel.value and morsel.get("max-age") != "0" and "1970" not in morsel.get("expires", ""):
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return answer

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, data: dict[str, str], headers: dict[str, str] | None = None) -> Answer:
        return self.request("POST", path, urlencode(data).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def post_json(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Answer:
        return self.request("POST", path, json.dumps(body).encode(),
                            {"Content-Type": "application/json", **(headers or {})})
