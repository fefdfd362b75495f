"""Build the signed dossier of one list (format ``steunregister-dossier/1``; verifier in verify.py).

The ZIP holds, all deflated:

* ``declarations.csv`` and ``declarations.json``: one row per declaration (JSON: an array with one
  object per line), with the declarant's name while it still exists (the dossier is for the CSB);
* ``manifest.json``: the EML_NL identifiers, the counts and status per kieskring, the list versions'
  hashes, the audit chain head, the signing key's fingerprint and the SHA-256 and size of the
  declaration files;
* ``cover.pdf``: the cover sheet, printing the manifest's SHA-256 as 16 groups of 4 hex digits;
* ``manifest.sig`` (Ed25519 over the manifest's exact bytes), ``cover.sig`` (Ed25519 over the text
  ``sha256sum manifest.json cover.pdf`` prints; the cover cannot be listed in the manifest whose hash
  it prints) and ``registry-public-key.pem``.

Building streams: rows go from the database cursor (yield_per) straight into the ZIP entry (CSV) and
a temporary file (JSON, copied in afterwards), hashed as they are written; nothing holds all rows.
The signing key never touches the database: it is derived from the master key, or read from
STEUNREGISTER_DOSSIER_SIGNING_KEY_FILE.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.audit import services as audit
from registry.calendar_utils import dutch_date, dutch_datetime
from registry.csb.services import declaration_lines, examine, phase_of, sessions
from registry.db import begin_write, utcnow
from registry.documents.services import html_to_pdf
from registry.dossier.verify import (
    COVER,
    COVER_SIG,
    CSV_COLUMNS,
    DECLARATIONS_CSV,
    DECLARATIONS_JSON,
    FORMAT,
    LOG_FILE,
    MANIFEST,
    MANIFEST_SIG,
    PUBLIC_KEY,
    STATUSES,
    STORED_MEMBERS,
    ZIP_CREATE_SYSTEM,
    ZIP_DATE_TIME,
    ZIP_EXTERNAL_ATTR,
    cover_message,
    fingerprint_groups,
    public_key_fingerprint,
)
from registry.elections.models import CandidateList, Election
from registry.privacy.models import ElectionKeys
from registry.signing import SigningKeyError as SigningKeyError  # re-exported: the routes catch it
from registry.signing import ed25519_key, public_key_pem
from registry.transparency import services as transparency

SIGNING_PURPOSE = "dossier-signing v1"
COVER_TEMPLATE = "pdf/dossier_cover.html"
PROGRESS_EVERY = 1000
FLUSH_AT = 256 * 1024  # characters buffered before they are encoded, hashed and written
LOCAL_HEADER_SIZE = 30  # a ZIP local file header without name and extra field


class DossierNotFound(LookupError):
    """Unknown election (``what == "election"``), or no such list in it (``"list"``)."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what


class Line(Protocol):
    """One declaration row (registry.csb.services.DeclarationLine has this shape)."""

    def as_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DossierBuilt:
    manifest_sha256: str
    rows: int
    size: int
    filename: str

    @property
    def fingerprint(self) -> str:
        return fingerprint_groups(self.manifest_sha256)


# --- the signing key -----------------------------------------------------------------------------------

def signing_key() -> Ed25519PrivateKey:
    """The registry's dossier key: from STEUNREGISTER_DOSSIER_SIGNING_KEY_FILE, else derived from the master key."""
    return ed25519_key("DOSSIER_SIGNING_KEY_FILE", SIGNING_PURPOSE)


# --- the ZIP writer (no database) -------------------------------------------------------------------

def _zip_info(name: str) -> zipfile.ZipInfo:
    # Fixed metadata: the verifier refuses any other value, so no header byte can change unnoticed.
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_STORED if name in STORED_MEMBERS else zipfile.ZIP_DEFLATED
    info.create_system = ZIP_CREATE_SYSTEM
    info.external_attr = ZIP_EXTERNAL_ATTR
    return info


class _HashingSink:
    """Text in, UTF-8 out to ``target``, counted and hashed on the way; buffered to keep writes large."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0
        self._buffer: list[str] = []
        self._buffered = 0

    def write(self, text: str) -> int:
        self._buffer.append(text)
        self._buffered += len(text)
        if self._buffered >= FLUSH_AT:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if not self._buffer:
            return
        data = "".join(self._buffer).encode("utf-8")
        self._buffer, self._buffered = [], 0
        self.digest.update(data)
        self.size += len(data)
        self.target.write(data)

    def entry(self, name: str) -> dict[str, Any]:
        self.flush()
        return {"name": name, "size": self.size, "sha256": self.digest.hexdigest()}


def _deflated_digest(out: BinaryIO, info: zipfile.ZipInfo) -> dict[str, Any]:
    """Size and SHA-256 of a member's deflate stream as it lies in ``out`` (read back; ``out`` is w+b)."""
    position = out.tell()
    digest = hashlib.sha256()
    out.seek(info.header_offset + LOCAL_HEADER_SIZE + len(info.filename))
    remaining = info.compress_size
    while remaining:
        chunk = out.read(min(1024 * 1024, remaining))
        if not chunk:
            raise OSError("the dossier file could not be read back")
        digest.update(chunk)
        remaining -= len(chunk)
    out.seek(position)
    return {"deflated_size": info.compress_size, "deflated_sha256": digest.hexdigest()}


# One encoder each, made once: json.dumps would build a new one for every row.
_encode_row = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_encode_value = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict):
        return _encode_value(value)
    return value


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_dossier(out: BinaryIO, header: dict[str, Any], lines: Iterable[Line | dict[str, Any]],
                  key: Ed25519PrivateKey, render_cover: Callable[[dict[str, Any], str], bytes],
                  progress: Callable[[int], None] | None = None, log: dict[str, Any] | None = None) -> DossierBuilt:
    """Write the dossier ZIP to ``out`` (seekable and readable, e.g. opened w+b). ``header`` is the
    manifest without the parts this function adds (format, declarations, signing_key, cover, files).
    ``log`` (registry.transparency.services.dossier_log): the signed tree head and each declaration's
    leaf and audit path, written as log.jsonl (a header line, then one leaf per line)."""
    by_status = dict.fromkeys(STATUSES, 0)
    by_kieskring: dict[str, dict[str, int]] = {}
    rows = named = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive, \
            tempfile.TemporaryFile(prefix="dossier-json-") as spool:
        json_sink = _HashingSink(spool)  # type: ignore[arg-type]
        json_sink.write("[\n")
        csv_info, json_info = _zip_info(DECLARATIONS_CSV), _zip_info(DECLARATIONS_JSON)
        with archive.open(csv_info, "w") as entry:
            csv_sink = _HashingSink(entry)  # type: ignore[arg-type]
            writer = csv.writer(csv_sink, lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS)
            for line in lines:
                row = line if isinstance(line, dict) else line.as_dict()
                values = [row.get(column) for column in CSV_COLUMNS]
                writer.writerow([_csv_value(value) for value in values])
                encoded = _encode_row(dict(zip(CSV_COLUMNS, values, strict=True)))
                json_sink.write(",\n" + encoded if rows else encoded)
                rows += 1
                named += row.get("name") is not None
                by_status[row["status"]] += 1
                counts = by_kieskring.setdefault(str(row["kieskring"]), dict.fromkeys(STATUSES, 0))
                counts[row["status"]] += 1
                if progress and rows % PROGRESS_EVERY == 0:
                    progress(rows)
            csv_file = csv_sink.entry(DECLARATIONS_CSV)
        json_sink.write("\n]\n" if rows else "]\n")
        json_file = json_sink.entry(DECLARATIONS_JSON)
        spool.seek(0)
        with archive.open(json_info, "w") as entry:
            shutil.copyfileobj(spool, entry, 1024 * 1024)
        csv_file.update(_deflated_digest(out, csv_info))
        json_file.update(_deflated_digest(out, json_info))
        files = [csv_file, json_file]
        leaves = 0
        if log is not None:
            log_file, leaves = _write_log(archive, out, log)
            files.append(log_file)
        if progress:
            progress(rows)

        manifest = {
            "format": FORMAT,
            **header,
            "declarations": {
                "rows": rows, "by_status": by_status, "by_kieskring": by_kieskring,
                "rows_with_name": named, "names_included": named > 0,
                "columns": list(CSV_COLUMNS),
                "csv": "RFC 4180, UTF-8, comma, CRLF, a header row; attestation as compact JSON",
                "json": "a JSON array, one object per line",
            },
            "signing_key": {"algorithm": "Ed25519", "sha256": public_key_fingerprint(key.public_key()),
                            "file": PUBLIC_KEY},
            "cover": {"file": COVER, "signature": COVER_SIG,
                      "signed": f"the output of: sha256sum {MANIFEST} {COVER}"},
            "files": files,
        }
        if log is not None:
            manifest["transparency"] = {"file": LOG_FILE, "head": log["head"], "key_id": log["key_id"],
                                        "leaves": leaves}
        data = manifest_bytes(manifest)
        digest = hashlib.sha256(data).hexdigest()
        cover = render_cover(manifest, fingerprint_groups(digest))
        archive.writestr(_zip_info(MANIFEST), data)
        archive.writestr(_zip_info(MANIFEST_SIG), key.sign(data))
        archive.writestr(_zip_info(COVER), cover)
        archive.writestr(_zip_info(COVER_SIG), key.sign(cover_message(digest, hashlib.sha256(cover).hexdigest())))
        archive.writestr(_zip_info(PUBLIC_KEY), public_key_pem(key))
    out.flush()
    return DossierBuilt(digest, rows, out.tell(), "")


def _write_log(archive: zipfile.ZipFile, out: BinaryIO, log: dict[str, Any]) -> tuple[dict[str, Any], int]:
    info = _zip_info(LOG_FILE)
    with archive.open(info, "w") as entry:
        sink = _HashingSink(entry)  # type: ignore[arg-type]
        sink.write(_encode_value({name: value for name, value in log.items() if name != "leaves"}) + "\n")
        leaves = 0
        for leaf in log["leaves"]:
            sink.write(_encode_value(leaf) + "\n")
            leaves += 1
        written = sink.entry(LOG_FILE)
    written.update(_deflated_digest(out, info))
    return written, leaves


# --- from the database ------------------------------------------------------------------------------

def find_list(session: Session, election: str, list_ref: int, by_number: bool = False) -> tuple[Election,
                                                                                                 CandidateList]:
    found = session.scalar(select(Election).where(Election.identifier == election))
    if found is None:
        raise DossierNotFound("election", f"Verkiezing {election} bestaat niet.")
    column = CandidateList.number if by_number else CandidateList.id
    candidate_list = session.scalar(select(CandidateList).where(CandidateList.election_id == found.id,
                                                                column == list_ref))
    if candidate_list is None:
        what = "lijstnummer" if by_number else "lijst (id)"
        raise DossierNotFound("list", f"Verkiezing {election} heeft geen {what} {list_ref}.")
    return found, candidate_list


def filename(election: Election, candidate_list: CandidateList) -> str:
    which = candidate_list.number if candidate_list.number is not None else f"id{candidate_list.id}"
    return f"dossier-{election.identifier}-lijst-{which}.zip"


def manifest_header(session: Session, election: Election, candidate_list: CandidateList,
                    now: datetime) -> dict[str, Any]:
    """Everything the manifest says about the election, the list and the examination."""
    examination = examine(session, election)
    seq, head_hash = audit.head(session)
    kieskringen = [{
        "RegionNumber": row.kieskring, "RegionName": row.district_name, "required": row.required,
        "declarations": row.declarations, "valid": row.valid, "void_multiple": row.void_multiple,
        "void_other": row.void_other, "status": row.status, "shortage": row.shortage, "decision": row.decision,
        "list_version": ({"version": row.version, "content_hash": row.version_hash}
                         if row.version is not None else None),
    } for row in examination.rows_for(candidate_list.id) if row.submitted or row.declarations]
    return {
        "created_at": now.isoformat(),
        "generator": "Steunregister",
        "election": {
            "ElectionIdentifier": election.identifier, "ElectionName": election.name,
            "ElectionCategory": election.category, "ElectionSubcategory": election.subcategory,
            "ElectionDomain": ({"Id": election.domain_id, "Name": election.domain_name}
                               if election.domain_id or election.domain_name else None),
            "ElectionDate": election.election_date.isoformat(),
            "NominationDate": election.nomination_date.isoformat(),
        },
        "list": {
            "AffiliationIdentifier": candidate_list.number, "RegisteredName": candidate_list.designation,
            "label": candidate_list.label, "registry_id": candidate_list.id, "exempt": candidate_list.exempt,
            "exempt_basis": candidate_list.exempt_basis,
        },
        "examination": {
            "phase": phase_of(sessions(session, election)).value,
            "frozen": examination.frozen,  # True: the numbers of the I 4 decision
            "computed_at": examination.computed_at.isoformat(),
            "audit_head": ({"seq": examination.audit_seq, "hash": examination.audit_hash}
                           if examination.audit_seq else None),
        },
        "kieskringen": kieskringen,
        "audit_chain_head": {"seq": seq, "hash": head_hash},
    }


def render_cover(manifest: dict[str, Any], fingerprint: str) -> bytes:
    created = datetime.fromisoformat(manifest["created_at"])
    election = manifest["election"]
    html = render_template(
        COVER_TEMPLATE, manifest=manifest, fingerprint_rows=_fingerprint_rows(fingerprint),
        created=dutch_datetime(created), election_date=dutch_date(datetime.fromisoformat(election["ElectionDate"])),
        key_fingerprint=fingerprint_groups(manifest["signing_key"]["sha256"]))
    return html_to_pdf(html)


def _fingerprint_rows(fingerprint: str) -> list[list[tuple[int, str]]]:
    """Four rows of four numbered groups, so a group can be found by its number."""
    groups = list(enumerate(fingerprint.split(), start=1))
    return [groups[i:i + 4] for i in range(0, len(groups), 4)]


def _read_snapshot(session: Session) -> None:
    # One snapshot for the counts and the rows: on PostgreSQL a repeatable-read transaction; SQLite's
    # BEGIN (WAL) already reads one snapshot for the whole transaction.
    session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def build_dossier(session: Session, election: str, list_ref: int, out: BinaryIO, *, actor: str,
                  by_number: bool = False, progress: Callable[[int], None] | None = None,
                  now: datetime | None = None) -> DossierBuilt:
    """Build the dossier of one list into ``out`` and record in the audit chain that it was issued
    (it holds names: who took one is a fact worth keeping)."""
    now = now or utcnow()
    key = signing_key()
    found, _list = find_list(session, election, list_ref, by_number)
    if session.get(ElectionKeys, found.id) is not None:
        transparency.seal(session, found, sweep=True)  # every declaration in the log before its rows are read
    _read_snapshot(session)
    try:
        found, candidate_list = find_list(session, election, list_ref, by_number)
        header = manifest_header(session, found, candidate_list, now)
        lines = declaration_lines(session, found, candidate_list.id, with_names=True)
        log = transparency.dossier_log(session, found, candidate_list.id)
        built = write_dossier(out, header, lines, key, render_cover, progress, log)
        name = filename(found, candidate_list)
        list_id, identifier = candidate_list.id, found.identifier
    finally:
        session.rollback()
    begin_write(session)
    try:
        audit.append(session, actor=actor, action="dossier.issued", election=identifier,
                     subject=f"list:{list_id}",
                     payload={"manifest_sha256": built.manifest_sha256, "rows": built.rows,
                              "audit_head": [header["audit_chain_head"]["seq"], header["audit_chain_head"]["hash"]]})
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return DossierBuilt(built.manifest_sha256, built.rows, built.size, name)
