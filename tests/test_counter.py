"""The clerk's screen, driven the way a clerk uses it: log in, fill in, choose, confirm, print."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from registry.brp import PersonRegistryUnavailable
from registry.calendar_utils import local
from registry.db import utcnow
from registry.declarations.models import Declaration
from registry.documents.services import dutch_date
from registry.elections import services as elections
from registry.elections.models import CandidateList
from tests.auth.helpers import login
from tests.conftest import bsn

START = "/balie/TK2025/"
PASSPORT = {"document_type": "paspoort", "document_number": "NW4K82PL1"}


@pytest.fixture
def open_tk2025(session, tk2025):
    """TK2025 with its window moved around now, so the real clock is inside it."""
    now = utcnow()
    elections.update_settings(session, "TK2025", "test", window_opens_at=now - timedelta(days=1),
                              window_closes_at=now + timedelta(days=1))
    return tk2025


@pytest.fixture
def clerk(client, open_tk2025):
    login(client, "clerk:GM0392")
    return client


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)


def step1(client, number: str, **document) -> object:
    """Step 1 as the browser does it: the post, then the page its redirect leads to (step 2)."""
    page = client.get(START)
    assert page.status_code == 200
    return client.post(START, data={"csrf_token": csrf(page.get_data(as_text=True)), "bsn": number,
                                    **(document or PASSPORT)}, follow_redirects=True)


def list_value(html: str, designation: str) -> str:
    return re.search(rf'value="(\d+)"[^>]*>\s*<label[^>]*>(?:Lijst|List) \d+: {re.escape(designation)}<', html).group(1)


def confirm(client, step2_html: str, designation: str = "Volt", checked: bool = True) -> object:
    data = {"csrf_token": csrf(step2_html), "token": hidden(step2_html, "token"),
            "submission": hidden(step2_html, "submission"), "list_id": list_value(step2_html, designation)}
    if checked:
        data["identity_checked"] = "y"
    return client.post("/balie/TK2025/vastleggen", data=data)


def declarations(session) -> int:
    session.rollback()  # end our read snapshot: the requests wrote in sessions of their own
    return session.scalar(select(func.count()).select_from(Declaration))


def test_the_clerk_records_a_walk_in_voter_in_three_steps(clerk, session):
    page = clerk.get(START).get_data(as_text=True)
    assert "<h1>Ondersteuningsverklaring vastleggen</h1>" in page and "gemeente Haarlem" in page
    step2 = step1(clerk, bsn("voter_haarlem_1"))
    html = step2.get_data(as_text=True)
    assert step2.status_code == 200
    assert "Anne-Marie Brouwer-de Jong" in html and "11 maart 1959" in html  # compare with the document
    assert "Lijst 1: PVV (Partij voor de Vrijheid)" in html and "Wilders" in html  # candidates in order
    assert bsn("voter_haarlem_1") not in html  # the BSN travels sealed, not readable in the page
    done = confirm(clerk, html, "Volt")
    assert done.status_code == 303
    receipt = clerk.get(done.headers["Location"]).get_data(as_text=True)
    assert "Verklaring vastgelegd" in receipt and "Volt" in receipt and "10 Haarlem" in receipt
    code = re.search(r'class="receipt-code">([A-Z0-9-]+)<', receipt).group(1)
    pdf = clerk.get(f"/balie/TK2025/verklaring/{code}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert declarations(session) == 1


def test_a_double_click_or_resubmitted_form_records_once(clerk, session):
    html = step1(clerk, bsn("voter_haarlem_2")).get_data(as_text=True)
    first = confirm(clerk, html)
    second = confirm(clerk, html)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert declarations(session) == 1


def test_typing_errors_keep_what_was_typed(clerk, session):
    response = step1(clerk, "999900184", document_type="rijbewijs", document_number="AB12")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "elfproef" in html and "past niet bij een rijbewijs" in html
    assert 'value="999900184"' in html and 'value="AB12"' in html
    assert 'href="#bsn"' in html  # the error summary links to the field
    assert declarations(session) == 0


def test_missing_confirmation_tick_keeps_the_choice_and_records_nothing(clerk, session):
    html = step1(clerk, bsn("voter_haarlem_1")).get_data(as_text=True)
    response = confirm(clerk, html, checked=False)
    assert response.status_code == 422
    assert "Bevestig dat u het identiteitsbewijs" in response.get_data(as_text=True)
    assert declarations(session) == 0


@pytest.mark.parametrize(("case", "expected"), [
    ("voter_amsterdam_1", "staat niet ingeschreven in deze gemeente"),
    ("deceased", "overleden"),  # a Haarlem resident: the clerk of Haarlem may know
    ("not_in_brp", "staat niet ingeschreven in deze gemeente"),
])
def test_each_refusal_is_one_clear_sentence_with_what_to_do(clerk, session, case, expected):
    html = step1(clerk, bsn(case)).get_data(as_text=True)
    assert "<h1>Niet vastgelegd</h1>" in html and expected in html and "Wat nu" in html
    assert declarations(session) == 0


def test_already_declared_does_not_reveal_the_list(clerk, session):
    confirm(clerk, step1(clerk, bsn("voter_haarlem_3")).get_data(as_text=True), "Volt")
    html = step1(clerk, bsn("voter_haarlem_3")).get_data(as_text=True)
    assert "al een ondersteuningsverklaring afgelegd" in html
    assert "Volt" not in html and "Lijst" not in html
    assert declarations(session) == 1


def test_outside_the_window_nothing_can_be_recorded(client, session, tk2025):
    login(client, "clerk:GM0392")  # TK2025's own window closed in 2025
    html = step1(client, bsn("voter_haarlem_1")).get_data(as_text=True)
    assert "termijn" in html and "gesloten" in html
    assert declarations(session) == 0


def test_brp_unreachable_offers_the_paper_form(clerk, session, app):
    class Down:
        def lookup(self, _bsn):
            raise PersonRegistryUnavailable("timeout")

    real = app.extensions["steunregister.brp"]
    app.extensions["steunregister.brp"] = Down()
    try:
        html = step1(clerk, bsn("voter_haarlem_1")).get_data(as_text=True)
    finally:
        app.extensions["steunregister.brp"] = real
    assert "BRP is nu niet bereikbaar" in html and "papieren formulier" in html
    link = re.search(r'href="(/balie/TK2025/papier/\d+\.pdf)"', html).group(1)
    pdf = clerk.get(link)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert declarations(session) == 0


def test_the_overview_counts_per_day_and_per_list(clerk, session):
    for case, party in (("voter_haarlem_1", "Volt"), ("voter_haarlem_2", "Volt"), ("dual_nationality", "DENK")):
        confirm(clerk, step1(clerk, bsn(case)).get_data(as_text=True), party)
    html = clerk.get("/balie/TK2025/overzicht").get_data(as_text=True)
    assert "3 verklaringen vastgelegd" in html
    assert re.search(r"Volt</td><td>2<", html) and re.search(r"DENK</td><td>1<", html)
    assert "Brouwer" not in html  # counts only, never who
    today = local(utcnow())
    assert f"<td>{dutch_date(today)}</td><td>3</td>" in html  # the page's date style, not 2026-12-05


def test_a_clerk_cannot_act_for_another_municipality(client, session, open_tk2025):
    login(client, "clerk:GM0392")
    confirm(client, step1(client, bsn("voter_haarlem_1")).get_data(as_text=True))
    code = session.scalar(select(Declaration.receipt_code))
    other = client.application.test_client()
    login(other, "clerk:GM0363")
    assert other.get(f"/balie/TK2025/verklaring/{code}").status_code == 404
    assert other.get(f"/balie/TK2025/verklaring/{code}.pdf").status_code == 404
    assert other.get(f"{START}?gemeente=GM0392").status_code == 403
    assert "gemeente Amsterdam" in other.get(START).get_data(as_text=True)


def test_a_voter_or_anonymous_visitor_cannot_use_the_counter(client, session, open_tk2025):
    assert client.get(START).status_code == 302  # to the login page
    login(client, f"bsn:{bsn('voter_haarlem_1')}")
    assert client.get(START).status_code == 403


def test_the_sealed_token_cannot_be_tampered_with(clerk, session):
    html = step1(clerk, bsn("voter_haarlem_1")).get_data(as_text=True)
    token = hidden(html, "token")
    forged = html.replace(token, token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    response = confirm(clerk, forged)
    assert response.status_code == 400 and "Begin opnieuw" in response.get_data(as_text=True)
    assert declarations(session) == 0


def test_list_ids_from_the_page_are_real_lists(clerk, session):
    html = step1(clerk, bsn("voter_haarlem_1")).get_data(as_text=True)
    volt = int(list_value(html, "Volt"))
    assert session.get(CandidateList, volt).designation == "Volt"


def test_database_unreachable_is_a_clear_page_and_records_nothing(clerk, session, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from registry.counter import routes

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(routes, "check_voter", down)
    response = step1(clerk, bsn("voter_haarlem_1"))
    assert response.status_code == 503 and response.headers["Retry-After"]
    html = response.get_data(as_text=True)
    assert "niet bereikbaar" in html and "Er is niets vastgelegd" in html and "Traceback" not in html
    assert declarations(session) == 0


def test_the_clerks_landing_page_links_to_the_counter_of_each_election(clerk):
    html = clerk.get("/balie").get_data(as_text=True)
    assert 'href="/balie/TK2025/"' in html and "verklaring vastleggen" in html
    assert clerk.get("/balie/TK2025/").status_code == 200


def test_each_step_that_succeeds_redirects_so_back_never_resends_a_form(clerk, session):
    """Post/redirect/get: step 1 answers 303 to step 2's own page (the BSN in neither URL nor page), the
    confirmation 303 to the receipt; step 2 fetched again after the receipt (Back) is step 2, saying it
    was recorded, and confirming it again shows the same receipt without recording twice."""
    page = clerk.get(START).get_data(as_text=True)
    checked = clerk.post(START, data={"csrf_token": csrf(page), "bsn": bsn("voter_haarlem_1"), **PASSPORT})
    assert checked.status_code == 303
    assert checked.headers["Location"].endswith("/balie/TK2025/kiezer")
    assert bsn("voter_haarlem_1") not in checked.headers["Location"]
    assert bsn("voter_haarlem_1") not in checked.headers.get("Set-Cookie", "")  # sealed, not in clear
    step2 = clerk.get(checked.headers["Location"])
    html = step2.get_data(as_text=True)
    assert step2.status_code == 200 and "<h1>Kies de lijst en bevestig</h1>" in html
    assert "Anne-Marie Brouwer-de Jong" in html and bsn("voter_haarlem_1") not in html
    done = confirm(clerk, html)
    assert done.status_code == 303 and "/balie/TK2025/verklaring/" in done.headers["Location"]

    back = clerk.get("/balie/TK2025/kiezer")
    again = back.get_data(as_text=True)
    assert back.status_code == 200 and "<h1>Kies de lijst en bevestig</h1>" in again
    assert "Deze verklaring is al vastgelegd." in again and done.headers["Location"] in again
    replay = confirm(clerk, again)
    assert replay.status_code == 303 and replay.headers["Location"] == done.headers["Location"]
    assert declarations(session) == 1

    assert clerk.get(START).status_code == 200  # the next voter: the previous one's seal is gone
    assert clerk.get("/balie/TK2025/kiezer").headers["Location"].endswith("/balie/TK2025/")


def test_step_2_without_a_voter_or_with_a_broken_seal_starts_again(clerk, session):
    assert clerk.get("/balie/TK2025/kiezer").status_code == 302
    with clerk.session_transaction() as cookie:
        cookie["counter_voter"] = "not-a-seal"
    response = clerk.get("/balie/TK2025/kiezer")
    assert response.status_code == 400 and "Begin opnieuw" in response.get_data(as_text=True)
