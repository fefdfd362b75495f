"""Dossiers without a database: fake rows, a throwaway key, a stand-in cover; and ways to tamper."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.dossier.services import _zip_info, public_key_pem, write_dossier

MEMBERS = ("declarations.csv", "declarations.json", "manifest.json", "manifest.sig", "cover.pdf", "cover.sig",
           "registry-public-key.pem")
HEADER = {
    "created_at": "2025-09-16T10:00:00+00:00",
    "election": {"ElectionIdentifier": "TK2025", "ElectionName": "Tweede Kamer 2025", "ElectionDate": "2025-10-29"},
    "list": {"AffiliationIdentifier": 7, "RegisteredName": "Partij Zeven"},
    "kieskringen": [{"RegionNumber": 10, "RegionName": "Haarlem", "required": 30, "declarations": 4, "valid": 2,
                     "void_multiple": 1, "void_other": 1, "status": "short", "shortage": 28, "decision": None,
                     "list_version": {"version": 1, "content_hash": "ab" * 32}}],
    "audit_chain_head": {"seq": 12, "hash": "cd" * 32},
}
STATUS_CYCLE = ("valid", "valid", "void_multiple", "void_other")


def fake_lines(count: int, names: bool = True) -> Iterator[dict[str, Any]]:
    for i in range(1, count + 1):
        status = STATUS_CYCLE[i % len(STATUS_CYCLE)]
        yield {"sequence": i, "declaration_id": 1000 + i, "kieskring": 10 if i % 3 else 9,
               "municipality_code": "GM0392", "channel": ("counter", "online", "batch")[i % 3],
               "signed_at": "2025-09-10T10:00:00+00:00", "recorded_at": "2025-09-10T10:00:01+00:00",
               "attestation": {"municipality": "GM0392", "checked": True}, "list_version": 1, "status": status,
               "void_reason": None if status == "valid" else "Reden, met \"aanhalingstekens\",\nen een regel.",
               "name": f"Jansen-Ünal, K. {i}" if names else None}


def fake_cover(manifest: dict[str, Any], fingerprint: str) -> bytes:
    return b"%PDF-1.7 stand-in cover " + fingerprint.encode() + b"\n%%EOF\n"


def make_dossier(key: Ed25519PrivateKey, rows: int = 8, names: bool = True,
                 cover: Callable[[dict[str, Any], str], bytes] = fake_cover) -> bytes:
    out = io.BytesIO()
    write_dossier(out, HEADER, fake_lines(rows, names), key, cover)
    return out.getvalue()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(contents: dict[str, bytes]) -> bytes:
    """A container exactly as the registry writes it, around the given contents."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in contents.items():
            archive.writestr(_zip_info(name), data)
    return out.getvalue()


def tampered(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    contents = members(data)
    contents[name] = change(contents[name])
    return rezip(contents)


def flip(position: int, mask: int = 0x01) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        changed = bytearray(data)
        changed[position % len(changed)] ^= mask
        return bytes(changed)
    return change


def resigned(data: bytes, key: Ed25519PrivateKey, change_manifest: Callable[[dict[str, Any]], None] | None = None
             ) -> bytes:
    """What someone holding ``key`` could make of a dossier: re-signed, with their key embedded."""
    import hashlib
    import json

    from registry.dossier.services import manifest_bytes
    from registry.dossier.verify import cover_message, public_key_fingerprint

    contents = members(data)
    manifest = json.loads(contents["manifest.json"])
    manifest["signing_key"]["sha256"] = public_key_fingerprint(key.public_key())
    if change_manifest:
        change_manifest(manifest)
    contents["manifest.json"] = manifest_bytes(manifest)
    contents["manifest.sig"] = key.sign(contents["manifest.json"])
    contents["cover.sig"] = key.sign(cover_message(hashlib.sha256(contents["manifest.json"]).hexdigest(),
                                                   hashlib.sha256(contents["cover.pdf"]).hexdigest()))
    contents["registry-public-key.pem"] = public_key_pem(key)
    return rezip(contents)
