"""Database plumbing shared by every feature package: the SQLAlchemy handle and column types."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.pool import Pool
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))

MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds (PostgreSQL int4)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC; SQLite would otherwise drop the offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Tests of the legal calendar (repair days, the decision session) move the registry's clock; nothing
# else sets it. Logins keep real time (tokens are checked with time.time()), so they still work.
_clock_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _clock_offset


def set_clock_offset(offset: timedelta) -> None:
    """Test hook: the registry's clock runs ``offset`` ahead of (or behind) real time."""
    global _clock_offset
    _clock_offset = offset


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is replaced (isolation_level=None) so that we emit BEGIN
    # ourselves: plain BEGIN for readers, BEGIN IMMEDIATE for writers (see begin_write).
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()


# SQLite has one write lock. A writer that finds it taken sleeps in SQLite's busy handler (up to 100 ms a
# time, however soon the lock is free): under load most of a writer's latency. So writers queue first on
# locks that hand over at once: a Python lock among the threads of one process, then an flock on a file
# beside the database among processes (gunicorn's workers). SQLite's busy handler then has nothing to wait
# for; it still decides for a writer that could not take these (an in-memory database, a read-only folder).
WRITER_WAIT_SECONDS = 30.0
_HELD = "steunregister_sqlite_writer"


class _Writers:
    """The writer queue of one SQLite database in this process."""

    def __init__(self, database: str) -> None:
        self.thread_lock = threading.Lock()
        self.file: int | None = None
        if database and database != ":memory:":
            try:
                self.file = os.open(database + ".writers", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                self.file = None

    def acquire(self) -> bool:
        if not self.thread_lock.acquire(timeout=WRITER_WAIT_SECONDS):
            return False
        if self.file is not None:
            fcntl.flock(self.file, fcntl.LOCK_EX)  # one thread per process gets here: no self-deadlock
        return True

    def release(self) -> None:
        if self.file is not None:
            fcntl.flock(self.file, fcntl.LOCK_UN)
        self.thread_lock.release()


_SQLITE_WRITERS: dict[str, _Writers] = {}
_SQLITE_WRITERS_LOCK = threading.Lock()


def _writers(database: str) -> _Writers:
    with _SQLITE_WRITERS_LOCK:
        writers = _SQLITE_WRITERS.get(database)
        if writers is None:
            writers = _SQLITE_WRITERS[database] = _Writers(database)
        return writers


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Any) -> None:
    if conn.dialect.name == "sqlite":
        immediate = conn.get_execution_options().get(WRITE_OPTION)
        if immediate:
            writers = _writers(str(conn.engine.url.database or ""))
            if writers.acquire():  # else SQLite's own lock decides, as before
                conn.info[_HELD] = writers
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except BaseException:
            _release_writer(conn.info)
            raise


def _release_writer(info: dict[str, Any]) -> None:
    writers = info.pop(_HELD, None)
    if writers is not None:
        writers.release()


@event.listens_for(Engine, "commit")
def _sqlite_committed(conn: Any) -> None:
    if conn.dialect.name == "sqlite":  # only SQLite writers hold one (and an invalidated connection has no info)
        _release_writer(conn.info)


@event.listens_for(Engine, "rollback")
def _sqlite_rolled_back(conn: Any) -> None:
    if conn.dialect.name == "sqlite":
        _release_writer(conn.info)


WRITE_OPTION = "steunregister_write"


def begin_write(session: Session) -> None:
    """Start the session's next transaction as a writer.

    On SQLite a writer must take the write lock up front (BEGIN IMMEDIATE): a transaction that read
    first and then writes fails at once with "database is locked" when another writer committed in
    between, instead of waiting its turn. Ends any read transaction the session still has open.
    On PostgreSQL this only ends the read transaction.
    """
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction():
        real.rollback()
    real.connection(execution_options={WRITE_OPTION: True})


def single_statements(session: Session) -> None:
    """On PostgreSQL, let the session's next statements each commit on their own (autocommit), for a request
    that reads or writes in one statement: no BEGIN and COMMIT/ROLLBACK round trips around it. Ends any
    transaction the session still has open; the next session.rollback() or the request's end returns the
    connection, which the pool then puts back in transaction mode. SQLite keeps its transactions."""
    real = session() if isinstance(session, scoped_session) else session
    if real.get_bind().dialect.name != "postgresql":
        return
    if real.in_transaction():
        real.rollback()
    real.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


# A pooled PostgreSQL connection that sat unused for a while may have died with a restart of the server: it
# is pinged before use. One in steady use is not (SQLAlchemy's pool_pre_ping pinged every checkout: a round
# trip on every request); if it did die, the statement fails, SQLAlchemy drops the pool's connections and
# the request answers 503 (registry.errors), which a client retries.
IDLE_PING_SECONDS = 5.0


@event.listens_for(Pool, "checkin")
def _note_idle_since(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info["steunregister_idle_since"] = time.monotonic()
        _release_writer(record.info)  # a writer whose transaction ended without commit or rollback


@event.listens_for(Pool, "checkout")
def _ping_after_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        return
    idle_since = record.info.get("steunregister_idle_since")
    if idle_since is not None and time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        dbapi_connection.execute("SELECT 1")
        if not dbapi_connection.autocommit:
            dbapi_connection.rollback()
    except Exception as error:  # any failure means this connection is gone: the pool takes another
        raise exc.DisconnectionError() from error
