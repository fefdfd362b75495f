"""Server-side login state: sessions, pending logins and the mock issuer's authorization codes.

All of it lives in the database so that any app instance behind it can serve any request; nothing
about a login is kept in process memory. Nothing here holds a BSN in plaintext.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import UTCDateTime, db, utcnow


class AuthSession(db.Model):
    """One login. The cookie holds a random id; only its SHA-256 is stored here."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_expires_at", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))  # digid | eherkenning
    kind: Mapped[str] = mapped_column(String(10))  # voter | staff
    subject: Mapped[str] = mapped_column(String(255))
    # Identity claims (acr, roles, organisation, employee id, display name); never the BSN.
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    # AES-256-GCM under a key derived from the master key; the row's id_hash is the associated data.
    bsn_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # absolute lifetime
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(20))  # logout | idle | replaced


class LoginRequest(db.Model):
    """A login started at /login/<provider> and not finished yet: state, nonce and PKCE verifier.

    The browser's signed cookie holds the state (binding the callback to this browser); this row makes
    state and nonce single-use across all app instances.
    """

    __tablename__ = "auth_login_requests"
    __table_args__ = (Index("ix_auth_login_requests_expires_at", "expires_at"),)

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    nonce_hash: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(Text)
    next_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MockIdpCode(db.Model):
    """An authorization code of the mock issuer (development and test only); single-use, 60 s.

    The grant (identity claims including a BSN, client, redirect URI, PKCE challenge, nonce) is
    AES-GCM ciphertext under a key derived from the master key.
    """

    __tablename__ = "mock_idp_codes"
    __table_args__ = (Index("ix_mock_idp_codes_expires_at", "expires_at"),)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    payload_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
