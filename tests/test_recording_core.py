"""The recording core (registry.declarations.services.record): one entry point for every channel.

What it promises beyond the rules themselves: a rule is never checked against reference data that changed
before the write (the snapshot's version); the idempotency key is answered from the core, for every channel;
the audit event the database links (PostgreSQL) is the one verify() recomputes; a verified bearer token is
reused until it expires and dropped when the issuer's keys are fetched again.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from auth.rp import tokens
from registry.audit import services as audit
from registry.db import begin_write, utcnow
from registry.declarations.idempotency import Idempotency
from registry.declarations.models import Declaration
from registry.declarations.services import (
    DeclarationRequest,
    KeyReused,
    Recorded,
    Refusal,
    Refused,
    Replayed,
    record,
)
from registry.domain import Channel
from registry.elections import services as elections
from registry.elections.models import CandidateList, Election
from registry.elections.reference import read_version, reference_cache
from registry.people import person_registry
from tests.auth.helpers import bearer_token
from tests.conftest import bsn
from tests.test_api import BASE, counter_body, declare, open_tk2025  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("open_tk2025")


def _request(session, case: str, designation: str = "Volt", **extra) -> DeclarationRequest:
    list_id = session.scalar(select(CandidateList.id).where(CandidateList.designation == designation))
    return DeclarationRequest(election="TK2025", list_id=list_id, channel=Channel.COUNTER, bsn=bsn(case),
                              actor="clerk:GM0392:test", counter_municipality="GM0392", document_type="paspoort",
                              document_number="NW4K82PL1", **extra)


def test_a_change_to_the_reference_data_is_seen_by_the_next_declaration(app, session):
    """The snapshot is read once per version; closing the window raises the version, so the very next
    declaration is checked against the closed window (H 4 lid 3), not the cached open one."""
    with app.test_request_context():
        first = record(session, person_registry(), _request(session, "voter_haarlem_1"))
        assert isinstance(first, Recorded)
        before = read_version(session)
        session.rollback()
        now = utcnow()
        elections.update_settings(session, "TK2025", "test", window_opens_at=now - timedelta(days=2),
                                  window_closes_at=now - timedelta(hours=1))
        assert read_version(session) > before
        session.rollback()
        second = record(session, person_registry(), _request(session, "voter_haarlem_2"))
        assert isinstance(second, Refused) and second.error.code is Refusal.WINDOW_CLOSED


def test_a_write_checked_at_an_old_version_is_checked_again(app, session, monkeypatch):
    """Reference data that changes between the check and the write: the write does not happen at the old
    version; the rules run again at the new one (here: the list became exempt, H 4 lid 8)."""
    from registry.declarations import services

    real_prepare = services._prepare
    calls = []

    def prepare_then_change(session_, registry, election, request, now):
        prepared = real_prepare(session_, registry, election, request, now)
        if not calls:  # between the check and the write, the CSB records the list as exempt
            calls.append(1)
            volt = session.get(CandidateList, request.list_id)
            begin_write(session)
            volt.exempt, volt.exempt_basis = True, "test"
            session.commit()
        return prepared

    monkeypatch.setattr(services, "_prepare", prepare_then_change)
    with app.test_request_context():
        outcome = record(session, person_registry(), _request(session, "voter_haarlem_1"))
    assert isinstance(outcome, Refused) and outcome.error.code is Refusal.LIST_EXEMPT
    assert calls == [1]


def test_the_core_answers_a_key_once_for_every_channel(app, session):
    with app.test_request_context():
        key = Idempotency.for_request("TK2025", "clerk:GM0392:test", str(uuid.uuid4()), "POST", "/x", {"a": 1})
        first = record(session, person_registry(), _request(session, "voter_haarlem_1"), key)
        again = record(session, person_registry(), _request(session, "voter_haarlem_1"), key)
        other = Idempotency(key.scope, key.key, "another request")
        reused = record(session, person_registry(), _request(session, "voter_haarlem_2"), other)
    assert isinstance(first, Recorded)
    assert isinstance(again, Replayed) and not isinstance(again, KeyReused) and again.status == 201
    assert again.answer()["id"] == first.declaration.id
    assert again.answer()["receipt_code"] == first.declaration.receipt_code
    assert isinstance(reused, KeyReused)


def test_a_refusal_is_kept_for_its_key_and_replayed(app, session):
    with app.test_request_context():
        key = Idempotency.for_request("TK2025", "clerk:GM0392:test", str(uuid.uuid4()), "POST", "/x", {"a": 2})
        refused = record(session, person_registry(), _request(session, "minor"), key)
        again = record(session, person_registry(), _request(session, "minor"), key)
    assert isinstance(refused, Refused) and refused.error.code is Refusal.NOT_REGISTERED_HERE  # lives elsewhere
    assert isinstance(again, Replayed) and again.status == 422 and again.answer()["code"] == "not-registered-here"


def test_the_event_the_database_links_is_the_one_verify_recomputes(client, session):
    """On PostgreSQL the recording path's audit event is linked by a trigger (migration 0009); on SQLite in
    Python. Either way the chain verifies, with awkward text in the fields the content is built from."""
    token = bearer_token(client, "clerk:GM0392")
    for case in ("voter_haarlem_1", "voter_haarlem_2", "voter_haarlem_3"):
        assert declare(client, token, counter_body(session, case)).status_code == 201
    session.rollback()
    begin_write(session)
    for actor in ('quote " backslash \\ tab \t newline \n', "ünïcödé ☃ \u2028", "\x01\x1f"):
        audit.append(session, actor=actor, action="test.awkward", subject=None, payload={"x": actor})
    session.commit()
    assert declare(client, token, counter_body(session, "dual_nationality")).status_code == 201
    session.rollback()
    report = audit.verify(session)
    assert report.ok, report
    assert report.checked >= 7


def test_a_verified_bearer_token_is_reused_until_the_keys_change(app, client, session, monkeypatch):
    token = bearer_token(client, "clerk:GM0392")
    calls = []
    real = tokens.verify_jwt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(tokens, "verify_jwt", counting)
    for case in ("voter_haarlem_1", "voter_haarlem_2"):
        declare(client, token, counter_body(session, case))
    assert len(calls) == 1  # verified once, then served from the cache
    from auth.rp.services import state

    with app.app_context():
        for oidc in state()._clients.values():  # the issuer's keys are fetched again (a rotation)
            oidc._fetch_jwks()
    declare(client, token, counter_body(session, "voter_haarlem_3"))
    assert len(calls) == 2  # the cache was dropped with the old keys: verified again
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert declare(client, forged, counter_body(session, "dual_nationality")).status_code == 401


def test_an_election_unknown_to_the_snapshot_is_refused_without_a_500(app, session):
    with app.test_request_context():
        request = DeclarationRequest(election="XX1999", list_id=1, channel=Channel.COUNTER, bsn=bsn("voter_haarlem_1"),
                                     actor="clerk:GM0392:test", counter_municipality="GM0392",
                                     document_type="paspoort", document_number="NW4K82PL1")
        outcome = record(session, person_registry(), request)
        assert isinstance(outcome, Refused) and outcome.error.code is Refusal.UNKNOWN_ELECTION
        assert reference_cache().elections.get("XX1999", "missing") is None
    assert session.scalar(select(Election.id).where(Election.identifier == "XX1999")) is None


def test_a_pooled_connection_killed_while_idle_is_replaced_not_a_503(app, client, session, monkeypatch):
    """No ping on every checkout: only a connection idle for IDLE_PING_SECONDS is pinged, and a dead one is
    replaced before the request uses it (here the server ended every other connection, as a restart does)."""
    from sqlalchemy import text as sql

    from registry import db as db_module

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("a PostgreSQL connection pool")
    token = bearer_token(client, "clerk:GM0392")
    assert declare(client, token, counter_body(session, "voter_haarlem_1")).status_code == 201
    session.rollback()
    session.execute(sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    session.rollback()
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)
    assert declare(client, token, counter_body(session, "voter_haarlem_2")).status_code == 201


def test_a_declaration_waiting_for_the_chain_while_the_window_closes_is_refused(app, client, session):
    """The CSB counts under the audit chain's lock. A declaration that was checked before a change to the
    reference data and reaches the chain only after that change committed is not linked at its old version:
    it is checked again, and refused if the change says so (here: the window closed meanwhile)."""
    import threading

    from sqlalchemy import text as sql

    from registry.audit.services import CHAIN_LOCK_ID
    from registry.db import db

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE; the chain is linked in Python")
    token = bearer_token(client, "clerk:GM0392")
    body = counter_body(session, "voter_haarlem_1")
    session.rollback()
    answer: dict[str, object] = {}
    with db.engine.connect() as holder:
        holder.execute(sql("SELECT pg_advisory_xact_lock(:id)"), {"id": CHAIN_LOCK_ID})

        def declare_now() -> None:
            response = app.test_client().post(f"{BASE}/declarations", json=body, headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
            answer["status"], answer["body"] = response.status_code, response.get_json()

        worker = threading.Thread(target=declare_now)
        worker.start()
        worker.join(timeout=1.5)
        assert worker.is_alive()  # checked, and now waiting for the chain
        now = utcnow()
        holder.execute(sql("UPDATE elections SET window_closes_at = :t WHERE identifier = 'TK2025'"),
                       {"t": now - timedelta(minutes=1)})
        holder.commit()
    worker.join(timeout=30)
    assert answer["status"] == 422 and str(answer["body"]["type"]).endswith("/window-closed"), answer
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Declaration)) == 0


def test_the_chain_trigger_refuses_an_event_at_a_stale_reference_version(session):
    from sqlalchemy import text as sql
    from sqlalchemy.exc import DBAPIError

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the chain is linked by the database on PostgreSQL only")
    session.rollback()
    session.execute(sql("SELECT set_config('steunregister.reference_version', '-1', true)"))
    with pytest.raises(DBAPIError) as raised:
        session.execute(sql("INSERT INTO audit_events (seq, occurred_at, actor, action, payload, prev_hash, hash) "
                            "VALUES (0, now(), 'test', 'test.stale', '{}', '', '')"))
    assert getattr(raised.value.orig, "sqlstate", None) == "SR409"
    session.rollback()


def test_an_api_declaration_is_two_statements(app, client, session):
    """What docs/architecture.md draws: on PostgreSQL a declaration through the API, on a warm process, is
    one statement to read the reference version and the key, and one that writes and commits (autocommit:
    no BEGIN or COMMIT either). On SQLite the write is a short transaction of a few local statements."""
    from sqlalchemy import event

    from registry.db import db

    token = bearer_token(client, "clerk:GM0392")
    assert declare(client, token, counter_body(session, "voter_haarlem_1")).status_code == 201  # warm
    body = counter_body(session, "voter_haarlem_2")
    session.rollback()
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement.strip().split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        response = declare(client, token, body)
        assert response.status_code == 201, response.get_json()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    if session.get_bind().dialect.name == "postgresql":
        assert statements == ["SELECT", "WITH"], statements
    else:
        assert statements.count("INSERT") == 3 and len(statements) <= 10, statements
