"""Append to and verify the hash chain.

Each row's hash is SHA-256 over the previous row's hash and the row's own canonical content, so an
edit, deletion, reordering or insertion breaks the chain at the first row touched. ``seq`` runs
without gaps from 1; the chain head (seq, hash) goes into every report and dossier, which also makes a
truncation visible to whoever holds an earlier head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from registry.audit.models import AuditEvent
from registry.db import utcnow

GENESIS = "0" * 64
# Arbitrary constant naming the PostgreSQL advisory lock that serialises chain appends.
CHAIN_LOCK_ID = 0x5354_4555_4E  # "STEUN"


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_content(seq: int, occurred_at: datetime, actor: str, action: str, election: str | None,
                  subject: str | None, payload: str) -> str:
    return canonical({
        "seq": seq,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(),  # the same text before and after storage
        "actor": actor,
        "action": action,
        "election": election,
        "subject": subject,
        "payload": payload,
    })


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def append(session: Session, *, actor: str, action: str, election: str | None = None,
           subject: str | None = None, payload: dict[str, Any] | None = None,
           occurred_at: datetime | None = None) -> AuditEvent:
    """Add one event in the caller's transaction. Call it last, just before commit: on PostgreSQL it
    takes the chain lock, which is held until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": CHAIN_LOCK_ID})
    # On SQLite the transaction is BEGIN IMMEDIATE, so it already holds the only write lock.
    head = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    when = (occurred_at or utcnow()).astimezone(UTC)
    body = canonical(payload or {})
    content = event_content(seq, when, actor, action, election, subject, body)
    event = AuditEvent(seq=seq, occurred_at=when, actor=actor, action=action, election=election,
                       subject=subject, payload=body, prev_hash=prev, hash=chain_hash(prev, content))
    session.add(event)
    session.flush()
    return event


def head(session: Session) -> tuple[int, str]:
    row = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None


# Plain rows, not entities: the walk needs only the values, and building ORM objects was most of its time.
_CHAIN_COLUMNS = (AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.action, AuditEvent.election,
                  AuditEvent.subject, AuditEvent.payload, AuditEvent.prev_hash, AuditEvent.hash)


def _rows(session: Session, batch: int = 20000) -> Iterator[Any]:
    last = 0
    while True:
        chunk = session.execute(
            select(*_CHAIN_COLUMNS).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq


def verify(session: Session, rows: Iterable[Any] | None = None,
           expected_head: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain in seq order; report the first row that does not fit."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    last_hash = GENESIS
    for row in rows if rows is not None else _rows(session):
        if row.seq != expected_seq:
            problem = (f"rij {expected_seq} ontbreekt" if row.seq > expected_seq
                       else f"rij {row.seq} staat niet op zijn plaats")
            return ChainReport(False, checked, expected_seq - 1, last_hash, expected_seq, problem)
        if row.prev_hash != prev_hash:
            return ChainReport(False, checked, row.seq - 1, last_hash, row.seq,
                               "verwijst niet naar de hash van de vorige rij (verwijderd, verplaatst of ingevoegd)")
        content = event_content(row.seq, row.occurred_at, row.actor, row.action, row.election,
                                row.subject, row.payload)
        if chain_hash(prev_hash, content) != row.hash:
            return ChainReport(False, checked, row.seq - 1, last_hash, row.seq,
                               "inhoud past niet bij de opgeslagen hash (gewijzigd)")
        if expected_head is not None and row.seq == expected_head[0] and row.hash != expected_head[1]:
            return ChainReport(False, checked, row.seq - 1, last_hash, row.seq,
                               "hash wijkt af van de eerder vastgelegde kop van de keten")
        prev_hash = last_hash = row.hash
        expected_seq += 1
        checked += 1
    if expected_head is not None:
        head_seq = expected_head[0]
        if checked < head_seq:
            return ChainReport(False, checked, checked, last_hash, checked + 1,
                               f"keten eindigt bij rij {checked}, maar een eerder vastgelegde kop is rij {head_seq}")
    return ChainReport(True, checked, checked, last_hash)
