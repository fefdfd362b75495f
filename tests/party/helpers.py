"""Party-side helpers: declarations recorded the counter's way, EML 210 files, the progress table."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from registry.db import db, utcnow
from registry.declarations.services import DeclarationRequest, record_declaration
from registry.domain import Channel
from registry.people import person_registry
from tests.conftest import EML, bsn
from tests.online.helpers import list_id


def at_counter(case: str, designation: str, paper: bool = False) -> None:
    """A declaration at the Haarlem counter (paper: entered later and kept even when it voids)."""
    record_declaration(db.session, person_registry(), DeclarationRequest(
        election="TK2025", list_id=list_id(designation), channel=Channel.BATCH if paper else Channel.COUNTER,
        bsn=bsn(case), actor="clerk:GM0392:E100", counter_municipality="GM0392", document_type="paspoort",
        document_number="NW4K82PL1", keep_if_duplicate=paper,
        signed_at=utcnow() - timedelta(hours=1) if paper else None))


def nomination_210(designation: str = "Nieuwe Partij", contest: str = "10", election: str = "TK2025") -> bytes:
    """The Kiesraad's EML 210 test nomination, turned into one for TK2025 (kieskring ``contest``)."""
    data = (EML / "eml210_test.eml.xml").read_bytes()
    return (data.replace(b'Id="GR2026_Test"', f'Id="{election}"'.encode())
            .replace(b"<ElectionCategory>GR</ElectionCategory>", b"<ElectionCategory>TK</ElectionCategory>")
            .replace(b"<kr:ElectionSubcategory>GR2</kr:ElectionSubcategory>",
                     b"<kr:ElectionSubcategory>TK</kr:ElectionSubcategory>")
            .replace(b'<kr:ElectionDomain Id="0000">Test</kr:ElectionDomain>', b"")
            .replace(b"2026-03-18", b"2025-10-29").replace(b"2026-02-02", b"2025-09-15")
            .replace(b'<ContestIdentifier Id="geen">', f'<ContestIdentifier Id="{contest}">'.encode())
            .replace(b"<RegisteredName>Test Party</RegisteredName>",
                     f"<RegisteredName>{designation}</RegisteredName>".encode()))


def row(page: str, kieskring: int) -> dict[str, str]:
    """One kieskring's row of the progress table: valid, required and status."""
    match = re.search(rf'data-kieskring="{kieskring}">(.*?)</tr>', page, re.S)
    assert match, f"no row for kieskring {kieskring}"
    cells = match.group(1)
    return {name: re.sub(r"<[^>]+>", "", re.search(rf'<td class="{name}">(.*?)</td>', cells, re.S).group(1)).strip()
            for name in ("valid", "required", "status")}


def version_declarations(page: str, version: int) -> int:
    match = re.search(rf'data-version="{version}">.*?<td class="declarations">(\d+)</td>', page, re.S)
    assert match, f"no row for version {version}"
    return int(match.group(1))


def html(response: Any) -> str:
    return response.get_data(as_text=True)
