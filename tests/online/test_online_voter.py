"""The voter at home, driven as a browser would: start page, DigiD (mock, login_hint), choose, confirm,
receipt and PDF, "Mijn verklaring"; and every way it can say no."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from registry.db import db, utcnow
from registry.declarations.models import Declaration
from registry.declarations.services import DeclarationRequest, record_declaration
from registry.domain import Channel
from registry.elections import services as elections
from registry.elections.models import District
from registry.party.services import nominations_from_form, parse_candidates
from registry.people import person_registry
from tests.auth.helpers import login
from tests.conftest import bsn
from tests.online.helpers import (
    CHOOSE,
    START,
    choose,
    confirm_data,
    csrf,
    declarations,
    declare,
    digid_login,
    html,
    list_id,
    open_window,
    voter,
)


def record_at_counter(case: str, designation: str, keep: bool = False) -> None:
    record_declaration(db.session, person_registry(), DeclarationRequest(
        election="TK2025", list_id=list_id(designation), channel=Channel.BATCH if keep else Channel.COUNTER,
        bsn=bsn(case), actor="clerk:GM0392:E100", counter_municipality="GM0392", document_type="paspoort",
        document_number="NW4K82PL1", keep_if_duplicate=keep, signed_at=utcnow() - timedelta(hours=1) if keep else None))


def test_the_start_page_explains_in_plain_dutch_and_needs_no_login(client, session, open_tk2025):
    page = client.get(START)
    text = html(page)
    assert page.status_code == 200 and text.count("<h1>") == 1 and "<title>" in text
    for must in ("één lijst", "één verklaring", "allebei niet", "niet intrekken", "iedereen de verklaringen inzien",
                 "centraal stembureau", "strafbaar", "artikel Z 4", "Wetboek van Strafrecht", "DigiD"):
        assert must in text, must
    assert 'href="/login/digid?next=/verklaren/TK2025/"' in text


def test_a_voter_declares_from_home_and_gets_a_receipt_with_a_pdf(app, session, open_tk2025):
    browser = voter(app, "voter_haarlem_1")
    step1 = html(browser.get(CHOOSE))
    assert "Stap 1 van 3" in step1 and "U woont in Haarlem, kieskring 10" in step1
    assert step1.index("Wilders, G. (Geert)") < step1.index("Stöteler, T.S.M. (Sebastiaan)")  # in list order
    step2 = choose(browser, "Volt")
    confirm_page = html(step2)
    assert step2.status_code == 200 and "Stap 2 van 3" in confirm_page and "Lijst 14: Volt" in confirm_page
    assert "Dassen, L.A.J.M. (Laurens)" in confirm_page and "niet intrekken" in confirm_page
    assert declarations() == 0  # choosing records nothing
    done = browser.post(f"{CHOOSE}vastleggen", data=confirm_data(confirm_page))
    assert done.status_code == 303
    receipt = html(browser.get(done.location))
    code = re.search(r'class="receipt-code">([A-Z0-9-]{14})<', receipt).group(1)
    assert "Uw verklaring is vastgelegd" in receipt and "Lijst 14: Volt" in receipt and "geregistreerd" in receipt
    pdf = browser.get(f"{CHOOSE}ontvangstbewijs/{code}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert bsn("voter_haarlem_1").encode() not in pdf.data
    row = session.scalar(select(Declaration))
    assert (row.channel, row.receipt_code, row.attestation["kind"]) == ("online", code, "registry-brp-check")
    assert row.attestation["legal_basis"] and row.attestation["acr"] == "substantieel"
    assert bsn("voter_haarlem_1") not in receipt and bsn("voter_haarlem_1") not in confirm_page


def test_a_double_click_or_a_resubmitted_confirmation_records_once(app, session, open_tk2025):
    browser = voter(app, "voter_haarlem_2")
    data = confirm_data(html(choose(browser, "DENK")))
    first = browser.post(f"{CHOOSE}vastleggen", data=data)
    second = browser.post(f"{CHOOSE}vastleggen", data=data)
    assert first.status_code == second.status_code == 303 and first.location == second.location
    assert declarations() == 1


def test_without_the_tick_nothing_is_recorded_and_the_choice_is_kept(app, session, open_tk2025):
    browser = voter(app, "voter_haarlem_1")
    confirm_page = html(choose(browser, "Volt"))
    response = browser.post(f"{CHOOSE}vastleggen", data=confirm_data(confirm_page, tick=False))
    text = html(response)
    assert response.status_code == 422 and "Zet een vinkje" in text and "Lijst 14: Volt" in text
    assert 'href="#understood"' in text  # the error summary links to the box
    assert declarations() == 0


def test_a_level_below_substantieel_is_refused_with_a_plain_page(app, session, open_tk2025):
    browser = app.test_client()
    refused = digid_login(browser, "voter_haarlem_1", acr="midden")
    assert refused.status_code == 403 and "Uw inlogniveau is te laag" in html(refused)
    page = browser.get(CHOOSE)
    assert page.status_code == 302 and page.location.startswith("/login?next=")  # no session was made
    assert declarations() == 0


@pytest.mark.parametrize(("case", "expected"), [
    ("minor", "nog geen 18 jaar"),
    # On the first page after login, what a minor or a voter abroad can do instead.
    ("minor", "Wat u wel kunt doen: een partij op een andere manier steunen"),
    ("registered_abroad", "registreer u daarvoor als kiezer buiten Nederland bij de gemeente Den Haag"),
    ("eu_citizen_belgian", "niet de nationaliteit"),
    ("excluded_from_voting", "uitgesloten van het kiesrecht"),
])
def test_a_voter_without_the_right_to_vote_gets_no_form(app, session, open_tk2025, case, expected):
    browser = voter(app, case)
    page = html(browser.get(CHOOSE))
    assert "U kunt geen verklaring afleggen" in page and expected in page
    assert 'name="list_id"' not in page
    forced = browser.post(f"{CHOOSE}vastleggen", data={"csrf_token": csrf(page), "list_id": str(list_id("Volt")),
                                                       "submission": "x" * 24, "understood": "y"})
    assert expected in html(forced)
    assert declarations() == 0


@pytest.fixture
def list_in_amsterdam(session, open_tk2025):
    """A list that stands only in kieskring 9 (Amsterdam), registered the way the party form does."""
    candidates, _ = parse_candidates("de Vries, J., Amsterdam\nJansen, A.B., Diemen")
    district = session.scalar(select(District).where(District.election_id == open_tk2025.id, District.number == 9))
    elections.import_parsed(session, nominations_from_form(open_tk2025, [district], "Amsterdamse Lijst", candidates,
                                                           None), "test", "test")
    return list_id("Amsterdamse Lijst")


def test_a_list_outside_the_voters_kieskring_cannot_be_chosen(app, session, list_in_amsterdam):
    haarlem = voter(app, "voter_haarlem_1")
    page = html(haarlem.get(CHOOSE))
    assert "Amsterdamse Lijst" not in page
    tampered = haarlem.post(f"{CHOOSE}bevestigen", data={"csrf_token": csrf(page), "list_id": str(list_in_amsterdam)})
    assert tampered.status_code == 422 and "doet niet mee in de kieskring waar u woont" in html(tampered)
    forced = haarlem.post(f"{CHOOSE}vastleggen", data={"csrf_token": csrf(page), "list_id": str(list_in_amsterdam),
                                                       "submission": "s" * 24, "list_version": "0" * 64,
                                                       "understood": "y"})
    assert forced.status_code == 422 and "doet niet mee in de kieskring waar u woont" in html(forced)
    amsterdam = voter(app, "voter_amsterdam_1")
    assert "Amsterdamse Lijst" in html(amsterdam.get(CHOOSE)) and "Volt" not in html(amsterdam.get(CHOOSE))
    assert declarations() == 0


def test_when_the_channel_is_closed_the_page_names_the_voters_own_municipality(app, session, tk2025):
    open_window(session, online=False)
    haarlem = voter(app, "voter_haarlem_1")
    page = html(haarlem.get(CHOOSE))
    assert "Online verklaren kan niet" in page and "gemeente Haarlem" in page and 'name="list_id"' not in page
    assert "gemeente Amsterdam" in html(voter(app, "voter_amsterdam_2").get(CHOOSE))
    forced = haarlem.post(f"{CHOOSE}vastleggen", data={"csrf_token": csrf(page), "list_id": str(list_id("Volt")),
                                                       "submission": "c" * 24, "understood": "y"})
    assert "gemeente Haarlem" in html(forced)
    assert declarations() == 0
    start = html(haarlem.get(START))
    assert "niet online een verklaring afleggen" in start and "balie van uw eigen" in start


def test_outside_the_window_nothing_can_be_declared(app, session, tk2025):
    elections.update_settings(session, "TK2025", "test", online_open=True, online_legal_basis="Experiment (test)")
    browser = voter(app, "voter_haarlem_1")  # TK2025's own window closed in 2025
    page = html(browser.get(CHOOSE))
    assert "De termijn is gesloten" in page and "artikel H 4 lid 3" in page and 'name="list_id"' not in page
    assert declarations() == 0


def test_a_voter_who_declared_at_the_counter_sees_that_declaration_and_no_form(app, session, open_tk2025):
    record_at_counter("voter_haarlem_3", "DENK")
    browser = voter(app, "voter_haarlem_3")
    page = html(browser.get(CHOOSE))
    assert "U hebt al een verklaring afgelegd" in page and "DENK" in page and "geregistreerd" in page
    assert 'name="list_id"' not in page and "vastleggen" not in page
    again = browser.post(f"{CHOOSE}bevestigen", data={"csrf_token": csrf(page), "list_id": str(list_id("Volt"))})
    assert "U hebt al een verklaring afgelegd" in html(again)
    forced = browser.post(f"{CHOOSE}vastleggen", data={"csrf_token": csrf(page), "list_id": str(list_id("Volt")),
                                                       "submission": "d" * 24, "understood": "y"})
    assert "U hebt al een verklaring afgelegd" in html(forced) and "Volt" not in html(forced)
    assert declarations() == 1


def test_my_declaration_shows_the_status_and_void_when_there_are_two(app, session, open_tk2025):
    browser = voter(app, "voter_haarlem_1")
    assert declare(browser, "Volt").status_code == 303
    text = html(browser.get("/mijn-verklaring"))
    assert "<h1>Mijn verklaring</h1>" in text
    assert "Lijst 14: Volt" in text and "geregistreerd" in text and "10 Haarlem" in text
    record_at_counter("voter_haarlem_1", "DENK", keep=True)  # a paper declaration that must be kept
    text = html(browser.get("/mijn-verklaring"))
    assert text.count("ongeldig: meer dan één verklaring") == 2 and "DENK" in text


def test_the_receipt_is_only_for_its_own_voter(app, session, open_tk2025):
    first = voter(app, "voter_haarlem_1")
    location = declare(first, "Volt").location
    other = voter(app, "voter_haarlem_2")
    assert other.get(location).status_code == 404 and "Niet gevonden" in html(other.get(location))
    assert other.get(location + ".pdf").status_code == 404
    assert first.get(location).status_code == 200
    assert first.get("/verklaren/XX1999/").status_code == 404


def test_other_roles_and_anonymous_visitors_cannot_use_the_voter_pages(app, client, session, open_tk2025):
    assert client.get(CHOOSE).status_code == 302
    login(client, "clerk:GM0392")
    assert client.get(CHOOSE).status_code == 403
    assert client.post(f"{CHOOSE}vastleggen", data={}).status_code in (400, 403)  # CSRF or role: never recorded
    assert declarations() == 0
