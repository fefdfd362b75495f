"""A throw-away PostgreSQL server for the test suite and the benchmark.

initdb into a temporary folder, pg_ctl start on a free loopback port, stop on exit. PostgreSQL refuses
to run as root, so as root it runs as the ``postgres`` system user that Debian's package creates.
A machine that cannot start it raises PostgresUnavailable: the suite fails, it does not skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _binary(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise PostgresUnavailable(
            f"{name} not found: install PostgreSQL (apt-get install postgresql); .ci/run does this"
        )
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    def __init__(self, *, fsync: bool = False, max_connections: int = 300, port: int | None = None,
                 extra: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.base = Path(tempfile.mkdtemp(prefix="steunregister-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.user = "steunregister"
        self.fsync = fsync
        self.max_connections = max_connections
        self.extra = extra or {}
        self._run_as: list[str] = []
        self._owner: tuple[int, int] | None = None
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable("running as root and there is no 'postgres' user to run the server") from exc
            self._run_as = ["runuser", "-u", "postgres", "--"]
            self._owner = (entry.pw_uid, entry.pw_gid)
            os.chown(self.base, *self._owner)

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _cmd(self, *args: str) -> list[str]:
        return [*self._run_as, *args]

    def start(self) -> PostgresServer:
        if not self.data.exists():
            result = subprocess.run(
                self._cmd(_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user,
                          "-E", "UTF8", "--locale=C.UTF-8" if _has_c_utf8() else "--locale=C"),
                capture_output=True, text=True, check=False,
            )
            if result.returncode != 0:
                raise PostgresUnavailable(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
        options = [
            f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.base}",
            f"-c max_connections={self.max_connections}", f"-c fsync={'on' if self.fsync else 'off'}",
            f"-c synchronous_commit={'on' if self.fsync else 'off'}",
            f"-c full_page_writes={'on' if self.fsync else 'off'}",
            *(f"-c {k}={v}" for k, v in self.extra.items()),
        ]
        result = subprocess.run(
            self._cmd(_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                      "-o", " ".join(options), "start"),
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {result.stderr.strip()}\n{log[-2000:]}")
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url.replace("+psycopg", ""), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(self._cmd(_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"),
                       capture_output=True, check=False)

    def kill(self) -> None:
        """kill -9 the postmaster, as a crash would."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().splitlines()[0])
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url_for(database).replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(sql)


def _has_c_utf8() -> bool:
    return Path("/usr/lib/locale/C.utf8").exists() or Path("/usr/lib/locale/C.UTF-8").exists()
