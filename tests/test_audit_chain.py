"""Tampering with the audit chain is detected, and the first bad row is named."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from registry.audit import services as audit
from registry.audit.models import AuditEvent
from tests.conftest import AMS
from tests.support.audit import disable_triggers

N = 12


@pytest.fixture
def chain(session):
    start = datetime(2025, 9, 1, 9, 0, tzinfo=AMS)
    for i in range(N):
        audit.append(session, actor=f"clerk:GM0392:E{i}", action="declaration.recorded", election="TK2025",
                     subject=f"declaration:{i + 1}", payload={"list": i % 3, "kieskring": 10},
                     occurred_at=start + timedelta(minutes=i))
        session.commit()
    assert audit.verify(session).ok
    disable_triggers(session)  # tampering is what a database superuser could do
    return session


def rows(session) -> list[AuditEvent]:
    return session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()


def test_an_untouched_chain_verifies_and_reports_its_head(session, chain):
    report = audit.verify(chain)
    assert report.ok and report.checked == N and report.head_seq == N
    assert report.head_hash == rows(chain)[-1].hash


def test_an_edited_row_is_named(chain):
    chain.execute(text("UPDATE audit_events SET actor = 'clerk:GM0363:E9' WHERE seq = 5"))
    chain.commit()
    report = audit.verify(chain)
    assert not report.ok and report.first_bad_seq == 5 and "gewijzigd" in report.problem


def test_an_edited_payload_is_named(chain):
    chain.execute(text("UPDATE audit_events SET payload = :p WHERE seq = 7"), {"p": '{"kieskring":10,"list":2}'})
    chain.commit()
    assert audit.verify(chain).first_bad_seq == 7


def test_a_deleted_row_is_named(chain):
    chain.execute(text("DELETE FROM audit_events WHERE seq = 4"))
    chain.commit()
    report = audit.verify(chain)
    assert not report.ok and report.first_bad_seq == 4 and "ontbreekt" in report.problem


def test_reordered_rows_are_detected_at_the_first_moved_row(chain):
    chain.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = 6"))
    chain.execute(text("UPDATE audit_events SET seq = 6 WHERE seq = 7"))
    chain.execute(text("UPDATE audit_events SET seq = 7 WHERE seq = -1"))
    chain.commit()
    report = audit.verify(chain)
    assert not report.ok and report.first_bad_seq == 6


def test_an_inserted_row_with_a_correct_own_hash_is_detected_at_the_next_row(chain):
    # Shift rows 8.. up by one (in reverse, so seq stays unique) and insert a forged row 8 whose own
    # hash is computed correctly from row 7: the chain still breaks at the row after it.
    for seq in range(N, 7, -1):
        chain.execute(text(f"UPDATE audit_events SET seq = {seq + 1} WHERE seq = {seq}"))
    prev = chain.scalar(select(AuditEvent).where(AuditEvent.seq == 7))
    when = prev.occurred_at + timedelta(seconds=1)
    content = audit.event_content(8, when, "clerk:GM0392:forger", "declaration.recorded", "TK2025",
                                  "declaration:99", "{}")
    chain.add(AuditEvent(seq=8, occurred_at=when, actor="clerk:GM0392:forger", action="declaration.recorded",
                         election="TK2025", subject="declaration:99", payload="{}", prev_hash=prev.hash,
                         hash=audit.chain_hash(prev.hash, content)))
    chain.commit()
    report = audit.verify(chain)
    assert not report.ok and report.first_bad_seq == 9


def test_truncation_is_detected_against_an_earlier_head(chain):
    earlier_head = audit.head(chain)
    chain.execute(text(f"DELETE FROM audit_events WHERE seq > {N - 3}"))
    chain.commit()
    assert audit.verify(chain).ok  # a cut-off tail alone looks like a shorter chain …
    report = audit.verify(chain, expected_head=earlier_head)
    assert not report.ok and report.first_bad_seq == N - 2  # … but not next to the head in a report


def test_a_rewritten_tail_is_detected_against_an_earlier_head(chain):
    earlier_head = audit.head(chain)
    # Recompute the whole chain after an edit: internally consistent, but not the recorded head.
    chain.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 3"))
    chain.commit()
    previous = rows(chain)[1].hash
    for row in rows(chain)[2:]:
        content = audit.event_content(row.seq, row.occurred_at, row.actor, row.action, row.election,
                                      row.subject, row.payload)
        new_hash = audit.chain_hash(previous, content)
        chain.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
                      {"p": previous, "h": new_hash, "s": row.seq})
        previous = new_hash
    chain.commit()
    assert audit.verify(chain).ok
    report = audit.verify(chain, expected_head=earlier_head)
    assert not report.ok and report.first_bad_seq == N


def test_cli_verify_names_the_first_bad_row_and_exits_1(cli, chain):
    ok = cli.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and f"{N} rijen" in ok.output
    chain.execute(text("UPDATE audit_events SET action = 'nothing.happened' WHERE seq = 3"))
    chain.commit()
    result = cli.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "gebroken bij rij 3" in result.output and "1 tot en met 2" in result.output


def test_cli_verify_with_an_earlier_head_detects_truncation(cli, chain):
    seq, digest = audit.head(chain)
    chain.execute(text(f"DELETE FROM audit_events WHERE seq = {N}"))
    chain.commit()
    result = cli.invoke(args=["audit", "verify", "--expect-head", f"{seq}:{digest}"])
    assert result.exit_code == 1 and f"rij {N}" in result.output
