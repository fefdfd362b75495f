"""Model H 4 as PDF: the voter's receipt and the blank, pre-filled paper form.

The content is checked on the HTML the PDF is rendered from (always), and on the PDF's own text when
pdftotext (poppler-utils) is on the machine. The PDFs themselves are checked for shape and for the
absence of the BSN and the voter_key.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from registry.calendar_utils import dutch_time
from registry.db import db
from registry.declarations.models import Declaration
from registry.declarations.services import DeclarationRecorded, DeclarationRequest, record_declaration
from registry.documents import (
    DocumentNotFound,
    blank_h4_html,
    blank_h4_pdf,
    dutch_date,
    receipt_html,
    receipt_pdf,
)
from registry.documents.services import html_to_pdf
from registry.domain import Channel
from registry.elections import services as elections
from registry.elections.models import CandidateList, ListDistrict
from registry.elections.services import import_file
from registry.people import person_registry
from tests.conftest import AMS, EML, TK2025_OPEN, bsn

PVV_FIRST = ["Wilders, G. (Geert)", "Stöteler, T.S.M. (Sebastiaan)", "Schilder, J.M.M. (Shanna)"]
VOLT_FIRST = ["Dassen, L.A.J.M. (Laurens)", "Koekkoek, M. (Marieke)", "Boer, R.W. de (Rens)"]


def list_id(number: int) -> int:
    return db.session.scalar(select(CandidateList.id).where(CandidateList.number == number))


def record_counter(case: str, list_number: int = 1, **extra) -> DeclarationRecorded:
    request = DeclarationRequest(
        election="TK2025", list_id=list_id(list_number), channel=Channel.COUNTER, bsn=bsn(case),
        actor="clerk:GM0392:E100", counter_municipality="GM0392", document_type="paspoort",
        document_number="NW4K82PL1", **extra)
    return record_declaration(db.session, person_registry(), request, now=TK2025_OPEN)


def record_online(case: str, list_number: int) -> DeclarationRecorded:
    elections.update_settings(db.session, "TK2025", "test", online_open=True, online_legal_basis="Experiment")
    request = DeclarationRequest(election="TK2025", list_id=list_id(list_number), channel=Channel.ONLINE,
                                 bsn=bsn(case), actor="voter:test", attestation_extra={"acr": "substantieel"})
    return record_declaration(db.session, person_registry(), request, now=TK2025_OPEN)


def text_of(html: str) -> str:
    """The visible text of the rendered HTML, whitespace collapsed (tags and styles dropped)."""
    body = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body).replace("&nbsp;", " ").replace("&#39;", "'").replace("&amp;", "&")
    return re.sub(r"\s+", " ", body)


def in_order(text: str, parts: list[str]) -> bool:
    positions = [text.find(part) for part in parts]
    return -1 not in positions and positions == sorted(positions)


def assert_pdf(data: bytes, *absent: str) -> None:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(data) > 5_000  # fonts and pages, not an empty shell
    for secret in absent:
        assert secret.encode() not in data


def page_count(html: str) -> int:
    import weasyprint

    return len(weasyprint.HTML(string=html, base_url=None).render().pages)


def test_dutch_dates_and_times_do_not_depend_on_the_locale():
    assert dutch_date(date(2025, 9, 10)) == "10 september 2025"
    assert dutch_date(date(2026, 3, 1)) == "1 maart 2026"
    # 22:30 UTC on 14 September is already 15 September in Amsterdam (summer time, UTC+2)
    assert dutch_date(datetime(2025, 9, 14, 22, 30, tzinfo=UTC)) == "15 september 2025"
    assert dutch_time(datetime(2025, 9, 10, 10, 5, tzinfo=UTC)) == "12.05 uur"
    assert dutch_time(datetime(2025, 12, 1, 16, 0, tzinfo=AMS)) == "16.00 uur"


def test_H4_receipt_of_a_counter_declaration_is_model_h4_as_filled_in(session, tk2025):
    recorded = record_counter("voter_haarlem_1", 1)
    row = session.get(Declaration, recorded.id)
    html = receipt_html(session, recorded.id)
    text = text_of(html)

    assert "Ondersteuningsverklaring" in text and "Model H 4" in text
    assert "Tweede Kamer der Staten-Generaal 2025 (TK2025)" in text and "29 oktober 2025" in text
    assert "Kieskring 10 Haarlem" in text
    assert "Lijst 1: PVV (Partij voor de Vrijheid)" in text
    assert in_order(text, PVV_FIRST)
    assert recorded.receipt_code in text
    assert "Naam Anne-Marie Brouwer-de Jong" in text
    assert "Gemeente Haarlem" in text and "10 september 2025, 12.00 uur" in text
    # the burgemeester's note (H 4 lid 4), filled in from the attestation
    assert "De burgemeester van de gemeente Haarlem verklaart" in text
    assert "E100 (GM0392)" in text
    assert "☒ paspoort" in text and "☐ identiteitskaart" in text and "☒ rijbewijs" not in text
    # the legal warnings
    assert "H 4 lid 5" in text and "H 4 lid 6" in text and "I 3" in text
    # never the BSN or the pseudonym
    assert bsn("voter_haarlem_1") not in html and row.voter_key not in html

    data = receipt_pdf(session, recorded.id)
    assert_pdf(data, bsn("voter_haarlem_1"), row.voter_key)
    assert page_count(html) >= 2  # 80 PVV candidates: the list takes a page of its own


def test_receipt_of_an_online_declaration_shows_the_registrys_brp_check(session, tk2025):
    recorded = record_online("voter_haarlem_2", 14)
    html = receipt_html(session, recorded.id)
    text = text_of(html)

    assert "Lijst 14: Volt" in text and in_order(text, VOLT_FIRST)
    assert "Kieskring 10 Haarlem" in text and recorded.receipt_code in text
    assert "Bram van Dijk" in text and "online, met DigiD" in text
    assert "Controle in de BRP door het Steunregister" in text
    assert "Wettelijke grondslag Experiment" in text and "betrouwbaarheidsniveau substantieel" in text
    assert "verklaring van de burgemeester van de gemeente" not in text.lower()
    assert "voter:test" not in html  # the login subject is not the receipt's business
    assert bsn("voter_haarlem_2") not in html
    assert_pdf(receipt_pdf(session, recorded.id), bsn("voter_haarlem_2"))


def test_H4_lid1_receipt_shows_the_version_signed_not_the_version_that_stands_now(session, tk2025):
    recorded = record_counter("voter_haarlem_1", 1)
    changed = (EML / "Kandidatenlijsten_TK2025_Haarlem.eml.xml").read_bytes().replace(
        b"<xnl:LastName>Wilders</xnl:LastName>", b"<xnl:LastName>Wildersen</xnl:LastName>", 1)
    # Changed while lists could still change: before nomination day 17:00.
    import_file(session, changed, "Kandidatenlijsten_TK2025_Haarlem_v2.eml.xml", "test", now=TK2025_OPEN)
    session.commit()

    receipt = text_of(receipt_html(session, recorded.id))
    assert "Wilders, G. (Geert)" in receipt and "Wildersen" not in receipt and "lijstversie 1" in receipt
    blank = text_of(blank_h4_html(session, list_id(1), 10))
    assert "Wildersen, G. (Geert)" in blank and "lijstversie 2" in blank


def test_I2_receipt_of_a_kept_second_declaration_says_none_counts(session, tk2025):
    first = record_counter("voter_haarlem_1", 4)
    request = DeclarationRequest(
        election="TK2025", list_id=list_id(5), channel=Channel.BATCH, bsn=bsn("voter_haarlem_1"),
        actor="system:gm0392-backoffice", counter_municipality="GM0392", document_type="identiteitskaart",
        document_number="NW4K82PL1", signed_at=datetime(2025, 9, 9, 10, 0, tzinfo=AMS), keep_if_duplicate=True)
    kept = record_declaration(session, person_registry(), request, now=TK2025_OPEN)
    text = text_of(receipt_html(session, kept.id))
    assert "geen enkele ervan mee" in text
    assert "op papier bij de gemeente" in text and "Datum 9 september 2025, 10.00 uur" in text
    assert "Ingevoerd 10 september 2025, 12.00 uur" in text
    assert "☒ identiteitskaart" in text and "systeem gm0392-backoffice" in text
    first_list = session.get(CandidateList, first.list_id)
    assert first_list.designation not in text  # nothing about the first declaration's list


def test_blank_h4_is_pre_filled_for_the_list_in_that_kieskring_with_empty_fields(session, tk2025):
    html = blank_h4_html(session, list_id(14), 10)
    text = text_of(html)
    assert "Lijst 14: Volt" in text and "Kieskring 10 Haarlem" in text and "kieskring 10 (Haarlem)" in text
    assert in_order(text, VOLT_FIRST)
    assert "Formulier voor de kiezer" in text and "Ontvangstcode" not in text
    # empty fields: the label followed by nothing but an empty line
    for label in ("Naam en voorletters", "Adres", "Postcode en woonplaats", "Datum", "Handtekening",
                  "Naam ambtenaar", "Handtekening en stempel"):
        assert re.search(rf'<span class="label[^"]*">{label}</span>\s*<span class="line"></span>', html), label
    assert "☒" not in text and text.count("☐") == 4  # no identity document ticked yet
    assert "H 4 lid 5" in text and "H 4 lid 6" in text and "I 3" in text
    data = blank_h4_pdf(session, list_id(14), 10)
    assert_pdf(data)


def test_blank_h4_of_a_blanco_list_says_so(session, tk2025):
    blanco = CandidateList(election_id=tk2025.id, number=None, designation=None)
    session.add(blanco)
    session.flush()
    link = session.get(CandidateList, list_id(14)).submissions[0]
    session.add(ListDistrict(list_id=blanco.id, district_id=link.district_id, version_id=link.version_id))
    session.commit()
    text = text_of(blank_h4_html(session, blanco.id, 10))
    assert "blanco lijst" in text and "zonder aanduiding" in text


def test_documents_not_found(session, tk2025):
    with pytest.raises(DocumentNotFound):
        blank_h4_pdf(session, list_id(1), 9)  # the Haarlem lists are only submitted in kieskring 10
    with pytest.raises(DocumentNotFound):
        blank_h4_html(session, list_id(1), 99)
    with pytest.raises(DocumentNotFound):
        blank_h4_html(session, 999_999, 10)
    with pytest.raises(DocumentNotFound):
        receipt_pdf(session, 999_999)
    assert issubclass(DocumentNotFound, LookupError)


def test_rendering_fetches_nothing(app, caplog):
    html = ('<html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css"></head>'
            '<body><p>x</p><img src="file:///etc/passwd"><img src="http://127.0.0.1:9/y.png"></body></html>')
    with caplog.at_level("WARNING", logger="registry.documents"):
        data = html_to_pdf(html)
    assert data.startswith(b"%PDF-")
    refused = [r.getMessage() for r in caplog.records if r.name == "registry.documents.services"]
    assert any("127.0.0.1:9/x.css" in m for m in refused) and any("/etc/passwd" in m for m in refused)
    assert all("refused" in m for m in refused)


PDFTOTEXT = shutil.which("pdftotext")


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
def test_the_pdf_text_itself_carries_the_receipt(session, tk2025, tmp_path):
    recorded = record_counter("voter_haarlem_1", 1)
    path = tmp_path / "receipt.pdf"
    path.write_bytes(receipt_pdf(session, recorded.id))
    assert PDFTOTEXT is not None
    text = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    assert recorded.receipt_code in flat and "Anne-Marie Brouwer-de Jong" in flat
    assert "10 Haarlem" in flat and "PVV (Partij voor de Vrijheid)" in flat
    assert in_order(flat, ["Wilders, G. (Geert)", "Stöteler, T.S.M. (Sebastiaan)"])
    assert bsn("voter_haarlem_1") not in flat
    assert "pagina 1 van 2" in flat
