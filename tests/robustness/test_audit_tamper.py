"""Random tampering with the audit chain, many trials, every one detected.

A database superuser can do anything to the rows; the chain cannot stop that, it makes it visible. Each
trial restores the same untouched chain, switches off the append-only triggers (as such a superuser
would: ALTER TABLE … DISABLE TRIGGER on PostgreSQL, DROP TRIGGER on SQLite), applies one random
tampering and checks that ``audit verify`` finds it, both the function and the command line:

* edit one field of one row (also a payload that means the same JSON written differently), with or
  without recomputing that row's own hash;
* delete one or more rows; swap or shuffle rows; insert a forged row, its own hash computed correctly;
* cut off the tail, or rewrite everything from some row onward into a consistent new chain: both are
  found against the head that an earlier report or dossier recorded.

What a chain alone cannot show, and this test does not claim: new, correctly chained rows appended after
the last recorded head. Those are caught only by publishing heads often (every report and dossier).

The trials are driven by random.Random(SEED); set STEUNREGISTER_TAMPER_SEED to explore other seeds.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from registry.audit import services as audit
from registry.audit.models import AuditEvent
from tests.conftest import AMS
from tests.support.audit import disable_triggers

SEED = int(os.environ.get("STEUNREGISTER_TAMPER_SEED", "20251029"))
TRIALS = 200
N = 24
FIELDS = ("occurred_at", "actor", "action", "election", "subject", "payload", "prev_hash", "hash")
table = AuditEvent.__table__


@dataclass
class Tampering:
    what: str
    first_touched: int  # the lowest seq whose row changed, moved or went missing
    needs_head: bool = False  # only visible against an earlier recorded head (truncation, rewrite)
    shows_at_next: bool = False  # a row with a correctly recomputed own hash breaks the link of the next row


def build_chain(session: Any) -> list[dict[str, Any]]:
    start = datetime(2025, 9, 1, 9, 0, tzinfo=AMS)
    for i in range(N):
        audit.append(session, actor=f"clerk:GM0392:E{i % 5}", action="declaration.recorded",
                     election="TK2025" if i % 7 else None, subject=f"declaration:{i + 1}",
                     payload={"list": i % 3, "kieskring": 10, "channel": "counter"},
                     occurred_at=start + timedelta(minutes=i, microseconds=i * 1013))
        session.commit()
    assert audit.verify(session).ok
    return [dict(row) for row in session.execute(select(table).order_by(table.c.seq)).mappings()]


def restore(session: Any, original: list[dict[str, Any]]) -> None:
    session.execute(delete(table))
    session.execute(insert(table), original)
    session.commit()


def _content_hash(row: dict[str, Any], prev_hash: str) -> str:
    content = audit.event_content(row["seq"], row["occurred_at"], row["actor"], row["action"], row["election"],
                                  row["subject"], row["payload"])
    return audit.chain_hash(prev_hash, content)


def _changed(rng: random.Random, row: dict[str, Any], field: str) -> Any:
    value = row[field]
    if field == "occurred_at":
        return value + timedelta(seconds=rng.choice([-3600, -1, 1, 86400]))
    if field == "payload":
        data = json.loads(value)
        if rng.random() < 0.5:
            return json.dumps(data)  # the same JSON, written with spaces: still not the recorded text
        data["list"] = data.get("list", 0) + 1
        return audit.canonical(data)
    if field in ("prev_hash", "hash"):
        return "".join(rng.choice("0123456789abcdef") for _ in range(64))
    if field == "election":
        return None if value else "TK2025"
    return rng.choice(["clerk:GM0363:E9", "declaration.voided", "declaration:999", "x", value + " "])


def edit(session: Any, rng: random.Random, rows: list[dict[str, Any]]) -> Tampering:
    row = rng.choice(rows)
    field = rng.choice(FIELDS)
    values = {field: _changed(rng, row, field)}
    recompute = field not in ("hash", "prev_hash") and rng.random() < 0.5
    if recompute:  # a careful forger fixes the row's own hash; the next row's link still breaks
        values["hash"] = _content_hash({**row, **values}, row["prev_hash"])
    session.execute(update(table).where(table.c.seq == row["seq"]).values(**values))
    is_last = row["seq"] == N
    return Tampering(f"edit {field} of row {row['seq']}{' and its hash' if recompute else ''}", row["seq"],
                     needs_head=recompute and is_last, shows_at_next=recompute and not is_last)


def delete_rows(session: Any, rng: random.Random, rows: list[dict[str, Any]]) -> Tampering:
    chosen = sorted(rng.sample([r["seq"] for r in rows[:-1]], rng.randint(1, 3)))  # the tail: see truncate
    session.execute(delete(table).where(table.c.seq.in_(chosen)))
    return Tampering(f"delete rows {chosen}", chosen[0])


def reorder(session: Any, rng: random.Random, rows: list[dict[str, Any]]) -> Tampering:
    first = rng.randint(1, N - 1)
    last = rng.randint(first + 1, min(N, first + 5))
    seqs = list(range(first, last + 1))
    moved = seqs[:]
    while moved == seqs:
        rng.shuffle(moved)
    # Give every row of the range a new place: park them at negative seqs first (seq is the key).
    for seq in seqs:
        session.execute(update(table).where(table.c.seq == seq).values(seq=-seq))
    for old, new in zip(seqs, moved, strict=True):
        session.execute(update(table).where(table.c.seq == -old).values(seq=new))
    return Tampering(f"reorder rows {seqs} as {moved}", min(s for s, m in zip(seqs, moved, strict=True) if s != m))


def truncate(session: Any, rng: random.Random, rows: list[dict[str, Any]]) -> Tampering:
    keep = rng.randint(0, N - 1)
    session.execute(delete(table).where(table.c.seq > keep))
    return Tampering(f"truncate after row {keep}", keep + 1, needs_head=True)


def insert_forged(session: Any, rng: random.Random, rows: list[dict[str, Any]]) -> Tampering:
    at = rng.randint(1, N)  # the forged row becomes seq ``at``; the rows from there move up by one
    for seq in range(N, at - 1, -1):
        session.execute(update(table).where(table.c.seq == seq).values(seq=seq + 1))
    previous = rows[at - 2] if at > 1 else None
    prev_hash = previous["hash"] if previous else audit.GENESIS
    when = (previous["occurred_at"] if previous else rows[0]["occurred_at"]) + timedelta(seconds=1)
    forged = {"seq": at, "occurred_at": when, "actor": "clerk:GM0392:forger", "action": "declaration.recorded",
              "election": "TK2025", "subject": "declaration:9999", "payload": audit.canonical({"list": 1}),
              "prev_hash": prev_hash}
    correct = rng.random() < 0.7
    forged["hash"] = _content_hash(forged, prev_hash) if correct else "f" * 64
    session.execute(insert(table), [forged])
    return Tampering(f"insert a forged row at {at}{' with a correct own hash' if correct else ''}", at,
                     shows_at_next=correct)


def rewrite(session: Any, rng: random.Random, rows: list[dict[str, Any]]) -> Tampering:
    """Edit a row and recompute the whole chain after it: consistent in itself, but not the recorded head."""
    start = rng.randint(1, N)
    prev_hash = rows[start - 2]["hash"] if start > 1 else audit.GENESIS
    for row in rows[start - 1:]:
        new = {**row, "prev_hash": prev_hash}
        if row["seq"] == start:
            new["actor"] = "clerk:GM0392:forger"
        new["hash"] = _content_hash(new, prev_hash)
        session.execute(update(table).where(table.c.seq == row["seq"])
                        .values(actor=new["actor"], prev_hash=new["prev_hash"], hash=new["hash"]))
        prev_hash = new["hash"]
    return Tampering(f"rewrite the chain from row {start}", start, needs_head=True)


KINDS: list[Callable[[Any, random.Random, list[dict[str, Any]]], Tampering]] = [
    edit, edit, delete_rows, reorder, truncate, insert_forged, rewrite,
]


@pytest.fixture
def chain(session: Any) -> list[dict[str, Any]]:
    original = build_chain(session)
    disable_triggers(session)
    return original


def test_the_append_only_triggers_refuse_edits_and_deletes(session):
    build_chain(session)
    for statement in ("UPDATE audit_events SET actor = 'x' WHERE seq = 3", "DELETE FROM audit_events WHERE seq = 3",
                      f"DELETE FROM audit_events WHERE seq = {N}"):
        with pytest.raises(DBAPIError):
            session.execute(text(statement))
            session.commit()
        session.rollback()
    assert audit.verify(session).ok and audit.head(session)[0] == N


def test_random_tampering_is_always_detected(session, cli, chain):
    rng = random.Random(SEED)
    head = (chain[-1]["seq"], chain[-1]["hash"])
    expect_head = f"{head[0]}:{head[1]}"
    seen: dict[str, int] = {}
    for trial in range(TRIALS):
        restore(session, chain)
        assert audit.verify(session, expected_head=head).ok
        kind = rng.choice(KINDS)
        tampering = kind(session, rng, chain)
        session.commit()
        seen[kind.__name__] = seen.get(kind.__name__, 0) + 1
        where = f"trial {trial} (seed {SEED}): {tampering.what}"

        report = audit.verify(session, expected_head=head)
        assert not report.ok, f"not detected: {where}"
        bad = report.first_bad_seq
        assert bad is not None and report.problem, where
        if tampering.needs_head:
            assert bad >= tampering.first_touched, (where, report)
            assert audit.verify(session).ok, where  # the chain alone looks fine: the head is what shows it
        else:
            expected = tampering.first_touched + (1 if tampering.shows_at_next else 0)
            assert bad == expected, (where, report)
            assert not audit.verify(session).ok, f"only found with the head: {where}"
        assert report.head_seq == bad - 1  # rows before the first bad one are vouched for, no more

        if trial % 5 == 0:  # the command line an operator runs says the same, and exits 1
            result = cli.invoke(args=["audit", "verify", "--expect-head", expect_head])
            assert result.exit_code == 1, (where, result.output)
            assert f"gebroken bij rij {bad}" in result.output, (where, result.output)
    assert set(seen) == {k.__name__ for k in KINDS}, seen  # every kind of tampering was tried
    restore(session, chain)
    ok = cli.invoke(args=["audit", "verify", "--expect-head", expect_head])
    assert ok.exit_code == 0 and f"{N} rijen" in ok.output
