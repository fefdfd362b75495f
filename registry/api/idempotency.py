"""Idempotency-Key handling (draft-ietf-httpapi-idempotency-key-header).

claim() inserts the key as in flight in its own short transaction; the declaration's own write
transaction then completes it (same commit), so an acknowledged declaration and its stored answer
cannot come apart. A refusal stores its answer in a transaction of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.api.models import IdempotencyKey
from registry.db import begin_write, utcnow

# A key still in flight after this long belongs to a request that died; a retry may take it over.
STALE_AFTER = timedelta(seconds=30)
MAX_KEY_LENGTH = 200
# Visible ASCII only, as a UUID or a hash prints: the key is stored and compared byte for byte, so text that
# a proxy could re-encode (accents, spaces, control characters) is refused instead of silently mismatching.
KEY_PATTERN = f"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"
_KEY = re.compile(KEY_PATTERN)


def key_ok(key: str) -> bool:
    """A present key (already stripped) that may be stored: KEY_PATTERN, which the OpenAPI document states."""
    return _KEY.fullmatch(key) is not None


def scope_for(election: str, actor: str) -> str:
    """The scope of a key: a keyed hash of (election, actor). Two elections give one actor unrelated
    scopes, so a voter's answers cannot be linked across elections through this table."""
    secret = current_app.extensions["steunregister.keyring"].derived_key("idempotency scope")
    return hmac.new(secret, f"{election}\n{actor}".encode(), hashlib.sha256).hexdigest()


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    outcome: str  # "new" | "replay" | "mismatch" | "in_flight"
    status: int | None = None
    body: str | None = None


def claim(session: Session, scope: str, key: str, digest: str, election: str) -> Claim:
    begin_write(session)
    try:
        session.add(IdempotencyKey(scope=scope, key=key, request_hash=digest, state="in_flight",
                                   election=election[:100]))
        session.commit()
        return Claim("new")
    except IntegrityError:
        session.rollback()
    begin_write(session)
    try:
        row = session.get(IdempotencyKey, (scope, key))
        if row is None:  # removed in between: cannot happen (append-only), answer conservatively
            return Claim("in_flight")
        if row.request_hash != digest:
            return Claim("mismatch")
        if row.state == "done":
            return Claim("replay", row.response_status, row.response_body)
        if utcnow() - row.created_at < STALE_AFTER:
            return Claim("in_flight")
        # Take over an abandoned claim, once: only the request that moves created_at wins.
        taken = session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key,
                   IdempotencyKey.state == "in_flight", IdempotencyKey.created_at == row.created_at)
            .values(created_at=utcnow())
        ).rowcount
        session.commit()
        return Claim("new") if taken == 1 else Claim("in_flight")
    finally:
        session.rollback()  # ends the read; harmless after a commit


def complete_in(session: Session, scope: str, key: str, status: int, body: str) -> None:
    """Mark the key done inside the caller's (already open) write transaction."""
    session.execute(
        update(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .values(state="done", response_status=status, response_body=body, completed_at=utcnow())
    )


def complete(session: Session, scope: str, key: str, status: int, body: str) -> None:
    """Store a refusal's answer in a transaction of its own."""
    begin_write(session)
    try:
        complete_in(session, scope, key, status, body)
        session.commit()
    except Exception:
        session.rollback()
        raise


def release(session: Session, scope: str, key: str) -> None:
    """A request that failed without an answer worth keeping (e.g. 503) frees its key for a retry."""
    begin_write(session)
    try:
        row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key,
                                                          IdempotencyKey.state == "in_flight"))
        if row is not None:
            session.delete(row)
        session.commit()
    except Exception:
        session.rollback()
        raise
