"""Identity documents a counter official may accept (H 4 lid 3: "na overlegging van een geldig
identiteitsbewijs"). Only the type is recorded; the number is checked for shape and then forgotten."""

from __future__ import annotations

import re
from enum import StrEnum


class DocumentType(StrEnum):
    PASSPORT = "paspoort"
    IDENTITY_CARD = "identiteitskaart"
    DRIVING_LICENCE = "rijbewijs"
    RESIDENCE_DOCUMENT = "verblijfsdocument"


# Dutch passports and identity cards: 9 characters, two letters, six letters/digits, one digit, never
# the letter O (Rijksdienst voor Identiteitsgegevens). Driving licence: 10 digits. Residence
# document: one letter followed by 8 letters/digits. Lower case and spaces are tolerated on input.
_PATTERNS = {
    DocumentType.PASSPORT: re.compile(r"[A-NP-Z]{2}[A-NP-Z0-9]{6}[0-9]"),
    DocumentType.IDENTITY_CARD: re.compile(r"[A-NP-Z]{2}[A-NP-Z0-9]{6}[0-9]"),
    DocumentType.DRIVING_LICENCE: re.compile(r"[0-9]{10}"),
    DocumentType.RESIDENCE_DOCUMENT: re.compile(r"[A-Z][A-Z0-9]{8}"),
}


def parse_document_type(value: str | None) -> DocumentType | None:
    try:
        return DocumentType((value or "").strip().lower())
    except ValueError:
        return None


def document_number_ok(document_type: DocumentType, number: str | None) -> bool:
    cleaned = re.sub(r"[\s.-]", "", number or "").upper()
    return bool(_PATTERNS[document_type].fullmatch(cleaned))
