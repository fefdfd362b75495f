"""One demo election from its open window to the I 19 purge, in a real browser (Debian's chromium), moved
on with the demo calendar's panel on the start page; in each phase the voter, the clerk, the party agent
and the CSB look at their pages, and axe-core checks every page on the way (issue 16).

Every user logs in afresh in a browser of their own after the clock moved: a jump of days ends a login.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.person import Mouse, Person
from tests.browser.test_journeys import heading, main, mock_login

pytestmark = pytest.mark.browser

LIST = "Piratenpartij"  # not exempt in the demo: it needs 30 declarations per kieskring
VOTER = "Bram van Dijk (Haarlem)"  # voter_haarlem_2
REPAIR_VOTER = "Inès Smits (Haarlem)"  # voter_haarlem_3
CLERK = "Baliemedewerker gemeente Haarlem (GM0392)"


@pytest.fixture
def demo(app: Any, session: Any) -> str:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    session.rollback()
    return re.search(r"Demo-verkiezing (\S+) geladen", result.output).group(1)


@pytest.fixture
def fresh(browser: Any, browser_context_args: dict[str, Any]) -> Iterator[Any]:
    """A new browser (context) per user visit, closed at the end of the test."""
    opened: list[Any] = []

    def make() -> Any:
        context = browser.new_context(**browser_context_args)
        opened.append(context)
        return context.new_page()

    yield make
    for context in opened:
        context.close()


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    from datetime import timedelta

    from registry.db import set_clock_offset

    yield
    set_clock_offset(timedelta(0))  # the demo clock is process-wide


def advance(page: Any, live_server: str, person: Person, audit: Any, phase_label: str) -> None:
    """On the start page's panel: choose the phase, press Verder, read the confirmation."""
    page.goto(live_server + "/")
    panel = page.get_by_role("region", name="Demokalender (alleen in ontwikkeling)")
    person.select(panel.get_by_label("Verder naar de fase"), phase_label)
    person.click(panel.get_by_role("button", name="Verder"))
    expect(page.get_by_role("status")).to_contain_text(f"De demo staat nu in de fase: {phase_label}")
    audit.check(page, "demokalender")


def login_staff(page: Any, live_server: str, person: Person, audit: Any, who: str) -> None:
    page.goto(live_server + "/login")
    person.click(page.get_by_role("link", name="Inloggen met eHerkenning"))
    mock_login(page, person, audit, who)


def clerk_step1(fresh: Any, live_server: str, demo: str, person: Person, audit: Any, name: str) -> Any:
    page = fresh()
    login_staff(page, live_server, person, audit, CLERK)
    page.goto(f"{live_server}/balie/{demo}/")
    expect(heading(page)).to_have_text("Ondersteuningsverklaring vastleggen")
    audit.check(page, name)
    return page


def agent_list(fresh: Any, live_server: str, demo: str, person: Person, audit: Any, name: str,
               docs: str | None = None) -> Any:
    page = fresh()
    login_staff(page, live_server, person, audit, f"Gemachtigde {LIST} ({demo}")
    person.click(main(page).get_by_role("link", name=re.compile(rf"Lijst \d+: {LIST}")))
    expect(heading(page)).to_have_text(re.compile(rf"Lijst \d+: {LIST}"))
    audit.check(page, name, docs=docs)
    return page


def csb_overview(fresh: Any, live_server: str, person: Person, audit: Any) -> Any:
    page = fresh()
    login_staff(page, live_server, person, audit, "Lid centraal stembureau Tweede Kamer")
    expect(heading(page)).to_contain_text("Centraal stembureau: Tweede Kamer")
    return page


def test_one_demo_election_from_the_open_window_to_the_purge(live_server: str, demo: str, page: Any,
                                                               fresh: Any, audit: Any) -> None:
    person = Mouse()
    # --- open: the start page has the demo calendar; a voter declares online -------------------------
    page.goto(live_server + "/")
    expect(page.get_by_role("region", name="Demokalender (alleen in ontwikkeling)")).to_contain_text(
        "termijn open: verklaringen afleggen")
    audit.check(page, "start-demokalender", docs="start-demokalender")

    voter = fresh()
    voter.goto(live_server + "/verklaren/")
    person.click(voter.get_by_role("link", name="Inloggen met DigiD en verder"))
    mock_login(voter, person, audit, VOTER)
    expect(heading(voter)).to_have_text("Welke lijst wilt u steunen?")
    expect(main(voter)).not_to_contain_text("Waarom staan hier maar een paar lijsten?")
    # A required radio button, nothing chosen yet, does not look like an error; one the server marked does.
    radio = voter.get_by_role("radio").first
    untouched = radio.evaluate("el => getComputedStyle(el).borderColor")
    marked = radio.evaluate("el => { el.setAttribute('aria-invalid', 'true'); const c = getComputedStyle(el)"
                            ".borderColor; el.removeAttribute('aria-invalid'); return c; }")
    assert radio.evaluate("el => el.matches(':invalid')") and untouched != marked, (untouched, marked)
    person.choose(voter.get_by_role("radio", name=re.compile(rf"^Lijst \d+: {LIST}$")))
    person.click(voter.get_by_role("button", name="Verder"))
    person.check(voter.get_by_label(re.compile("Ik steun deze lijst")))
    person.click(voter.get_by_role("button", name="Verklaring afleggen"))
    expect(heading(voter)).to_have_text("Uw verklaring is vastgelegd")

    clerk = clerk_step1(fresh, live_server, demo, person, audit, "balie-open")
    expect(main(clerk)).not_to_contain_text("Let op")
    # The document-type select shows its arrow (the theme draws none of its own).
    arrow = clerk.get_by_label("Soort identiteitsbewijs").evaluate("el => getComputedStyle(el).backgroundImage")
    assert arrow.startswith('url("data:image/svg+xml'), arrow
    # Printed, the page is its content: no header, language switch, logout or footer.
    clerk.emulate_media(media="print")
    expect(clerk.get_by_role("button", name="Uitloggen")).to_be_hidden()
    expect(clerk.get_by_role("link", name="English")).to_be_hidden()
    expect(heading(clerk)).to_be_visible()
    clerk.emulate_media(media="screen")
    expect(clerk.get_by_role("button", name="Uitloggen")).to_be_visible()

    # --- nomination day passed: the clerk is told before typing a BSN ---------------------------------
    advance(page, live_server, person, audit, "dag van kandidaatstelling voorbij: de termijn is gesloten")
    clerk = clerk_step1(fresh, live_server, demo, person, audit, "balie-gesloten")
    expect(main(clerk).get_by_role("status")).to_contain_text("is gesloten sinds")
    expect(main(clerk).get_by_role("status")).to_contain_text("U hoeft geen BSN in te voeren")

    # --- repair day 1: the examination was held on the way --------------------------------------------
    advance(page, live_server, person, audit, "herstel van verzuim, dag 1 (art. I 2)")
    start = fresh()
    start.goto(live_server + "/verklaren/")
    expect(main(start)).to_contain_text("hersteltermijn, Kieswet artikel I 2")
    expect(main(start)).to_contain_text(re.compile(r"tot \d+ \w+ \d{4}, 15\.00 uur"))
    expect(main(start)).to_contain_text(re.compile(r"Hersteldag 1: .* van 09\.00 uur tot 17\.00 uur \(nu\)"))
    audit.check(start, "verklaren-herstel", docs="verklaren-herstel")
    person.click(start.get_by_role("link", name="Inloggen met DigiD en verder"))
    mock_login(start, person, audit, REPAIR_VOTER)
    expect(heading(start)).to_have_text("Welke lijst wilt u steunen?")
    expect(main(start)).to_contain_text("Waarom staan hier maar een paar lijsten?")
    expect(start.get_by_role("radio", name=re.compile(r"^Lijst \d+: Volt$"))).to_have_count(0)  # exempt
    expect(start.get_by_role("radio", name=re.compile(rf"^Lijst \d+: {LIST}$"))).to_have_count(1)
    audit.check(start, "verklaren-herstel-lijsten")

    clerk = clerk_step1(fresh, live_server, demo, person, audit, "balie-herstel")
    notice = main(clerk).get_by_role("status")
    expect(notice).to_contain_text("Hersteltermijn (art. I 2): tot")
    expect(notice).to_contain_text(re.compile(r"In kieskring 10 kunnen nog \d+ lijsten worden gesteund"))
    expect(notice).to_contain_text(LIST)
    expect(notice).not_to_contain_text("Volt")

    agent = agent_list(fresh, live_server, demo, person, audit, "partij-verzuim", docs="partij-verzuim")
    expect(main(agent)).to_contain_text("Verzuim: te weinig verklaringen (artikel I 2)")
    shortages = main(agent).get_by_role("table", name="Gemeld tekort per kieskring")
    expect(shortages.get_by_role("row", name=re.compile("Haarlem"))).to_contain_text("30")
    expect(main(agent)).to_contain_text(re.compile(r"Het herstel eindigt op .*15\.00 uur: nog 2 dagen en 5 uur"))
    expect(main(agent).get_by_role("link", name="Kennisgeving van het verzuim (PDF)")).to_be_visible()

    member = csb_overview(fresh, live_server, person, audit)
    matrix = main(member).get_by_role("table")
    expect(matrix.first).to_contain_text(LIST)
    audit.check(member, "csb-matrix", docs="csb-matrix")
    person.select(main(member).get_by_label("Toon"), "alleen lijsten met een tekort (de gemelde verzuimen)")
    person.click(main(member).get_by_role("button", name="Toon"))
    expect(main(member).get_by_role("row", name=re.compile(r"Lijst \d+: Volt"))).to_have_count(0)
    expect(main(member).get_by_role("row", name=re.compile(rf"Lijst \d+: {LIST}"))).to_have_count(1)
    audit.check(member, "csb-matrix-tekort")

    # --- decided (I 4): the party agent and the CSB see the decision per kieskring --------------------
    advance(page, live_server, person, audit, "beslist (art. I 4): geldig of ongeldig per kieskring")
    agent = agent_list(fresh, live_server, demo, person, audit, "partij-beslissing", docs="partij-beslissing")
    expect(main(agent)).to_contain_text("Beslissing per kieskring (artikel I 4)")
    decisions = main(agent).get_by_role("table", name=re.compile("Beslissing over"))
    expect(decisions.get_by_role("row", name=re.compile("Haarlem"))).to_contain_text("ongeldig")
    member = csb_overview(fresh, live_server, person, audit)
    row = main(member).get_by_role("row", name=re.compile(rf"Lijst \d+: {LIST}"))
    expect(row).to_contain_text("ongeldig")
    audit.check(member, "csb-matrix-beslist", docs="csb-matrix-beslist")

    # --- final, then the purge from the CSB's own pages: dry run, confirmation, done ------------------
    advance(page, live_server, person, audit, "de beslissing is onherroepelijk (art. I 7)")
    member = csb_overview(fresh, live_server, person, audit)
    person.click(main(member).get_by_role("button", name="Proefrun: wat wordt vernietigd?"))
    expect(heading(member)).to_have_text("Bevestig: de verklaringen vernietigen (art. I 19)")
    expect(main(member)).to_contain_text("Dit kan niet ongedaan worden gemaakt.")
    expect(main(member)).to_contain_text("1 verklaring: de naam (1 nog bewaard) wordt gewist.")  # one plural
    audit.check(member, "csb-vernietigen-bevestigen", docs="csb-vernietigen-bevestigen")
    person.click(main(member).get_by_role("button", name="Ja, nu vernietigen"))
    expect(main(member).get_by_role("status")).to_contain_text("De verklaringen zijn vernietigd (art. I 19).")
    audit.check(member, "csb-vernietigd")

    # --- purged: the voter who declared reads that it was destroyed ----------------------------------
    after = fresh()
    after.goto(live_server + "/login")
    person.click(after.get_by_role("link", name="Inloggen met DigiD"))
    mock_login(after, person, audit, VOTER)
    after.goto(live_server + "/mijn-verklaring")
    expect(heading(after)).to_have_text("Mijn verklaring")
    expect(main(after)).to_contain_text("De verklaringen voor deze verkiezing zijn op")
    expect(main(after)).to_contain_text("Kieswet, artikel I 19")
    expect(main(after)).not_to_contain_text("U hebt nog geen ondersteuningsverklaring afgelegd")
    audit.check(after, "mijn-verklaring-vernietigd", docs="mijn-verklaring-vernietigd")
    audit.assert_clean()
