"""Verify a Steunregister dossier (format ``steunregister-dossier/1``).

Needs only the Python standard library and the ``cryptography`` package, so it can be copied alone to
another machine and run there:

    python verify.py DOSSIER.zip [--public-key registry-public-key.pem] [--confirm]
    python -m registry.dossier.verify DOSSIER.zip …          # the same, inside the Steunregister project

Exit status 0: the dossier is intact and from the registry; the summary and the manifest's fingerprint
are printed. Exit status 1: it is not; the first problem found is printed. Exit status 2: it is intact,
but nothing shows who made it: without ``--public-key`` the only key at hand is the one inside the
dossier, and anyone can re-sign a changed dossier with a key of their own. Give the registry's published
key, or ``--confirm``: that asks for two blanked groups of the fingerprint as printed on the paper cover
sheet (as the Kiesraad's own software does), which ties the file to the paper the registry handed over.

What is checked, in order (the format is described in the README, section Dossier):

1. The ZIP container is exactly as the registry writes it: every header field has the registry's
   fixed value or repeats the directory, and the members follow each other without a gap, in the order
   of the directory. So even a changed timestamp or attribute in a header is refused, not only a
   changed file, and (once the manifest is read, step 4) so is a changed order of the members.
2. Every member reads back to exactly its recorded size and CRC-32; none of the fixed members is
   missing.
3. ``manifest.sig`` is a valid Ed25519 signature over the exact bytes of ``manifest.json`` by the key
   (the embedded ``registry-public-key.pem``, which must equal the one given with --public-key), and
   the manifest names that key.
4. Exactly the files the manifest lists are present besides the fixed members; each has the listed
   size and SHA-256, and its deflated bytes the listed SHA-256 (so no bit of the file is unsigned).
5. ``cover.sig`` is a valid signature over the output of ``sha256sum manifest.json cover.pdf`` (the
   cover prints the manifest's fingerprint, so the manifest cannot list the cover).
6. The declaration files hold exactly the number of rows per status that the manifest states.
7. When the manifest names the transparency log (``log.jsonl``): the tree head it carries is signed by
   the log's key; every declaration is a leaf under that head (its audit path verifies, RFC 9162
   §2.1.3.2), every leaf of this list under the head is a declaration of the dossier, and, while the
   salts exist (before I 19), each leaf is the hash of exactly that row. A dropped or added declaration
   is named.

This file imports nothing from the registry, Flask or SQLAlchemy: keep it that way.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import secrets
import struct
import sys
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "steunregister-dossier/1"
MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig"
COVER = "cover.pdf"
COVER_SIG = "cover.sig"
PUBLIC_KEY = "registry-public-key.pem"
DECLARATIONS_CSV = "declarations.csv"
DECLARATIONS_JSON = "declarations.json"
# Members the manifest cannot list: itself, the signatures, the key, and the cover that prints its hash.
UNLISTED = (MANIFEST, MANIFEST_SIG, COVER, COVER_SIG, PUBLIC_KEY)
# The unlisted members are stored, the listed ones deflated. Deflate can write the same content in
# more than one way (another match distance, padding bits), so the manifest also names the SHA-256
# of each listed member's deflated bytes: then every bit of the file is covered by the signature.
STORED_MEMBERS = UNLISTED
CSV_COLUMNS = ("sequence", "declaration_id", "kieskring", "municipality_code", "channel", "signed_at", "recorded_at",
               "attestation", "list_version", "status", "void_reason", "name")
STATUSES = ("valid", "void_multiple", "void_other")

# The container as the builder writes it (registry/dossier/services.py uses these same values).
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the manifest carries the real creation time
ZIP_CREATE_SYSTEM = 3  # Unix
ZIP_VERSION = 20  # 2.0: deflate
ZIP_EXTERNAL_ATTR = 0o100644 << 16  # a regular file, rw-r--r--
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1  # ZIP_DATE_TIME in MS-DOS form
_STORED, _DEFLATED = 0, 8
_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_SAFE_NAME = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
MAX_MEMBERS = 32
MAX_SMALL_MEMBER = 16 * 1024 * 1024  # manifest, signatures and key are read whole; nothing else is
MAX_LINE = 64 * 1024  # characters in one row of the declaration files; a real row is under 2,000
CHUNK = 64 * 1024


UNCONFIRMED = 2  # exit status: intact, but not shown to come from the registry


class DossierInvalid(Exception):
    """The dossier is not intact; the message (Dutch) says why."""


@dataclass
class Member:
    name: str
    method: int  # 0 stored, 8 deflated
    offset: int  # of the local header
    data_offset: int
    compressed_size: int
    size: int
    crc: int


@dataclass
class Report:
    ok: bool
    problem: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    manifest_sha256: str | None = None
    key_fingerprint: str | None = None
    key_source: str = "embedded"  # embedded | given
    log: dict[str, Any] | None = None  # what the transparency-log check found

    @property
    def fingerprint(self) -> str | None:
        return fingerprint_groups(self.manifest_sha256) if self.manifest_sha256 else None


# --- small helpers the builder shares ---------------------------------------------------------------

def fingerprint_groups(hex_digest: str) -> str:
    """A SHA-256 hex digest as 16 groups of 4 lowercase hex digits, single spaces between."""
    return " ".join(hex_digest[i:i + 4] for i in range(0, len(hex_digest), 4))


def public_key_fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the raw 32-byte public key: what the manifest names and the README publishes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def cover_message(manifest_sha256: str, cover_sha256: str) -> bytes:
    """What ``cover.sig`` signs: the output of ``sha256sum manifest.json cover.pdf``."""
    return f"{manifest_sha256}  {MANIFEST}\n{cover_sha256}  {COVER}\n".encode("ascii")


def load_public_key(pem: bytes, what: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise DossierInvalid(f"{what} is geen leesbare PEM-sleutel ({exc.__class__.__name__}).") from None
    if not isinstance(key, Ed25519PublicKey):
        raise DossierInvalid(f"{what} is geen Ed25519-sleutel.")
    return key


# --- the transparency log (RFC 9162 §2.1.3.2 and §2.1.4.2; a copy of registry/domain/merkle.py's) ------

LOG_FILE = "log.jsonl"
HEAD_FORMAT = "steunregister-log-head/1"
LEAF_FORMAT = "steunregister-log-leaf/1"


def leaf_record(declaration_id: int, list_id: int, list_version_hash: str, kieskring: int, recorded_at: str,
                salt_hex: str) -> bytes:
    """The canonical record a leaf hashes: compact JSON, keys sorted, ASCII (docs/transparency.md)."""
    return json.dumps({"declaration": declaration_id, "format": LEAF_FORMAT, "kieskring": kieskring,
                       "list": list_id, "list_version": list_version_hash, "recorded_at": recorded_at,
                       "salt": salt_hex}, sort_keys=True, separators=(",", ":")).encode("ascii")


def leaf_hash(record: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + record).digest()


def head_message(election: str, tree_size: int, root_hex: str, timestamp: str, kind: str) -> bytes:
    """What a tree head's Ed25519 signature signs: six lines of ASCII, each ending in a newline."""
    return (f"{HEAD_FORMAT}\n{election}\n{tree_size}\n{root_hex}\n{timestamp}\n{kind}\n").encode("ascii")


def verify_head(head: dict[str, Any], key: Ed25519PublicKey) -> bool:
    """Is ``head`` (as the API and the dossier give it) signed by ``key``?"""
    try:
        message = head_message(head["election"], int(head["tree_size"]), head["root_hash"], head["timestamp"],
                               head["kind"])
        key.verify(base64.b64decode(head["signature"], validate=True), message)
    except (KeyError, TypeError, ValueError, UnicodeError, InvalidSignature):
        return False
    return True


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root_hash: bytes) -> bool:
    """Does ``path`` prove ``leaf`` is leaf ``index`` of the tree of ``size`` leaves with ``root_hash``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]) -> bool:
    """Is the tree of ``second`` leaves an extension of the tree of ``first`` leaves?"""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# --- reading the container -----------------------------------------------------------------------

def _read_exact(file: BinaryIO, offset: int, length: int) -> bytes:
    file.seek(offset)
    data = file.read(length)
    if len(data) != length:
        raise DossierInvalid("Het ZIP-bestand is afgekapt.")
    return data


def read_members(file: BinaryIO) -> dict[str, Member]:
    """Parse the container strictly; every byte must be accounted for."""
    file.seek(0, io.SEEK_END)
    size = file.tell()
    if size < _END.size:
        raise DossierInvalid("Dit is geen ZIP-bestand (te kort).")
    (sig, disk, cd_disk, entries_here, entries, cd_size, cd_offset, comment_length) = _END.unpack(
        _read_exact(file, size - _END.size, _END.size))
    if sig != _END_SIG:
        raise DossierInvalid("Dit is geen ZIP-bestand zoals het register het maakt (geen eindrecord op de "
                             "verwachte plaats, of er staat iets achter).")
    if (disk, cd_disk, comment_length) != (0, 0, 0) or entries_here != entries:
        raise DossierInvalid("Het eindrecord van de ZIP is gewijzigd.")
    if not 0 < entries <= MAX_MEMBERS or cd_offset + cd_size != size - _END.size:
        raise DossierInvalid("Het eindrecord van de ZIP is gewijzigd (aantal of plaats van de inhoudsopgave).")
    directory = _read_exact(file, cd_offset, cd_size)
    members: dict[str, Member] = {}
    position = 0
    for _ in range(entries):
        if position + _CENTRAL.size > len(directory):
            raise DossierInvalid("De inhoudsopgave van de ZIP is afgekapt.")
        (sig, made_by, needed, flags, method, time_, date_, crc, csize, usize, name_length, extra_length,
         comment_length, disk_start, internal_attr, external_attr, offset) = _CENTRAL.unpack_from(directory, position)
        raw_name = directory[position + _CENTRAL.size:position + _CENTRAL.size + name_length]
        position += _CENTRAL.size + name_length + extra_length + comment_length
        name = raw_name.decode("ascii", "replace")
        fixed = (sig, made_by, needed, flags, time_, date_, extra_length, comment_length, disk_start,
                 internal_attr, external_attr)
        expected = (_CENTRAL_SIG, (ZIP_CREATE_SYSTEM << 8) | ZIP_VERSION, ZIP_VERSION, 0, _DOS_TIME,
                    _DOS_DATE, 0, 0, 0, 0, ZIP_EXTERNAL_ATTR)
        if fixed != expected or method not in (_STORED, _DEFLATED) or (method == _STORED and csize != usize):
            raise DossierInvalid(f"De inhoudsopgave van de ZIP is gewijzigd bij {name!r}.")
        if not raw_name or not set(name) <= _SAFE_NAME or name.startswith("."):
            raise DossierInvalid(f"Ongeldige bestandsnaam in de ZIP: {name!r}.")
        if name in members:
            raise DossierInvalid(f"{name} staat twee keer in de ZIP.")
        members[name] = Member(name, method, offset, offset + _LOCAL.size + name_length, csize, usize, crc)
    if position != len(directory):
        raise DossierInvalid("De inhoudsopgave van de ZIP is gewijzigd (onverwachte bytes).")
    # The local headers must repeat the directory exactly and the members must follow each other
    # without a gap, ending where the directory starts.
    expected_offset = 0
    if list(members.values()) != sorted(members.values(), key=lambda m: m.offset):
        raise DossierInvalid("De ZIP is gewijzigd: de inhoudsopgave noemt de bestanden in een andere volgorde dan "
                             "ze in het bestand staan.")
    for member in members.values():
        if member.offset != expected_offset:
            raise DossierInvalid(f"De ZIP is gewijzigd: onverwachte bytes voor {member.name}.")
        header = _read_exact(file, member.offset, _LOCAL.size + len(member.name))
        local = _LOCAL.unpack_from(header)
        repeated = (_LOCAL_SIG, ZIP_VERSION, 0, member.method, _DOS_TIME, _DOS_DATE, member.crc,
                    member.compressed_size, member.size, len(member.name), 0)
        if local != repeated or header[_LOCAL.size:] != member.name.encode("ascii"):
            raise DossierInvalid(f"De ZIP is gewijzigd: de kop van {member.name} wijkt af van de inhoudsopgave.")
        expected_offset = member.data_offset + member.compressed_size
    if expected_offset != cd_offset:
        raise DossierInvalid("De ZIP is gewijzigd: onverwachte bytes voor de inhoudsopgave.")
    return members


def inflate(file: BinaryIO, member: Member) -> Iterator[bytes]:
    """The member's content in chunks, checked against its size and CRC-32 as it goes."""
    return _stored(file, member) if member.method == _STORED else _deflated(file, member)


def _stored(file: BinaryIO, member: Member) -> Iterator[bytes]:
    remaining, position, crc = member.size, member.data_offset, 0
    while remaining:
        file.seek(position)  # the consumer may have read elsewhere in between
        data = file.read(min(CHUNK, remaining))
        if not data:
            raise DossierInvalid("Het ZIP-bestand is afgekapt.")
        remaining -= len(data)
        position += len(data)
        crc = zlib.crc32(data, crc)
        yield data
    if crc != member.crc:
        raise DossierInvalid(f"{member.name} is beschadigd (CRC-32 klopt niet).")


def _deflated(file: BinaryIO, member: Member) -> Iterator[bytes]:
    decompressor = zlib.decompressobj(-15)
    remaining, position, produced, crc = member.compressed_size, member.data_offset, 0, 0
    damaged = f"{member.name} is beschadigd (de gecomprimeerde gegevens kloppen niet)."
    try:
        while not decompressor.eof:
            pending = b""
            if remaining:
                file.seek(position)  # the consumer may have read elsewhere in between
                pending = file.read(min(CHUNK, remaining))
                if not pending:
                    raise DossierInvalid("Het ZIP-bestand is afgekapt.")
                remaining -= len(pending)
                position += len(pending)
            while True:
                # Bounded output: a changed stream can never make us inflate much more than recorded.
                data = decompressor.decompress(pending, CHUNK)
                pending = decompressor.unconsumed_tail
                produced += len(data)
                if produced > member.size:
                    raise DossierInvalid(f"{member.name} is beschadigd (langer dan vastgelegd).")
                crc = zlib.crc32(data, crc)
                if data:
                    yield data
                if decompressor.eof or (not pending and len(data) < CHUNK):
                    break
            if not remaining and not decompressor.eof and not data:
                raise DossierInvalid(damaged)  # the stream stops before its end
    except zlib.error:
        raise DossierInvalid(damaged) from None
    # The stream must end exactly at the member's last byte: nothing may hide behind it.
    if remaining or decompressor.unused_data or decompressor.unconsumed_tail:
        raise DossierInvalid(damaged)
    if produced != member.size or crc != member.crc:
        raise DossierInvalid(f"{member.name} is beschadigd (lengte of CRC-32 klopt niet).")


def raw_digest(file: BinaryIO, member: Member) -> str:
    """SHA-256 of the member's bytes as stored in the ZIP (for a deflated member: the deflate stream)."""
    digest = hashlib.sha256()
    remaining, position = member.compressed_size, member.data_offset
    while remaining:
        file.seek(position)
        data = file.read(min(CHUNK, remaining))
        if not data:
            raise DossierInvalid("Het ZIP-bestand is afgekapt.")
        digest.update(data)
        remaining -= len(data)
        position += len(data)
    return digest.hexdigest()


def _read_small(file: BinaryIO, member: Member) -> bytes:
    if member.size > MAX_SMALL_MEMBER:
        raise DossierInvalid(f"{member.name} is onverwacht groot.")
    return b"".join(inflate(file, member))


def _digest(file: BinaryIO, member: Member) -> str:
    digest = hashlib.sha256()
    for chunk in inflate(file, member):
        digest.update(chunk)
    return digest.hexdigest()


class _MemberReader(io.RawIOBase):
    """A member as a readable binary stream (for csv and line-by-line JSON)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def _text(file: BinaryIO, member: Member) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedReader(_MemberReader(inflate(file, member))), encoding="utf-8", newline="")


def _lines(text: io.TextIOWrapper, name: str) -> Iterator[str]:
    """The lines of a member, none longer than MAX_LINE: a line is never read whole before it is measured,
    so a small file that inflates to one huge line cannot fill the memory."""
    while line := text.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE:
            raise DossierInvalid(f"{name}: een regel is langer dan {MAX_LINE} tekens; zo schrijft het register "
                                 "geen regels.")
        yield line


# --- the checks --------------------------------------------------------------------------------------

def _verify_signature(key: Ed25519PublicKey, signature: bytes, message: bytes, problem: str) -> None:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        raise DossierInvalid(problem) from None


def _count_json(file: BinaryIO, member: Member) -> dict[str, int]:
    """declarations.json is a JSON array with one object per line: ``[``, the rows, ``]``."""
    counts = dict.fromkeys(STATUSES, 0)
    with _text(file, member) as text:
        lines = _lines(text, member.name)
        if next(lines, None) != "[\n":
            raise DossierInvalid(f"{member.name} begint niet met '['.")
        rows, more, ended = 0, True, False
        for line in lines:
            if line == "]\n":
                ended = True
                break
            if not more or not line.endswith("\n"):
                raise DossierInvalid(f"{member.name}: regel {rows + 2} hoort niet zo (komma of regeleinde).")
            body = line[:-1]
            more = body.endswith(",")
            counts[_status(json.loads(body[:-1] if more else body), member.name)] += 1
            rows += 1
        if not ended or (rows and more) or next(lines, None) is not None:
            raise DossierInvalid(f"{member.name} eindigt niet met ']' na de laatste regel.")
    return counts


def _count_json_rows(file: BinaryIO, member: Member) -> dict[str, int]:
    try:
        return _count_json(file, member)
    except (ValueError, UnicodeError) as exc:
        raise DossierInvalid(f"{member.name} is geen geldige JSON ({exc.__class__.__name__}).") from None


def _status(row: Any, name: str) -> str:
    status = row.get("status") if isinstance(row, dict) else None
    if status not in STATUSES:
        raise DossierInvalid(f"{name}: een regel heeft geen geldige status.")
    return status


def _count_csv(file: BinaryIO, member: Member) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    try:
        with _text(file, member) as text:
            reader = csv.reader(_lines(text, member.name))
            if tuple(next(reader, ())) != CSV_COLUMNS:
                raise DossierInvalid(f"{member.name} heeft niet de verwachte kolommen.")
            status_column = CSV_COLUMNS.index("status")
            for row in reader:
                if len(row) != len(CSV_COLUMNS) or row[status_column] not in counts:
                    raise DossierInvalid(f"{member.name}: regel {reader.line_num} is onvolledig.")
                counts[row[status_column]] += 1
    except (csv.Error, UnicodeError) as exc:
        raise DossierInvalid(f"{member.name} is geen geldige CSV ({exc.__class__.__name__}).") from None
    return counts


def _check(file: BinaryIO, given_key: Ed25519PublicKey | None, report: Report) -> None:
    members = read_members(file)
    for required in UNLISTED:
        if required not in members:
            raise DossierInvalid(f"{required} ontbreekt in het dossier.")
    # Every member inflates cleanly before anything is trusted (changed data fails its CRC here).
    small = {name: _read_small(file, members[name]) for name in (MANIFEST, MANIFEST_SIG, COVER_SIG, PUBLIC_KEY)}
    embedded = load_public_key(small[PUBLIC_KEY], PUBLIC_KEY)
    key = embedded
    if given_key is not None:
        if public_key_fingerprint(given_key) != public_key_fingerprint(embedded):
            raise DossierInvalid(
                "Het dossier is niet ondertekend met de opgegeven sleutel: de sleutel in het dossier heeft "
                f"vingerafdruk {public_key_fingerprint(embedded)}, de opgegeven {public_key_fingerprint(given_key)}.")
        key, report.key_source = given_key, "given"
    report.key_fingerprint = public_key_fingerprint(key)
    _verify_signature(key, small[MANIFEST_SIG], small[MANIFEST],
                      f"De handtekening ({MANIFEST_SIG}) op {MANIFEST} klopt niet: het manifest, de handtekening of "
                      "de sleutel is gewijzigd.")
    report.manifest_sha256 = hashlib.sha256(small[MANIFEST]).hexdigest()
    try:
        manifest = json.loads(small[MANIFEST].decode("utf-8"))
    except (ValueError, UnicodeError):
        raise DossierInvalid(f"{MANIFEST} is geen geldige JSON.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DossierInvalid(f"Onbekend formaat: dit programma controleert {FORMAT}.")
    report.manifest = manifest
    named_key = (manifest.get("signing_key") or {}).get("sha256")
    if named_key != report.key_fingerprint:
        raise DossierInvalid("Het manifest noemt een andere ondertekeningssleutel dan die waarmee het is ondertekend.")
    listed = manifest.get("files")
    if not isinstance(listed, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in listed):
        raise DossierInvalid(f"{MANIFEST} mist de lijst met bestanden.")
    names = [f["name"] for f in listed]
    for name in names:
        if name in UNLISTED or names.count(name) != 1:
            raise DossierInvalid(f"{MANIFEST} noemt {name} ten onrechte.")
        if name not in members:
            raise DossierInvalid(f"{name} ontbreekt in het dossier (het manifest noemt het).")
    for name in members:
        if name not in names and name not in UNLISTED:
            raise DossierInvalid(f"{name} hoort niet in het dossier: het manifest noemt het niet.")
    # The registry writes the listed files in the manifest's order, then the unlisted ones: one byte
    # sequence per dossier, so a reordered ZIP is a changed dossier.
    if list(members) != [*names, *UNLISTED]:
        raise DossierInvalid("De ZIP is gewijzigd: de bestanden staan niet in de volgorde waarin het register ze "
                             f"schrijft ({', '.join([*names, *UNLISTED])}).")
    for member in members.values():
        if member.method != (_STORED if member.name in STORED_MEMBERS else _DEFLATED):
            raise DossierInvalid(f"De ZIP is gewijzigd: {member.name} is anders opgeslagen dan het register doet.")
    for entry in listed:
        member = members[entry["name"]]
        if member.size != entry.get("size") or _digest(file, member) != entry.get("sha256"):
            raise DossierInvalid(f"{member.name} is gewijzigd: de SHA-256 of de grootte wijkt af van het manifest.")
        if (member.compressed_size != entry.get("deflated_size")
                or raw_digest(file, member) != entry.get("deflated_sha256")):
            raise DossierInvalid(f"{member.name} is gewijzigd: de gecomprimeerde bytes wijken af van het manifest.")
    cover_sha256 = _digest(file, members[COVER])
    _verify_signature(key, small[COVER_SIG], cover_message(report.manifest_sha256, cover_sha256),
                      f"De handtekening ({COVER_SIG}) op het voorblad {COVER} klopt niet: het voorblad of de "
                      "handtekening is gewijzigd.")
    stated = (manifest.get("declarations") or {}).get("by_status")
    for name, count in ((DECLARATIONS_JSON, _count_json_rows), (DECLARATIONS_CSV, _count_csv)):
        if name in members and count(file, members[name]) != stated:
            raise DossierInvalid(f"{name} telt andere aantallen per status dan het manifest noemt.")
    if "transparency" in manifest:
        report.log = _check_log(file, members, manifest)


# --- 7. every declaration against the transparency log's signed head ----------------------------------

def _csv_rows(file: BinaryIO, member: Member) -> dict[int, tuple[int, str]]:
    """declaration_id -> (kieskring, recorded_at as in a leaf record)."""
    rows: dict[int, tuple[int, str]] = {}
    columns = {name: CSV_COLUMNS.index(name) for name in ("declaration_id", "kieskring", "recorded_at")}
    try:
        with _text(file, member) as text:
            reader = csv.reader(_lines(text, member.name))
            next(reader, None)
            for row in reader:
                moment = datetime.fromisoformat(row[columns["recorded_at"]]).astimezone(UTC)
                rows[int(row[columns["declaration_id"]])] = (int(row[columns["kieskring"]]),
                                                             moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    except (csv.Error, UnicodeError, ValueError, IndexError) as exc:
        raise DossierInvalid(f"{member.name} is geen geldige CSV ({exc.__class__.__name__}).") from None
    return rows


def _check_log(file: BinaryIO, members: dict[str, Member], manifest: dict[str, Any]) -> dict[str, Any]:
    """Each declaration of the dossier is a leaf of the log under the signed head the dossier carries (for
    the CSB: the head of its I 4 decision), each leaf of this list under that head is a declaration of the
    dossier, and (while the salts exist) each leaf is the hash of exactly that row."""
    stated = manifest["transparency"]
    if not isinstance(stated, dict) or stated.get("file") != LOG_FILE or LOG_FILE not in members:
        raise DossierInvalid(f"Het manifest noemt het logboek, maar {LOG_FILE} ontbreekt.")
    list_id = (manifest.get("list") or {}).get("registry_id")
    with _text(file, members[LOG_FILE]) as text:
        lines = _lines(text, LOG_FILE)
        try:
            header = json.loads(next(lines, "null"))
            leaves = [json.loads(line) for line in lines]
        except ValueError:
            raise DossierInvalid(f"{LOG_FILE} is geen geldige JSON.") from None
    if not isinstance(header, dict) or header.get("head") != stated.get("head"):
        raise DossierInvalid(f"De boomkop in {LOG_FILE} wijkt af van die in het manifest.")
    head = header["head"]
    key = load_public_key(str(header.get("public_key", "")).encode("ascii", "replace"), "De sleutel van het logboek")
    if public_key_fingerprint(key) != head.get("key_id") or not verify_head(head, key):
        raise DossierInvalid("De handtekening op de boomkop van het logboek klopt niet.")
    try:
        size, root = int(head["tree_size"]), bytes.fromhex(head["root_hash"])
    except (KeyError, TypeError, ValueError):
        raise DossierInvalid("De boomkop van het logboek is onvolledig.") from None
    where = f"de boomkop ({head.get('kind')}, {size} verklaringen, {head.get('timestamp')})"
    rows = _csv_rows(file, members[DECLARATIONS_CSV])
    seen: set[int] = set()
    indexes: set[int] = set()
    for leaf in leaves:
        try:
            declaration, index = int(leaf["declaration_id"]), int(leaf["leaf_index"])
            leaf_bytes = bytes.fromhex(leaf["leaf_hash"])
            path = [bytes.fromhex(step) for step in leaf["audit_path"]]
        except (KeyError, TypeError, ValueError):
            raise DossierInvalid(f"{LOG_FILE}: een regel is onvolledig.") from None
        if declaration in seen or index in indexes:
            raise DossierInvalid(f"{LOG_FILE}: verklaring {declaration} of regel {index} staat er twee keer in.")
        seen.add(declaration)
        indexes.add(index)
        if declaration not in rows:
            raise DossierInvalid(f"Verklaring {declaration} staat in het logboek bij deze lijst (regel {index}), "
                                 "maar ontbreekt in het dossier: er is een verklaring weggelaten.")
        if not verify_inclusion(index, size, leaf_bytes, path, root):
            raise DossierInvalid(f"Verklaring {declaration}: het bewijs dat zij in het logboek staat klopt niet "
                                 f"met {where}.")
        if "salt" in leaf:
            kieskring, recorded_at = rows[declaration]
            record = leaf_record(declaration, int(list_id), str(leaf.get("list_version")), kieskring, recorded_at,
                                 str(leaf["salt"]))
            if leaf_hash(record) != leaf_bytes:
                raise DossierInvalid(f"Verklaring {declaration}: de regel in het logboek hoort niet bij deze gegevens "
                                     "(lijst, versie, kieskring of tijdstip van vastleggen is gewijzigd).")
    missing = sorted(set(rows) - seen)
    if missing:
        raise DossierInvalid(f"Verklaring {missing[0]} staat in het dossier, maar niet in het logboek onder {where}"
                             f"{f' (en nog {len(missing) - 1})' if len(missing) > 1 else ''}: er is een "
                             "verklaring toegevoegd.")
    if len(leaves) != stated.get("leaves"):
        raise DossierInvalid(f"{LOG_FILE} telt een ander aantal regels dan het manifest noemt.")
    return {"head": head, "leaves": len(leaves), "salted": all("salt" in leaf for leaf in leaves)}


def verify(source: str | Path | BinaryIO, public_key_pem: bytes | None = None) -> Report:
    """Check a dossier; never raises for a bad dossier (the report says what is wrong)."""
    report = Report(ok=False)
    try:
        given = load_public_key(public_key_pem, "De opgegeven sleutel") if public_key_pem is not None else None
        if isinstance(source, (str, Path)):
            with open(source, "rb") as file:
                _check(file, given, report)
        else:
            _check(source, given, report)
    except DossierInvalid as exc:
        report.problem = str(exc)
        return report
    except OSError as exc:
        report.problem = f"Kan het bestand niet lezen: {exc.strerror or exc}."
        return report
    report.ok = True
    return report


# --- reporting -----------------------------------------------------------------------------------

STATUS_DUTCH = {"meets": "voldoet", "short": "tekort", "exempt": "vrijgesteld (art. H 4 lid 8)",
                "not_submitted": "niet ingeleverd", "unknown": "onbekend"}


def summary(report: Report, trusted: bool = True) -> list[str]:
    """The Dutch summary of an intact dossier; ``trusted``: checked with a key or paper from the registry."""
    manifest = report.manifest
    election = manifest.get("election") or {}
    affiliation = manifest.get("list") or {}
    declarations = manifest.get("declarations") or {}
    by_status = declarations.get("by_status") or {}
    head = manifest.get("audit_chain_head") or {}
    number = affiliation.get("AffiliationIdentifier")
    verdict = "Dossier in orde" if trusted else "Dossier onbeschadigd, maar de afzender is NIET vastgesteld"
    lines = [
        f"{verdict} ({manifest.get('format')}), gemaakt op {manifest.get('created_at')}.",
        f"Verkiezing: {election.get('ElectionIdentifier')} ({election.get('ElectionName')}), "
        f"dag van stemming {election.get('ElectionDate')}.",
        f"Lijst: {number if number is not None else '-'} {affiliation.get('RegisteredName') or 'blanco lijst'}.",
        f"Verklaringen: {declarations.get('rows')} (geldig {by_status.get('valid')}, ongeldig omdat de kiezer meer "
        f"dan één verklaring aflegde {by_status.get('void_multiple')}, ongeldig om een andere reden "
        f"{by_status.get('void_other')}); namen: {'ja' if declarations.get('names_included') else 'nee'}.",
        "Per kieskring:",
    ]
    for row in manifest.get("kieskringen") or []:
        shortage = f", tekort {row.get('shortage')}" if row.get("status") == "short" else ""
        decision = f", beslissing: {row.get('decision')}" if row.get("decision") else ""
        required = row.get("required") if row.get("required") is not None else "-"
        status = STATUS_DUTCH.get(str(row.get("status")), str(row.get("status")))
        lines.append(f"  {row.get('RegionNumber')!s:>3} {row.get('RegionName')}: {row.get('valid')} geldig van "
                     f"{row.get('declarations')}, vereist {required} — {status}{shortage}{decision}")
    lines.append(f"Auditketen: kop {head.get('seq')}:{head.get('hash')}")
    if report.log:
        tree_head = report.log["head"]
        lines.append(f"Logboek: alle {report.log['leaves']} verklaringen van deze lijst zitten in de ondertekende "
                     f"boomkop ({tree_head.get('kind')}, {tree_head.get('tree_size')} verklaringen, "
                     f"{tree_head.get('timestamp')}), wortel {tree_head.get('root_hash')}"
                     + ("" if report.log["salted"] else " (na de vernietiging: zonder controle per regel)") + ".")
    lines.append(f"Sleutel: {report.key_fingerprint}")
    lines.append(f"Vingerafdruk van het manifest: {report.fingerprint}")
    return lines


def choose_blanks() -> tuple[int, int]:
    """Two different group positions (0–15), at random."""
    first, second = sorted(secrets.SystemRandom().sample(range(16), 2))
    return first, second


def confirm_fingerprint(fingerprint: str, ask: Callable[[str], str], say: Callable[[str], None],
                        blanks: tuple[int, int] | None = None) -> bool:
    """Ask for two blanked groups of the fingerprint as printed on the paper cover sheet."""
    groups = fingerprint.split()
    positions = blanks or choose_blanks()
    shown = " ".join("____" if i in positions else group for i, group in enumerate(groups))
    say("Vergelijk met het voorblad op papier. De vingerafdruk van het manifest, met twee groepen weggelaten:")
    say(f"  {shown}")
    for position in positions:
        typed = "".join(ask(f"Typ groep {position + 1} van 16 zoals die op het voorblad staat").split()).lower()
        if typed != groups[position]:
            say(f"Groep {position + 1} klopt niet met dit dossier: dit is niet het dossier van dat voorblad.")
            return False
    say("De vingerafdruk klopt met het voorblad.")
    return True


# --- the monitor: does the log only grow? ------------------------------------------------------------

class MonitorProblem(Exception):
    """The log did something a log must never do; the message (Dutch) says what."""


def _fetch_json(url: str, timeout: float = 10) -> Any:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{url} is geen http(s)-adres")
    request = urllib.request.Request(url, headers={"Accept": "application/json",  # noqa: S310 (checked above)
                                                   "User-Agent": "steunregister-monitor"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read(MAX_SMALL_MEMBER))


def monitor_round(base_url: str, state: dict[str, Any], key: Ed25519PublicKey | None = None,
                  fetch: Callable[[str], Any] = _fetch_json) -> list[str]:
    """One look at the log at ``base_url`` (…/api/v1/elections/<e>/log): every new head is signed by the key
    (the given one, else the one seen first), the last head seen before is still there unchanged, and each
    new head extends the one before it (a consistency proof, RFC 9162 §2.1.4.2), so every head ever seen is
    extended by the newest. The heads come in pages (``next``); a round reads from the last head it saw, so
    its cost is what is new. ``state`` carries what was seen (JSON-serialisable) to the next round: the key
    id, how many heads, and the last one. Returns what is new; raises MonitorProblem."""
    base = base_url.rstrip("/")
    if "heads" in state:  # a state file of the first version kept every head
        old = state.pop("heads")
        state.update(seen=len(old), last=old[-1] if old else None)
    seen, previous = int(state.setdefault("seen", 0)), state.setdefault("last", None)
    position = max(seen - 1, 0)  # the last head seen, to check it is still what it was
    news: list[str] = []
    while True:
        page_start = position
        document = fetch(f"{base}/heads?from={position}")
        published = load_public_key(str(document.get("public_key", "")).encode("ascii", "replace"),
                                    "De sleutel van het logboek")
        key_id = public_key_fingerprint(key or published)
        if public_key_fingerprint(published) != key_id:
            raise MonitorProblem(f"Het logboek publiceert een andere sleutel ({public_key_fingerprint(published)}) "
                                 f"dan de opgegeven ({key_id}).")
        if state.setdefault("key_id", key_id) != key_id:
            raise MonitorProblem(f"De sleutel van het logboek is veranderd: eerst {state['key_id']}, nu {key_id}.")
        heads = document.get("heads") or []
        if int(document.get("total", 0)) < seen:
            raise MonitorProblem(f"Het logboek toont {document.get('total')} boomkoppen; eerder waren het er {seen}: "
                                 "er is een boomkop verdwenen.")
        for offset, head in enumerate(heads):
            if not verify_head(head, published):
                raise MonitorProblem(f"Boomkop {position + offset + 1} ({head.get('tree_size')} verklaringen) is niet "
                                     "ondertekend met de sleutel van het logboek.")
        if position < seen:  # this page starts with the last head seen before
            if not heads or heads[0] != previous:
                raise MonitorProblem("Een boomkop die eerder is gepubliceerd is veranderd of verdwenen.")
            heads = heads[1:]
            position += 1
        for head in heads:
            if previous is not None:
                first, second = int(previous["tree_size"]), int(head["tree_size"])
                if second < first:
                    raise MonitorProblem(f"Het logboek is gekrompen: van {first} naar {second} verklaringen.")
                if head["timestamp"] < previous["timestamp"]:
                    raise MonitorProblem(f"Boomkop {head['timestamp']} is ouder dan de boomkop ervoor.")
                proof = fetch(f"{base}/consistency?first={first}&second={second}")
                path = [bytes.fromhex(step) for step in proof.get("proof", [])]
                if not verify_consistency(first, second, bytes.fromhex(previous["root_hash"]),
                                          bytes.fromhex(head["root_hash"]), path):
                    raise MonitorProblem(f"De boomkop met {second} verklaringen bevat niet de boomkop met {first} "
                                         "verklaringen: er is een verklaring weggehaald of veranderd.")
            news.append(f"{head['timestamp']} {head['kind']}: {head['tree_size']} verklaringen, wortel "
                        f"{head['root_hash']}")
            previous = head
            position += 1
            state.update(seen=position, last=head)
        following = document.get("next")
        if following is None:
            return news
        if int(following) != position or position == page_start:  # a page must end where the next begins
            raise MonitorProblem(f"De bladzijden met boomkoppen sluiten niet op elkaar aan (next {following} na "
                                 f"boomkop {position}).")


def monitor(base_url: str, *, key: Ed25519PublicKey | None = None, state_file: Path | None = None,
            interval: float = 60, rounds: int = 0, say: Callable[[str], None] = print,
            fetch: Callable[[str], Any] = _fetch_json) -> int:
    """Watch the log: a round every ``interval`` seconds (``rounds`` 0: until stopped). 0 when every round
    was in order, 1 at the first problem."""
    state: dict[str, Any] = {}
    if state_file is not None and state_file.exists():
        state = json.loads(state_file.read_text())
    done = 0
    while True:
        try:
            for line in monitor_round(base_url, state, key, fetch):
                say(f"Nieuwe boomkop in orde: {line}")
        except MonitorProblem as exc:
            say(f"LOGBOEK NIET IN ORDE: {exc}")
            return 1
        except (OSError, ValueError, KeyError, TypeError) as exc:
            say(f"Kan het logboek nu niet lezen ({exc.__class__.__name__}: {exc}); volgende ronde opnieuw.")
        if state_file is not None:
            state_file.write_text(json.dumps(state))
        done += 1
        if rounds and done >= rounds:
            return 0
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="verify.py", description="Controleer een dossier van het Steunregister.")
    parser.add_argument("file", metavar="DOSSIER", nargs="?", help="het ZIP-bestand")
    parser.add_argument("--public-key", metavar="PEM", help="de gepubliceerde sleutel van het register")
    parser.add_argument("--confirm", action="store_true",
                        help="vraag daarna twee groepen van de vingerafdruk van het papieren voorblad")
    parser.add_argument("--monitor", metavar="URL",
                        help="bewaak het logboek op URL (…/api/v1/elections/<verkiezing>/log), geen dossier")
    parser.add_argument("--log-key", metavar="PEM", help="--monitor: de gepubliceerde sleutel van het logboek")
    parser.add_argument("--state", metavar="FILE", help="--monitor: onthoud de geziene boomkoppen in dit bestand")
    parser.add_argument("--interval", type=float, default=60, help="--monitor: seconden tussen twee rondes")
    parser.add_argument("--rounds", type=int, default=0, help="--monitor: aantal rondes (0: tot u stopt)")
    args = parser.parse_args(argv)
    if args.monitor:
        log_key = None
        if args.log_key:
            try:
                log_key = load_public_key(Path(args.log_key).read_bytes(), "--log-key")
            except (OSError, DossierInvalid) as exc:
                print(f"Kan de sleutel van het logboek niet gebruiken: {exc}", file=sys.stderr)
                return 1
        return monitor(args.monitor, key=log_key, state_file=Path(args.state) if args.state else None,
                       interval=args.interval, rounds=args.rounds)
    if not args.file:
        parser.error("geef een DOSSIER of --monitor URL")
    pem = None
    if args.public_key:
        try:
            pem = Path(args.public_key).read_bytes()
        except OSError as exc:
            print(f"Kan de sleutel niet lezen: {exc.strerror or exc}", file=sys.stderr)
            return 1
    report = verify(args.file, pem)
    if not report.ok:
        print(f"Dossier NIET in orde: {report.problem}", file=sys.stderr)
        return 1
    # The embedded key proves nothing on its own: whoever changed the dossier can re-sign it with theirs.
    trusted = report.key_source == "given"
    for line in summary(report, trusted=trusted):
        print(line)
    if args.confirm:
        def ask(prompt: str) -> str:
            return input(prompt + ": ")

        try:
            if not confirm_fingerprint(report.fingerprint or "", ask, print):
                return 1
        except (EOFError, KeyboardInterrupt):
            print("\nNiet bevestigd: de groepen van het voorblad zijn niet ingetypt.", file=sys.stderr)
            return 1
        if not trusted:
            print("Dossier in orde: het is het dossier van het papieren voorblad.")
        return 0
    if not trusted:
        print("NIET BEVESTIGD: alleen gecontroleerd met de sleutel die in het dossier zelf zit; daarmee kan ieder "
              "een gewijzigd dossier opnieuw ondertekenen. Geef met --public-key de gepubliceerde sleutel van het "
              "register op, of vergelijk met --confirm de vingerafdruk met het papieren voorblad.", file=sys.stderr)
        return UNCONFIRMED
    return 0


if __name__ == "__main__":
    sys.exit(main())
