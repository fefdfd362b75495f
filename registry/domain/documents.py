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


# Foreign documents (Wet op de identificatieplicht art. 1, with H 4 lid 3): a passport or identity card of
# a member state of the EU or the EEA, or of Switzerland. ISO 3166-1 alpha-2 codes of the issuing state.
DUTCH = "NL"
FOREIGN_ISSUERS = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "PL", "PT", "RO", "SE", "SI", "SK",  # the EU without the Netherlands
    "IS", "LI", "NO",  # the rest of the EEA
    "CH",
})
FOREIGN_TYPES = frozenset({DocumentType.PASSPORT, DocumentType.IDENTITY_CARD})
# Each state numbers its documents its own way; all fit ICAO 9303's letters and digits. Checked for
# plausibility only: what the clerk saw is the check, the number is never stored.
_FOREIGN_NUMBER = re.compile(r"[A-Z0-9]{6,12}")


def parse_country(value: str | None) -> str | None:
    """The issuing state as an ISO 3166 code: NL (also for empty), a foreign state we accept, else None."""
    code = (value or DUTCH).strip().upper()
    return code if code == DUTCH or code in FOREIGN_ISSUERS else None


def parse_document_type(value: str | None) -> DocumentType | None:
    try:
        return DocumentType((value or "").strip().lower())
    except ValueError:
        return None


def document_number_ok(document_type: DocumentType, number: str | None, country: str = DUTCH) -> bool:
    cleaned = re.sub(r"[\s.-]", "", number or "").upper()
    if country != DUTCH:
        return document_type in FOREIGN_TYPES and bool(_FOREIGN_NUMBER.fullmatch(cleaned))
    return bool(_PATTERNS[document_type].fullmatch(cleaned))
