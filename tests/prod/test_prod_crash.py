"""Crash (PostgreSQL): kill -9 the app's workers and the database in the middle of a load, restart,
and again; afterwards every acknowledged declaration is there, none twice, the audit chain intact.

The database is a PostgreSQL of its own (this test kills it), with the production durability settings
fsync=on and synchronous_commit=on. Clients behave as the API asks: the same Idempotency-Key on every
retry, a retry after a 503, a dropped connection or a 409 "still in flight".
"""

from __future__ import annotations

import http.client
import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from registry.declarations.models import Declaration
from tests.conftest import BACKENDS, base_config, import_eml
from tests.prod.checks import assert_aggregates_match, assert_ledger_sound
from tests.prod.conftest import LEGAL_BASIS, PASSPORT, environment
from tests.support.postgres import PostgresServer
from tests.support.servers import AppServer, Http, crash_postgres

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif("postgresql" not in BACKENDS, reason="STEUNREGISTER_TEST_BACKENDS leaves PostgreSQL out"),
]

CLIENTS = 12
CYCLES = 3
# Seconds a client keeps retrying one declaration. A key whose request died with its worker or its
# database connection stays "in flight" for 30 s (registry.declarations.idempotency.STALE_AFTER); the client
# then moves on and that declaration stays unacknowledged (and, as the check shows, unrecorded).
GIVE_UP_AFTER = 4.0


@dataclass
class Ledger:
    """What the clients were told, per voter."""

    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # voter -> the 201 body
    acknowledged_at: dict[str, float] = field(default_factory=dict)
    unacknowledged: set[str] = field(default_factory=set)
    refused: Counter[str] = field(default_factory=Counter)  # 4xx other than "in flight", by slug
    server_errors: list[str] = field(default_factory=list)  # 5xx other than 503 + Retry-After
    dropped: int = 0  # connections that broke mid-request (the outcome was unknown to the client)
    retried_503: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class CrashSite:
    database: PostgresServer
    config: dict[str, Any]
    app: Any
    voters: list[str]
    clerk: str
    system: str
    voter_tokens: dict[str, str]
    list_id: int


@pytest.fixture
def crash_site(tmp_path: Path, load_voters: tuple[Path, list[str]]) -> Iterator[CrashSite]:
    from app import create_app
    from registry.db import db, utcnow
    from registry.elections import services as elections
    from registry.elections.models import CandidateList
    from tests.auth.helpers import bearer_token, mock_client_secret, system_token
    from tests.conftest import _migrate

    database = PostgresServer(fsync=True).start()
    try:
        database.execute("CREATE DATABASE steun_crash")
        config = {**base_config(tmp_path, database.url_for("steun_crash")), "BRP_FIXTURE": str(load_voters[0])}
        _migrate(config)
        app = create_app(config)
        with app.app_context():
            import_eml(db.session, "Verkiezingsdefinitie_TK2025.eml.xml")
            import_eml(db.session, "Kandidatenlijsten_TK2025_Haarlem.eml.xml")
            now = utcnow()
            elections.update_settings(db.session, "TK2025", "test", window_opens_at=now - timedelta(days=1),
                                      window_closes_at=now + timedelta(days=1), online_open=True,
                                      online_legal_basis=LEGAL_BASIS)
            client = app.test_client()
            # More voters than the clients can declare in the run, so some are declared after the last restart
            # (600 were all declared before it once a declaration took two statements).
            voters = load_voters[1][:2400]
            site = CrashSite(
                database=database, config=config, app=app, voters=voters,
                clerk=bearer_token(client, "clerk:GM0392"),
                system=system_token(client, "gemeente-GM0392", mock_client_secret(app, "gemeente-GM0392")),
                voter_tokens={number: bearer_token(client, f"bsn:{number}") for number in voters[::4][:80]},
                list_id=db.session.scalar(select(CandidateList.id).where(CandidateList.designation == "Volt")),
            )
            db.session.remove()
            db.engine.dispose()
        yield site
    finally:
        database.remove()


def declare_until_answered(site: CrashSite, base: str, voter: str, ledger: Ledger) -> None:
    """One declaration, retried with the same key until an answer that settles it, or GIVE_UP_AFTER."""
    browser = Http(base, timeout=10)
    key = uuid.uuid4().hex
    if voter in site.voter_tokens:
        body, token = {"list": site.list_id}, site.voter_tokens[voter]
    else:
        body = {"list": site.list_id, "bsn": voter, "identity_document": PASSPORT}
        token = site.system if int(voter) % 2 else site.clerk
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    deadline = time.monotonic() + GIVE_UP_AFTER
    while time.monotonic() < deadline:
        try:
            answer = browser.post_json("/api/v1/elections/TK2025/declarations", body, headers)
        except (OSError, http.client.HTTPException):
            with ledger.lock:
                ledger.dropped += 1
            time.sleep(0.1)
            continue
        if answer.status == 201:
            with ledger.lock:
                ledger.acknowledged[voter] = answer.json()
                ledger.acknowledged_at[voter] = time.monotonic()
            return
        slug = answer.json().get("type", "").rsplit("/", 1)[-1] if answer.body.startswith(b"{") else ""
        if answer.status == 503 and answer.headers.get("retry-after"):
            with ledger.lock:
                ledger.retried_503 += 1
            time.sleep(0.2)
            continue
        if answer.status == 409 and slug == "request-in-flight":
            time.sleep(0.3)
            continue
        with ledger.lock:
            if answer.status >= 500:
                ledger.server_errors.append(f"{answer.status} {answer.text[:300]}")
            else:
                ledger.refused[slug or str(answer.status)] += 1
        return
    with ledger.lock:
        ledger.unacknowledged.add(voter)


def test_kill_9_of_workers_and_database_loses_no_acknowledged_declaration(crash_site: CrashSite):
    site = crash_site
    server = AppServer(environment(site.config), workers=2, threads=4,
                       log_dir=Path(site.config["INSTANCE_PATH"]).parent).start()
    ledger = Ledger()
    todo: queue.Queue[str] = queue.Queue()
    for voter in site.voters:
        todo.put(voter)
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                voter = todo.get_nowait()
            except queue.Empty:
                return
            declare_until_answered(site, server.url, voter, ledger)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    restarts: list[float] = []
    try:
        for _cycle in range(CYCLES):
            time.sleep(1.0)  # under load
            assert server.kill_workers(), "no workers to kill"
            time.sleep(0.8)  # the master has forked new workers by now; they meet ...
            crash_postgres(site.database)  # ... a database that dies mid-transaction
            site.database.start()  # crash recovery from the WAL
            restarts.append(time.monotonic())
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=GIVE_UP_AFTER + 15)
        server.stop()

    assert ledger.server_errors == [], ledger.server_errors[:5]
    assert set(ledger.refused) <= {"already-declared"}, ledger.refused  # a retry after a lost answer
    assert any(moment > restarts[-1] for moment in ledger.acknowledged_at.values()), \
        "nothing was acknowledged after the last restart"

    from registry.db import db
    from registry.elections.models import Election
    from registry.privacy.services import election_cipher

    with site.app.app_context():
        session = db.session
        cipher = election_cipher(session, session.scalar(select(Election).where(Election.identifier == "TK2025")))
        rows = session.scalars(select(Declaration)).all()
        by_key = Counter(row.voter_key for row in rows)
        assert max(by_key.values()) == 1  # none twice
        stored = {row.voter_key: row for row in rows}
        for voter, body in ledger.acknowledged.items():
            row = stored.get(cipher.voter_key(voter))
            assert row is not None, f"acknowledged declaration {body['id']} is missing"
            assert (row.id, row.receipt_code) == (body["id"], body["receipt_code"])
        assert set(stored) <= {cipher.voter_key(v) for v in site.voters}
        assert_ledger_sound(session)
        assert_aggregates_match(session)
        db.session.remove()
        db.engine.dispose()
    print(f"\ncrash test: {len(ledger.acknowledged)} acknowledged, {len(rows)} rows, {ledger.dropped} dropped "
          f"connections, {ledger.retried_503} answers 503, {len(ledger.unacknowledged)} given up, "
          f"refused {dict(ledger.refused)}")
