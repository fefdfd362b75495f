"""Key handling: one master key outside the database wraps two random keys per election.

* the data key encrypts what must be read back (a declarant's name) with AES-256-GCM;
* the pseudonym key turns a BSN into ``voter_key`` = HMAC-SHA-256(key, BSN), scoped to the election,
  so duplicates are found without ever storing the BSN.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class KeyConfigurationError(RuntimeError):
    """The master key is missing or malformed; the app must not start."""


class ElectionKeysDestroyed(LookupError):
    """The election's keys were destroyed (I 19); its personal data can no longer be read."""


def load_master_key(value: str | None, path: str | None, *, create_at: Path | None) -> bytes:
    """Master key from the environment value, else from the file, else (development only) a new file."""
    if value:
        return _decode_key(value, "STEUNREGISTER_MASTER_KEY")
    if path:
        file = Path(path)
        if not file.exists():
            raise KeyConfigurationError(f"master key file {file} does not exist")
        return _decode_key(file.read_text().strip(), str(file))
    if create_at is None:
        raise KeyConfigurationError(
            "no master key: set STEUNREGISTER_MASTER_KEY or STEUNREGISTER_MASTER_KEY_FILE"
        )
    if not create_at.exists():
        create_at.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(create_at, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return _decode_key(create_at.read_text().strip(), str(create_at))


def _decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise KeyConfigurationError(f"master key in {source} is not base64") from exc
    if len(key) != 32:
        raise KeyConfigurationError(f"master key in {source} must be 32 bytes, not {len(key)}")
    return key


@dataclass(frozen=True)
class ElectionCipher:
    """The unwrapped keys of one election; the only object that can read its personal data."""

    election: str
    data_key: bytes
    pseudonym_key: bytes

    def voter_key(self, bsn: str) -> str:
        return hmac.new(self.pseudonym_key, b"bsn:" + bsn.encode(), hashlib.sha256).hexdigest()

    @cached_property
    def _leaf_salt_key(self) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=f"steunregister:{self.election}:log-leaf-salt".encode()).derive(self.data_key)

    def leaf_salt(self, declaration_id: int) -> bytes:
        """The secret salt of a declaration's transparency-log leaf: HMAC-SHA-256 under a subkey derived
        (HKDF) from the data key, so it is destroyed with the election's keys at I 19 (docs/transparency.md)."""
        return hmac.new(self._leaf_salt_key, f"declaration:{declaration_id}".encode(), hashlib.sha256).digest()

    def encrypt(self, plaintext: str, purpose: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(self.data_key).encrypt(nonce, plaintext.encode(), self._aad(purpose))

    def decrypt(self, blob: bytes, purpose: str) -> str:
        nonce, ciphertext = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        return AESGCM(self.data_key).decrypt(nonce, ciphertext, self._aad(purpose)).decode()

    def _aad(self, purpose: str) -> bytes:
        # Binding the election and purpose stops a ciphertext being replayed into another column.
        return f"steunregister:{self.election}:{purpose}".encode()


class KeyRing:
    """Wraps and unwraps per-election keys with the master key; caches unwrapped keys in memory."""

    def __init__(self, master_key: bytes) -> None:
        self._master = AESGCM(master_key)
        self._master_bytes = master_key
        self._cache: dict[str, ElectionCipher] = {}
        self._derived: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def new_wrapped_keys(self, election: str) -> tuple[bytes, bytes]:
        return (
            self._wrap(secrets.token_bytes(32), election, "data"),
            self._wrap(secrets.token_bytes(32), election, "pseudonym"),
        )

    def cipher(self, election: str, wrapped_data_key: bytes, wrapped_pseudonym_key: bytes) -> ElectionCipher:
        with self._lock:
            cached = self._cache.get(election)
        if cached is not None:
            return cached
        cipher = ElectionCipher(
            election=election,
            data_key=self._unwrap(wrapped_data_key, election, "data"),
            pseudonym_key=self._unwrap(wrapped_pseudonym_key, election, "pseudonym"),
        )
        with self._lock:
            self._cache[election] = cipher
        return cipher

    def derived_key(self, purpose: str) -> bytes:
        """A key for one purpose (sealed form tokens, session data), derived with HKDF: never the master.
        Derived once per purpose (the idempotency scope asks for its key on every declaration)."""
        with self._lock:
            known = self._derived.get(purpose)
        if known is not None:
            return known
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=f"steunregister:{purpose}".encode()).derive(self._master_bytes)
        with self._lock:
            self._derived[purpose] = key
        return key

    def cached(self, election: str) -> ElectionCipher | None:
        with self._lock:
            return self._cache.get(election)

    def forget(self, election: str) -> None:
        with self._lock:
            self._cache.pop(election, None)

    def _wrap(self, key: bytes, election: str, purpose: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._master.encrypt(nonce, key, f"wrap:{election}:{purpose}".encode())

    def _unwrap(self, blob: bytes, election: str, purpose: str) -> bytes:
        return self._master.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], f"wrap:{election}:{purpose}".encode())
