"""The printed documents of the counter: model H 4 (ondersteuningsverklaring) as PDF.

Two documents come from one template, ``templates/pdf/model_h4.html``:

* the voter's receipt: model H 4 as filled in for one recorded declaration, with the burgemeester's
  note (H 4 lid 4) or, online, the registry's own BRP check standing in for it;
* the blank, pre-filled form for one list in one kieskring: the paper fallback when the BRP or the
  system is down, and the form parties hand out.

The content is gathered from the database first, as plain values, and only then rendered. Nothing
here ever prints the BSN or the voter_key: neither is passed to the template (rules.md §6).

WeasyPrint renders from a string with no base URL and a URL fetcher that refuses every URL, so a
document can never make the server fetch anything. Rendering needs a Flask app context (templates).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.calendar_utils import dutch_date, dutch_datetime, dutch_time
from registry.declarations.models import Declaration
from registry.domain.documents import DocumentType
from registry.elections.models import CandidateList, District, Election, ListDistrict, ListVersion, Municipality
from registry.privacy.keys import ElectionKeysDestroyed
from registry.privacy.services import election_cipher
from registry.transparency import services as transparency

log = logging.getLogger(__name__)

TEMPLATE = "pdf/model_h4.html"


CHANNEL_LABELS = {
    "counter": "aan de balie van de gemeente",
    "online": "online, met DigiD",
    "batch": "op papier bij de gemeente, daarna ingevoerd",
}

# The body the election elects, for the sentence "verkiezing van de leden van …" (model H 4 heading).
BODIES = {
    "TK": "de Tweede Kamer der Staten-Generaal",
    "EP": "het Europees Parlement",
    "PS": "Provinciale Staten",
    "AB": "het algemeen bestuur van het waterschap",
    "GR": "de gemeenteraad",
    "ER": "de eilandsraad",
}


class DocumentNotFound(LookupError):
    """Unknown declaration or list, or the list is not submitted in that kieskring."""


# --- what the template gets ----------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    position: int
    name: str  # "Dijck, A.P.C. van (Tony)", the way the Kiesraad prints lists
    locality: str


@dataclass(frozen=True)
class ListPart:
    election_identifier: str
    election_name: str
    body: str
    election_date: str
    district_number: int
    district_name: str
    list_number: int | None
    designation: str | None  # None = blanco lijst
    label: str
    version: int
    version_fingerprint: str
    candidates: list[Candidate]


def candidate_name(candidate: dict[str, Any]) -> str:
    initials = (candidate.get("initials") or "").strip()
    prefix = (candidate.get("prefix") or "").strip()
    name = (candidate.get("last_name") or "").strip()
    if initials:
        name = f"{name}, {initials}"
    if prefix:
        name = f"{name} {prefix}"
    first_name = (candidate.get("first_name") or "").strip()
    if first_name:
        name = f"{name} ({first_name})"
    return name


def _fingerprint(hex_digest: str) -> str:
    return " ".join(hex_digest[i:i + 4] for i in range(0, len(hex_digest), 4))


def _list_part(election: Election, district: District, candidate_list: CandidateList,
               version: ListVersion) -> ListPart:
    candidates = [Candidate(int(c.get("position") or index), candidate_name(c), (c.get("locality") or "").strip())
                  for index, c in enumerate(sorted(version.candidates, key=lambda c: int(c.get("position") or 0)),
                                            start=1)]
    return ListPart(
        election_identifier=election.identifier, election_name=election.name,
        body=BODIES.get(election.category, election.name), election_date=dutch_date(election.election_date),
        district_number=district.number, district_name=district.name,
        list_number=candidate_list.number, designation=candidate_list.designation, label=candidate_list.label,
        version=version.version, version_fingerprint=_fingerprint(version.content_hash), candidates=candidates,
    )


def _document_types(checked: str | None) -> list[dict[str, Any]]:
    return [{"label": t.value, "checked": t.value == checked} for t in DocumentType]


def _official(actor: str | None) -> str:
    """``clerk:GM0392:E100`` → ``E100 (GM0392)``; a municipal system keeps its own name."""
    parts = (actor or "").split(":")
    if len(parts) == 3 and parts[0] == "clerk":
        return f"{parts[2]} ({parts[1]})"
    if len(parts) >= 2 and parts[0] == "system":
        return f"systeem {':'.join(parts[1:])}"
    return actor or "onbekend"


def _moment(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo is not None else fallback
    return fallback


# --- gathering -----------------------------------------------------------------------------------

def _receipt_context(session: Session, declaration_id: int) -> dict[str, Any]:
    row = session.get(Declaration, declaration_id) if isinstance(declaration_id, int) else None
    if row is None:
        raise DocumentNotFound(f"verklaring {declaration_id} bestaat niet")
    election = session.get(Election, row.election_id)
    candidate_list = session.get(CandidateList, row.list_id)
    version = session.get(ListVersion, row.list_version_id)
    district = session.get(District, row.district_id)
    if election is None or candidate_list is None or version is None or district is None:
        raise DocumentNotFound(f"verklaring {declaration_id} is onvolledig")
    municipality = session.scalar(select(Municipality).where(Municipality.election_id == election.id,
                                                             Municipality.code == row.municipality_code))
    try:
        cipher = election_cipher(session, election)
    except ElectionKeysDestroyed:
        raise DocumentNotFound(f"de gegevens van {election.identifier} zijn vernietigd (art. I 19)") from None
    name = cipher.decrypt(row.name_ciphertext, "declarant-name") if row.name_ciphertext else None

    attestation = dict(row.attestation or {})
    checked_at = _moment(attestation.get("checked_at"), row.recorded_at)
    if attestation.get("paper"):
        # On paper the official wrote the note when the voter signed; checked_at is when it was entered.
        checked_at = row.signed_at
    municipality_name = attestation.get("municipality_name") or (municipality.name if municipality else None) \
        or row.municipality_code
    note: dict[str, Any]
    if attestation.get("kind") == "registry-brp-check":
        # Only the keys named here reach the template: the attestation is never dumped whole.
        note = {"kind": "brp-check", "date": dutch_datetime(checked_at), "municipality": municipality_name,
                "kieskring": attestation.get("kieskring", district.number),
                "legal_basis": attestation.get("legal_basis") or "niet vastgelegd",
                "assurance": attestation.get("acr")}
    else:
        note = {"kind": "burgemeester", "date": dutch_date(checked_at), "time": dutch_time(checked_at),
                "municipality": municipality_name, "kieskring": attestation.get("kieskring", district.number),
                "official": _official(attestation.get("official")),
                "document_types": _document_types(attestation.get("document_type")),
                "paper": bool(attestation.get("paper"))}
    return {
        "blank": False,
        "list": _list_part(election, district, candidate_list, version),
        "declaration": {
            "receipt_code": row.receipt_code,
            "name": name,
            "municipality": municipality_name,
            "channel": row.channel,
            "channel_label": CHANNEL_LABELS.get(row.channel, row.channel),
            "signed_date": dutch_date(row.signed_at),
            "signed_time": dutch_time(row.signed_at),
            "recorded": dutch_datetime(row.recorded_at),
            "paper": row.channel == "batch",
            "void_for_multiple": row.ordinal > 1,
            "leaf_hash": transparency.declaration_leaf_hash(session, row),
        },
        "note": note,
    }


def _blank_context(session: Session, list_id: int, district_number: int) -> dict[str, Any]:
    candidate_list = session.get(CandidateList, list_id) if isinstance(list_id, int) else None
    if candidate_list is None:
        raise DocumentNotFound(f"lijst {list_id} bestaat niet")
    district = session.scalar(select(District).where(District.election_id == candidate_list.election_id,
                                                     District.number == district_number))
    link = None if district is None else session.get(ListDistrict, (candidate_list.id, district.id))
    if district is None or link is None:
        raise DocumentNotFound(f"{candidate_list.label} is niet ingeleverd in kieskring {district_number}")
    election = session.get(Election, candidate_list.election_id)
    assert election is not None
    return {
        "blank": True,
        "list": _list_part(election, district, candidate_list, link.version),
        "declaration": None,
        "note": {"kind": "burgemeester", "document_types": _document_types(None)},
    }


# --- rendering -----------------------------------------------------------------------------------

def receipt_html(session: Session, declaration_id: int) -> str:
    return render_template(TEMPLATE, **_receipt_context(session, declaration_id))


def blank_h4_html(session: Session, list_id: int, district_number: int) -> str:
    return render_template(TEMPLATE, **_blank_context(session, list_id, district_number))


def receipt_pdf(session: Session, declaration_id: int) -> bytes:
    """The voter's receipt: model H 4 as filled in for this declaration."""
    return html_to_pdf(receipt_html(session, declaration_id))


def blank_h4_pdf(session: Session, list_id: int, district_number: int) -> bytes:
    """A pre-filled, unsigned model H 4 for this list as it now stands in this kieskring."""
    return html_to_pdf(blank_h4_html(session, list_id, district_number))


class FetchRefused(ValueError):
    """A document tried to load a URL; documents are self-contained and fetch nothing."""


def refuse_url(url: str, *_args: Any, **_kwargs: Any) -> Any:
    log.warning("PDF rendering tried to fetch %s: refused", url[:200])
    raise FetchRefused(f"documents fetch nothing (refused {url[:200]})")


def _url_fetcher() -> Any:
    # WeasyPrint ≥ 66 takes a URLFetcher object; older versions a plain function.
    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # pragma: no cover - older WeasyPrint
        return refuse_url

    class RefuseAll(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            return refuse_url(url)

    return RefuseAll()


def html_to_pdf(html: str) -> bytes:
    import weasyprint  # imported here: loading pango takes a moment and most requests never need it

    # PDF/UA-1: tagged (a structure tree a screen reader follows), with the document's language and title.
    return weasyprint.HTML(string=html, base_url=None, url_fetcher=_url_fetcher()).write_pdf(pdf_variant="pdf/ua-1")
