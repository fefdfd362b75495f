"""Sealed tokens: small JSON payloads encrypted and authenticated for the browser to carry back.

The counter's second step needs the BSN of the first without storing it anywhere: the form carries it
sealed (AES-256-GCM under a key derived from the master key), with an expiry and a purpose.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from registry.privacy.keys import KeyRing


class TokenInvalid(ValueError):
    """Tampered, expired or meant for something else."""


def seal(ring: KeyRing, purpose: str, data: dict[str, Any], ttl_seconds: int) -> str:
    body = json.dumps({"d": data, "exp": int(time.time()) + ttl_seconds}, separators=(",", ":")).encode()
    nonce = secrets.token_bytes(12)
    sealed = nonce + AESGCM(ring.derived_key("sealed")).encrypt(nonce, body, purpose.encode())
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def unseal(ring: KeyRing, purpose: str, token: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = AESGCM(ring.derived_key("sealed")).decrypt(raw[:12], raw[12:], purpose.encode())
        payload = json.loads(body)
    except (ValueError, InvalidTag, TypeError) as exc:
        raise TokenInvalid("token invalid") from exc
    if payload.get("exp", 0) < time.time():
        raise TokenInvalid("token expired")
    return payload["d"]
