"""The mock issuer's signing keys: PEM files in instance/mock-idp-keys/, listed in keys.json.

One active key per algorithm (RS256 for ID tokens of the app's own client, ES256 for access tokens
and the CLI client). ``rotate`` adds a new active key per algorithm and retires the old one, which
stays in the JWKS for MOCK_IDP_KEY_RETENTION seconds so tokens signed just before still verify;
after that it is dropped and its file deleted. The metadata file is re-read when it changes, so a
rotation from the command line reaches a running server without a restart.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from auth.rp import tokens

ALGORITHMS: tuple[str, ...] = ("RS256", "ES256")
METADATA = "keys.json"


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    alg: str
    file: str
    created_at: float
    retired_at: float | None = None


def _generate_pem(alg: str) -> bytes:
    if alg == "RS256":
        key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(f"no key generation for {alg}")
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class KeyStore:
    def __init__(self, directory: Path, retention_seconds: int) -> None:
        self.directory = directory
        self.retention = retention_seconds
        self._lock = threading.RLock()
        self._records: list[KeyRecord] = []
        self._stamp: int | None = None
        self._pems: dict[str, bytes] = {}

    # --- reading ---
    def _metadata_path(self) -> Path:
        return self.directory / METADATA

    def _reload(self) -> None:
        path = self._metadata_path()
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            self._records, self._stamp = [], None
            return
        if stamp == self._stamp:
            return
        data = json.loads(path.read_text())
        self._records = [KeyRecord(**item) for item in data.get("keys", [])]
        self._stamp = stamp

    def records(self) -> list[KeyRecord]:
        with self._lock:
            self._reload()
            if not any(r.retired_at is None for r in self._records):
                self._write(self._records)  # first use: generate (development and test only)
            return list(self._records)

    def signing_key(self, alg: str) -> tuple[str, bytes]:
        """(kid, private PEM) of the active key for ``alg``."""
        for record in self.records():
            if record.alg == alg and record.retired_at is None:
                return record.kid, self._pem(record)
        raise LookupError(f"no active {alg} key")

    def _pem(self, record: KeyRecord) -> bytes:
        cached = self._pems.get(record.kid)
        if cached is None:
            cached = (self.directory / record.file).read_bytes()
            self._pems[record.kid] = cached
        return cached

    def jwks(self, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        keys = [tokens.public_jwk(self._pem(r), r.alg, r.kid) for r in self.records()
                if r.retired_at is None or now < r.retired_at + self.retention]
        return {"keys": keys}

    # --- writing ---
    def rotate(self, now: float | None = None) -> list[str]:
        """New active keys for every algorithm; returns their kids."""
        now = time.time() if now is None else now
        with self._lock:
            self._reload()
            records = [r if r.retired_at is not None else KeyRecord(r.kid, r.alg, r.file, r.created_at, now)
                       for r in self._records]
            before = {r.kid for r in records}
            self._write(records, now)
            return [r.kid for r in self._records if r.kid not in before]

    def _write(self, records: list[KeyRecord], now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        kept = [r for r in records if r.retired_at is None or now < r.retired_at + self.retention]
        for alg in ALGORITHMS:
            if not any(r.alg == alg and r.retired_at is None for r in kept):
                kept.append(self._new_key(alg, now))
        tmp = self._metadata_path().with_suffix(".tmp")
        tmp.write_text(json.dumps({"keys": [asdict(r) for r in kept]}, indent=2))
        os.replace(tmp, self._metadata_path())
        for dropped in {r.file for r in records} - {r.file for r in kept}:
            (self.directory / dropped).unlink(missing_ok=True)
        self._stamp = None
        self._reload()

    def _new_key(self, alg: str, now: float) -> KeyRecord:
        pem = _generate_pem(alg)
        kid = tokens.thumbprint(tokens.public_jwk(pem, alg, ""))
        file = f"{alg.lower()}-{kid}.pem"
        fd = os.open(self.directory / file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        self._pems[kid] = pem
        return KeyRecord(kid=kid, alg=alg, file=file, created_at=now)
