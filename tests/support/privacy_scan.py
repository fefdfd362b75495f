"""Look for BSNs where they must never be: a database dump, log files, HTTP answers, exports, PDFs.

    from tests.support.privacy_scan import Evidence, assert_no_bsn, database_dump, record_responses

    evidence = Evidence()
    record_responses(app, evidence)                 # every answer of the app: body, headers, session cookie
    ... run a scenario ...
    evidence.add("log", log_file.read_bytes())
    evidence.add("export: dossier", dossier_bytes)  # a PDF is also searched as text (pdftotext)
    for name, content in database_dump(database_url).items():
        evidence.add(name, content)
    assert_no_bsn(evidence, used_bsns)

A BSN is searched as typed (999900183) and in the usual written forms: 999.900.183, 9999.00.183, with
spaces or hyphens, in UTF-8 and UTF-16. The scan reports where and which form, never the surroundings
of another person's number.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.postgres import PostgresUnavailable, _binary

# 3-3-3 is how people type it, 4-2-3 how Dutch documents print it.
GROUPINGS = ((3, 3, 3), (4, 2, 3))
SEPARATORS = (".", " ", "-", "\u00a0")
ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be")
PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def bsn_forms(number: str) -> set[str]:
    """The plain number and its usual written forms."""
    forms = {number}
    for groups in GROUPINGS:
        parts, start = [], 0
        for size in groups:
            parts.append(number[start:start + size])
            start += size
        forms.update(separator.join(parts) for separator in SEPARATORS)
    return forms


@dataclass
class Evidence:
    """Everything to be scanned, by name (``"log"``, ``"database: table declarations"``, ``"GET /…"``)."""

    items: list[tuple[str, bytes]] = field(default_factory=list)

    def add(self, name: str, content: str | bytes) -> None:
        data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
        self.items.append((name, data))
        if data.startswith(b"%PDF"):
            self.items.extend((f"{name} (PDF {kind})", text) for kind, text in pdf_texts(data))

    def take_back(self, name: str) -> bytes:
        """Remove the latest item called ``name`` (to add a vetted version of it instead)."""
        for index in range(len(self.items) - 1, -1, -1):
            if self.items[index][0] == name:
                return self.items.pop(index)[1]
        raise KeyError(name)

    def names(self) -> list[str]:
        return [name for name, _data in self.items]

    def total_bytes(self) -> int:
        return sum(len(data) for _name, data in self.items)


@dataclass(frozen=True)
class Finding:
    where: str
    form: str
    encoding: str

    def __str__(self) -> str:
        return f"{self.where}: a BSN written as {self.form!r} ({self.encoding})"


def scan(evidence: Evidence, bsns: Iterable[str]) -> list[Finding]:
    needles = [(form, encoding, form.encode(encoding)) for number in set(bsns) for form in sorted(bsn_forms(number))
               for encoding in ENCODINGS]
    findings = []
    for where, data in evidence.items:
        for form, encoding, needle in needles:
            if needle in data:
                findings.append(Finding(where, form, encoding))
    return findings


def assert_no_bsn(evidence: Evidence, bsns: Iterable[str]) -> None:
    numbers = sorted(set(bsns))
    assert numbers, "no BSNs to look for"
    assert evidence.items, "nothing to scan"
    findings = scan(evidence, numbers)
    assert not findings, "BSN found:\n" + "\n".join(str(f) for f in findings)


# --- PDFs ----------------------------------------------------------------------------------------------

def pdf_texts(data: bytes) -> list[tuple[str, bytes]]:
    """The text a PDF shows (pdftotext, when poppler-utils is installed) and its inflated streams (fonts
    are subset, so the visible text is in glyph ids there: pdftotext is what reads it)."""
    texts = []
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        result = subprocess.run([pdftotext, "-layout", "-", "-"], input=data, capture_output=True, check=False)
        texts.append(("text", result.stdout))
    inflated = []
    for match in PDF_STREAM.finditer(data):
        try:
            inflated.append(zlib.decompress(match.group(1)))
        except zlib.error:
            inflated.append(match.group(1))
    texts.append(("streams", b"\n".join(inflated)))
    return texts


# --- the database --------------------------------------------------------------------------------------

def database_dump(url: str) -> dict[str, bytes]:
    """Every table, every column, as text; plus the raw files (SQLite) or pg_dump's output (PostgreSQL)."""
    if url.startswith("sqlite"):
        return _sqlite_dump(Path(url.split(":///", 1)[1]))
    return _postgres_dump(url.replace("+psycopg", ""))


def _as_text(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return raw + b" " + raw.hex().encode()
    return str(value).encode("utf-8", "surrogatepass")


def _rows_dump(cursor: Any, tables: list[str]) -> dict[str, bytes]:
    dump = {}
    for table in tables:
        cursor.execute(f'SELECT * FROM "{table}"')  # table names come from the catalogue
        columns = [c[0] for c in cursor.description]
        lines = [b"\t".join(c.encode() for c in columns)]
        lines.extend(b"\t".join(_as_text(v) for v in row) for row in cursor.fetchall())
        dump[f"database: table {table}"] = b"\n".join(lines)
    return dump


def _sqlite_dump(path: Path) -> dict[str, bytes]:
    connection = sqlite3.connect(path)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        tables = [row[0] for row in cursor.fetchall()]
        dump = _rows_dump(cursor, tables)
        dump["database: SQL dump"] = "\n".join(connection.iterdump()).encode("utf-8", "surrogatepass")
    finally:
        connection.close()
    for file in sorted(path.parent.glob(path.name + "*")):  # the file, its -wal and -journal
        dump[f"database file {file.name}"] = file.read_bytes()
    return dump


def _postgres_dump(url: str) -> dict[str, bytes]:
    import psycopg

    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        dump = _rows_dump(cursor, tables)
    try:
        pg_dump = _binary("pg_dump")
    except PostgresUnavailable:
        return dump  # SELECT * of every table above is the whole content
    result = subprocess.run([pg_dump, "--no-owner", url], capture_output=True, check=True)
    dump["database: pg_dump"] = result.stdout
    return dump


# --- HTTP answers --------------------------------------------------------------------------------------

def record_responses(app: Any, evidence: Evidence, skip_prefixes: tuple[str, ...] = ("/mock-idp",)) -> None:
    """Add every answer of ``app`` to ``evidence``: status line, headers, body, and the decoded Flask
    session cookie. The mock issuer is skipped by default: it plays DigiD, whose job is to hand the
    BSN to the registry."""
    from flask import request, request_finished

    serializer = app.session_interface.get_signing_serializer(app)

    def recorded(sender: Any, response: Any, **_extra: Any) -> None:
        if request.path.startswith(skip_prefixes):
            return
        name = f"{request.method} {request.full_path.rstrip('?')} → {response.status_code}"
        body = b"" if response.direct_passthrough else response.get_data()
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items()).encode("utf-8", "surrogatepass")
        evidence.add(f"{name} (headers)", headers)
        evidence.add(name, body)
        for header in response.headers.getlist("Set-Cookie"):
            cookie_name, _, rest = header.partition("=")
            if cookie_name == app.config.get("SESSION_COOKIE_NAME") and serializer is not None:
                value = rest.split(";", 1)[0].strip('"')
                try:
                    evidence.add(f"{name} (session cookie)", repr(serializer.loads(value)))
                except Exception:  # an expired or deleted cookie has nothing to read
                    evidence.add(f"{name} (session cookie, raw)", value)

    request_finished.connect(recorded, app, weak=False)
