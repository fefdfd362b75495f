"""Is a PDF accessible as a document? Tagged (a structure tree), with its language and title, marked as
PDF/UA. ``pdfinfo`` (poppler-utils) reads the title and "Tagged"; the catalog's /Lang, /StructTreeRoot
and /MarkInfo are read from the file itself, whose objects WeasyPrint packs into compressed streams."""

from __future__ import annotations

import re
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PdfTags:
    tagged: bool  # pdfinfo: "Tagged: yes" (the catalog's MarkInfo says Marked true)
    title: str
    language: str | None  # the catalog's /Lang
    structure_tree: bool  # the catalog has a /StructTreeRoot
    pdf_ua: bool  # the XMP metadata claims PDF/UA (pdfuaid:part)


def _objects(data: bytes) -> bytes:
    """Every object's text: the file itself plus each decompressed stream (object streams included)."""
    parts = [data]
    for match in re.finditer(rb"<<(.*?)>>\s*stream\r?\n", data, re.S):
        length = re.search(rb"/Length (\d+)", match.group(1))
        if length is None:
            continue
        raw = data[match.end():match.end() + int(length.group(1))]
        try:
            parts.append(zlib.decompress(raw))
        except zlib.error:
            continue
    return b"\n".join(parts)


def pdf_tags(data: bytes) -> PdfTags:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(data)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    objects = _objects(data)
    language = re.search(rb"/Lang \((\w[\w-]*)\)", objects)
    return PdfTags(
        tagged=fields.get("Tagged", "").strip() == "yes",
        title=fields.get("Title", "").strip(),
        language=language.group(1).decode() if language else None,
        structure_tree=b"/StructTreeRoot" in objects,
        pdf_ua=b"pdfuaid:part" in objects or b"<pdfuaid:part>" in objects,
    )


def pdf_text(data: bytes) -> str:
    """The text of the PDF as pdftotext reads it (poppler-utils), layout kept."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(data)
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
