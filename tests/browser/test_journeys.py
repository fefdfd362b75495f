"""The three journeys in a real browser (Debian's chromium), each with the mouse and with the keyboard
only, asserting what the person sees; axe-core checks every page on the way (tests/browser/conftest.py).

Elements are found the way a person finds them: by role and accessible name, or by label.
"""

from __future__ import annotations

import re
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from registry.db import utcnow
from registry.declarations.services import DeclarationRequest, record_declaration
from registry.domain import Channel
from registry.elections import services as elections
from registry.elections.models import CandidateList
from registry.people import person_registry
from tests.browser.person import Mouse, Person
from tests.conftest import bsn

pytestmark = pytest.mark.browser

COUNTER_VOTER = "voter_haarlem_1"  # Anne-Marie Brouwer-de Jong, Haarlem (kieskring 10)
ONLINE_VOTER = "Bram van Dijk (Haarlem)"  # voter_haarlem_2, as the mock DigiD lists him
LIST = "Volt"


def heading(page: Any) -> Any:
    return page.get_by_role("heading", level=1)


def main(page: Any) -> Any:
    return page.get_by_role("main")


def mock_login(page: Any, person: Person, audit: Any, who: str) -> None:
    """On the mock DigiD/eHerkenning page: pick the person or employee whose name starts with ``who``
    and log in (the level the app asked for is preselected)."""
    expect(heading(page)).to_contain_text("Test-inlogdienst")
    audit.check(page, "mock-idp")
    form = page.get_by_role("group")
    if form.get_by_label("Medewerker").count():
        person.select(form.get_by_label("Medewerker"), who)
        person.click(form.get_by_role("button", name="Inloggen met eHerkenning"))
    else:
        person.select(form.get_by_label("Persoon uit de BRP-testgegevens"), who)
        person.click(form.get_by_role("button", name="Inloggen met DigiD"))


def clerk_step1(page: Any, person: Person, number: str) -> None:
    """The clerk's step 1: the voter's BSN and the Dutch passport the clerk has in hand."""
    person.fill(page.get_by_label("BSN van de kiezer"), number)
    person.select(page.get_by_label("Soort identiteitsbewijs"), "Paspoort")
    person.fill(page.get_by_label("Documentnummer"), "NW4K82PL1")
    person.click(page.get_by_role("button", name="Controleer kiezer"))


def test_clerk_journey(live_server: str, open_tk2025: Any, page: Any, person: Person, audit: Any) -> None:
    """A clerk of Haarlem logs in with eHerkenning, records a walk-in voter's declaration for Volt, sees
    the receipt, and on a second attempt for the same voter is told it already exists — not for which list."""
    page.goto(live_server + "/")
    expect(heading(page)).to_have_text("Ondersteuningsverklaringen")
    audit.check(page, "home")
    person.click(page.get_by_role("link", name="Inloggen", exact=True))

    expect(heading(page)).to_have_text("Inloggen")
    audit.check(page, "login")
    person.click(page.get_by_role("link", name="Inloggen met eHerkenning"))
    mock_login(page, person, audit, "Baliemedewerker gemeente Haarlem (GM0392)")

    expect(heading(page)).to_have_text("Balie")
    expect(main(page)).to_contain_text("Haarlem")
    audit.check(page, "balie")
    person.click(page.get_by_role("link", name=re.compile("verklaring vastleggen")))

    # Step 1: the voter's BSN and the document the clerk has in hand.
    expect(heading(page)).to_have_text("Ondersteuningsverklaring vastleggen")
    expect(main(page)).to_contain_text("Stap 1 van 3")
    audit.check(page, "balie-stap-1")
    clerk_step1(page, person, bsn(COUNTER_VOTER))

    # Step 2: compare name and birth date with the document, choose the list, confirm.
    expect(heading(page)).to_have_text("Kies de lijst en bevestig")
    expect(main(page)).to_contain_text("Anne-Marie Brouwer-de Jong")
    expect(main(page)).to_contain_text("11 maart 1959")  # one date style on every page
    expect(main(page)).not_to_contain_text(bsn(COUNTER_VOTER))  # the BSN travels sealed, never shown back
    audit.check(page, "balie-stap-2", docs="balie-stap-2")
    person.choose(page.get_by_role("radio", name=re.compile(rf"^Lijst \d+: {LIST}$")))
    person.check(page.get_by_label(re.compile("Ik heb het identiteitsbewijs gezien")))
    person.click(page.get_by_role("button", name="Verklaring vastleggen"))

    # Step 3: the receipt.
    expect(heading(page)).to_have_text("Verklaring vastgelegd")
    receipt = main(page)
    expect(receipt).to_contain_text("De ondersteuningsverklaring is vastgelegd")
    expect(receipt).to_contain_text(LIST)
    expect(receipt).to_contain_text("10 Haarlem")
    code = re.search(r"Ontvangstcode:\s*([A-Z0-9-]{6,})", receipt.inner_text())
    assert code, f"no receipt code on the receipt page: {receipt.inner_text()[:500]}"
    expect(receipt.get_by_role("link", name=re.compile("Ontvangstbewijs afdrukken"))).to_be_visible()
    audit.check(page, "balie-ontvangstbewijs", docs="balie-ontvangstbewijs")

    # The same voter again: refused, and the page does not say which list she supports.
    person.click(page.get_by_role("link", name="Volgende kiezer"))
    expect(heading(page)).to_have_text("Ondersteuningsverklaring vastleggen")
    clerk_step1(page, person, bsn(COUNTER_VOTER))
    expect(heading(page)).to_have_text("Niet vastgelegd")
    refusal = main(page)
    expect(refusal.get_by_role("alert")).to_contain_text("al een ondersteuningsverklaring afgelegd")
    expect(refusal).not_to_contain_text(LIST)
    expect(refusal).not_to_contain_text("Lijst")
    expect(refusal).not_to_contain_text(code.group(1))
    audit.check(page, "balie-al-verklaard", docs="balie-al-verklaard")

    person.click(page.get_by_role("button", name="Uitloggen"))
    expect(heading(page)).to_have_text("U bent uitgelogd")
    audit.check(page, "uitgelogd")
    audit.assert_clean()


def test_voter_journey(live_server: str, open_tk2025: Any, page: Any, person: Person, audit: Any) -> None:
    """A voter reads what a declaration is, logs in with DigiD, supports Volt online, gets the receipt
    with its receipt code (one name everywhere: ontvangstcode), and finds the declaration under "Mijn verklaring"."""
    page.goto(live_server + "/verklaren/")
    expect(heading(page)).to_have_text("Een partij steunen met een ondersteuningsverklaring")
    expect(main(page)).to_contain_text("niet intrekken")  # the H 4 warnings come before any login
    audit.check(page, "verklaren-start", docs="verklaren-start")
    person.click(page.get_by_role("link", name="Inloggen met DigiD en verder"))
    mock_login(page, person, audit, ONLINE_VOTER)

    expect(heading(page)).to_have_text("Welke lijst wilt u steunen?")
    expect(main(page)).to_contain_text("Haarlem")
    audit.check(page, "verklaren-stap-1", docs="verklaren-stap-1")
    person.choose(page.get_by_role("radio", name=re.compile(rf"^Lijst \d+: {LIST}$")))
    person.click(page.get_by_role("button", name="Verder"))

    expect(heading(page)).to_have_text("Controleer en bevestig")
    expect(main(page)).to_contain_text(LIST)
    expect(main(page)).to_contain_text("één verklaring")
    audit.check(page, "verklaren-stap-2")
    person.check(page.get_by_label(re.compile("Ik steun deze lijst")))
    person.click(page.get_by_role("button", name="Verklaring afleggen"))

    expect(heading(page)).to_have_text("Uw verklaring is vastgelegd")
    receipt = main(page)
    expect(receipt).to_contain_text(LIST)
    code = re.search(r"ontvangstcode is\s*([A-Z0-9-]{6,})", receipt.inner_text())
    assert code, f"no receipt code on the receipt page: {receipt.inner_text()[:500]}"
    audit.check(page, "verklaren-ontvangstbewijs", docs="verklaren-ontvangstbewijs")

    person.click(receipt.get_by_role("link", name="Mijn verklaring"))
    expect(heading(page)).to_have_text("Mijn verklaring")
    expect(main(page)).to_contain_text(code.group(1))
    expect(main(page)).to_contain_text(LIST)
    audit.check(page, "mijn-verklaring")
    audit.assert_clean()


@pytest.fixture
def collected_tk2025(session: Any, open_tk2025: Any) -> Any:
    """TK2025 after its window: two Haarlem voters declared for Volt at the counter, then the window
    closed a minute ago, so the CSB may hold the examination (art. I 1)."""
    volt = session.scalar(select(CandidateList.id).where(CandidateList.designation == LIST))
    for case in ("voter_haarlem_1", "voter_haarlem_2"):
        record_declaration(session, person_registry(), DeclarationRequest(
            election="TK2025", list_id=volt, channel=Channel.COUNTER, bsn=bsn(case), actor="clerk:GM0392:test",
            counter_municipality="GM0392", document_type="paspoort", document_number="NW4K82PL1"))
    now = utcnow()
    elections.update_settings(session, "TK2025", "test", window_opens_at=now - timedelta(days=2),
                              window_closes_at=now - timedelta(minutes=1))
    return open_tk2025


def test_csb_journey(live_server: str, collected_tk2025: Any, page: Any, person: Person, audit: Any) -> None:
    """A member of the central electoral committee logs in with eHerkenning, holds the examination,
    downloads its proces-verbaal, looks at one list per kieskring and at the declarants, and downloads
    the list's signed dossier."""
    page.goto(live_server + "/login")
    expect(heading(page)).to_have_text("Inloggen")
    person.click(page.get_by_role("link", name="Inloggen met eHerkenning"))
    mock_login(page, person, audit, "Lid centraal stembureau")

    expect(heading(page)).to_have_text("Centraal stembureau: Tweede Kamer der Staten-Generaal 2025")
    overview = main(page)
    expect(overview).to_contain_text("verklaringen worden verzameld")
    expect(overview).to_contain_text("In totaal 2 verklaringen: 2 geldig")
    audit.check(page, "csb-overzicht", docs="csb-overzicht")

    # The examination (art. I 1): a deliberate act, confirmed with a tick. While it runs the button is
    # disabled and the page says it is working. The test holds the first submission in the page (after
    # static/js/busy.js has seen it, and only if busy.js let it go) to look, then lets it go on.
    page.evaluate("""() => window.addEventListener("submit", (event) => {
        if (window.heldForm) { return; }
        window.heldForm = event.target; window.busyLetItGo = !event.defaultPrevented;
        event.preventDefault();
    })""")
    person.check(page.get_by_label(re.compile("Ik bevestig dat het centraal stembureau")))
    person.click(page.get_by_role("button", name="Onderzoek houden"))
    expect(main(page).locator("[aria-live=polite]").filter(has_text="Bezig")).to_have_text(
        "Bezig met het onderzoek… Sluit deze pagina niet.")
    expect(page.get_by_role("button", name="Onderzoek houden")).to_be_disabled()
    assert page.evaluate("() => window.busyLetItGo") is True
    audit.check(page, "csb-onderzoek-bezig")
    page.evaluate("() => window.heldForm.submit()")  # on its way, as busy.js left it
    expect(main(page).get_by_role("status")).to_contain_text("Het onderzoek is gehouden")
    assert "gedaan=onderzoek" in page.url  # the result page, by a redirect: reloading it repeats nothing
    audit.check(page, "csb-onderzoek-gehouden")
    with page.expect_download() as report:
        person.click(page.get_by_role("link", name="Proces-verbaal van het onderzoek (PDF)"))
    assert report.value.suggested_filename.endswith(".pdf"), report.value.suggested_filename
    assert Path(report.value.path()).read_bytes().startswith(b"%PDF")

    # One list: per kieskring, and the declarants of kieskring 10.
    person.click(main(page).get_by_role("link", name=re.compile(rf"^Lijst \d+: {LIST}$")))
    expect(heading(page)).to_have_text(re.compile(rf"^Lijst \d+: {LIST}$"))
    haarlem = main(page).get_by_role("row", name=re.compile("10 Haarlem"))
    expect(haarlem).to_contain_text("2")
    audit.check(page, "csb-lijst", docs="csb-lijst")
    person.click(haarlem.get_by_role("link", name=re.compile("10 Haarlem")))
    expect(heading(page)).to_have_text(re.compile(rf"^Lijst \d+: {LIST}: kieskring 10$"))
    declarants = main(page).get_by_role("table")
    expect(declarants).to_contain_text("Anne-Marie Brouwer-de Jong")
    expect(declarants).to_contain_text("Bram van Dijk")
    expect(main(page)).not_to_contain_text(bsn("voter_haarlem_1"))  # names only, never a BSN
    audit.check(page, "csb-kieskring")
    person.click(page.get_by_role("link", name="Terug naar de lijst"))

    # The signed dossier of the list, as a ZIP.
    expect(heading(page)).to_have_text(re.compile(rf"^Lijst \d+: {LIST}$"))
    with page.expect_download() as dossier:
        person.click(page.get_by_role("link", name=re.compile("Dossier voor deze lijst")))
    assert dossier.value.suggested_filename.endswith(".zip"), dossier.value.suggested_filename
    assert zipfile.is_zipfile(dossier.value.path())
    audit.assert_clean()


def test_back_after_the_clerks_receipt_shows_step_2_again(live_server: str, open_tk2025: Any, page: Any,
                                                          audit: Any) -> None:
    """Post/redirect/get at the counter: step 1 → step 2 → receipt, then the browser's Back shows step 2
    again (not "Confirm Form Resubmission"), saying the declaration is recorded; Forward is the receipt."""
    person = Mouse()
    page.goto(live_server + "/login")
    person.click(page.get_by_role("link", name="Inloggen met eHerkenning"))
    mock_login(page, person, audit, "Baliemedewerker gemeente Haarlem (GM0392)")
    page.goto(live_server + "/balie/TK2025/")
    expect(heading(page)).to_have_text("Ondersteuningsverklaring vastleggen")
    clerk_step1(page, person, bsn(COUNTER_VOTER))
    expect(heading(page)).to_have_text("Kies de lijst en bevestig")
    assert page.url.endswith("/balie/TK2025/kiezer") and bsn(COUNTER_VOTER) not in page.url
    person.choose(page.get_by_role("radio", name=re.compile(rf"^Lijst \d+: {LIST}$")))
    person.check(page.get_by_label(re.compile("Ik heb het identiteitsbewijs gezien")))
    person.click(page.get_by_role("button", name="Verklaring vastleggen"))
    expect(heading(page)).to_have_text("Verklaring vastgelegd")
    receipt_url = page.url

    page.go_back()
    expect(heading(page)).to_have_text("Kies de lijst en bevestig")
    expect(main(page)).to_contain_text("Stap 2 van 3")
    expect(main(page)).to_contain_text("Anne-Marie Brouwer-de Jong")
    expect(main(page).get_by_role("status")).to_contain_text("Deze verklaring is al vastgelegd.")
    audit.check(page, "balie-terug-naar-stap-2")
    page.go_forward()
    expect(heading(page)).to_have_text("Verklaring vastgelegd")
    assert page.url == receipt_url
    audit.assert_clean()
