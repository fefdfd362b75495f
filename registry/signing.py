"""The registry's Ed25519 signing keys (dossiers, transparency-log tree heads): never in the database.

Each comes from a PEM file named by a setting, or else is derived (HKDF) from the master key for one
purpose, so it is stable for as long as the master key is and never stored anywhere.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app

from registry.config import value
from registry.privacy.services import key_ring


class SigningKeyError(RuntimeError):
    """The configured signing key file cannot be used."""


def ed25519_key(setting: str, purpose: str) -> Ed25519PrivateKey:
    """The key in the file STEUNREGISTER_<setting> names, else the one derived for ``purpose``."""
    path = value(current_app.config["STEUNREGISTER"], setting)
    if path:
        try:
            key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise SigningKeyError(f"STEUNREGISTER_{setting} ({path}) is geen leesbare, "
                                  f"onversleutelde PEM-sleutel: {exc.__class__.__name__}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"STEUNREGISTER_{setting} ({path}) is geen Ed25519-sleutel.")
        return key
    return Ed25519PrivateKey.from_private_bytes(key_ring().derived_key(purpose))


def public_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
