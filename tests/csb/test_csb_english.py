"""The centraal stembureau's pages in English: every heading, label and status word comes from the
catalogue, and the pages pass the page checks (tests/support/pages.py) in English too."""

from __future__ import annotations

import re

from tests.csb.test_csb_journey import list_id
from tests.online.helpers import html
from tests.support import pages

page_audit = pages.page_audit  # the fixture: every page served in a test below is checked


def english_member(login_as):
    member = login_as("csb:TK2025")
    assert member.get("/taal/en?next=/").status_code == 302
    return member


def test_the_csb_overview_and_list_page_are_in_english(login_as, session, three_for_volt, page_audit):
    member = english_member(login_as)
    overview = html(member.get("/csb/TK2025"))
    assert '<html lang="en"' in overview
    for must in ("<h1>Central electoral committee: ", "Current status", "Phase: declarations are being collected",
                 "Period for declarations", "Lists per electoral district", "short by 27", "not submitted",
                 "In total 3 declarations: 3 valid, 0 invalid because the voter made more than one declaration",
                 "Declarations per day", "Official reports", "None yet: the examination has not been held yet.",
                 "Hold the examination (section I 1)", "Voters with more than one declaration (0)"):
        assert must in overview, must
    for dutch in ("Stand van zaken", "<h2>Lijsten</h2>", "Verklaringen per dag", "Processen-verbaal",
                  "Onderzoek houden", "Termijn voor verklaringen", "In totaal"):
        assert dutch not in overview, dutch

    page = html(member.get(f"/csb/TK2025/lijsten/{list_id('Volt')}"))
    for must in ("Valid declarations per electoral district", '<th scope="col">Electoral district</th>',
                 '<th scope="col">Required</th>', '<th scope="col">Outcome</th>', "short by 27", "not submitted",
                 "Numbers as counted now.", "<h2>Documents</h2>", "Back to the overview", ">dist. 10<"):
        assert must in page, must
    for dutch in ("Geldige verklaringen per kieskring", "Kieskring<", "Uitkomst", "tekort:", "niet ingeleverd",
                  "Stukken", "Terug naar het overzicht", ">kk 10<"):
        assert dutch not in page, dutch
    assert ">3 / 30<" in page  # the chart's numbers are not words
    assert len(page_audit.pages) >= 2


def test_the_other_csb_pages_are_in_english(login_as, session, three_for_volt, page_audit):
    member = english_member(login_as)
    district = html(member.get(f"/csb/TK2025/lijsten/{list_id('Volt')}/kieskring/10"))
    for must in (": electoral district 10</h1>", "all declarations", "<td>valid</td>",
                 "file from the municipality", "Back to the list"):
        assert must in district, must
    assert "kieskring 10" not in district and "alle verklaringen" not in district

    declaration = html(member.get(f"/csb/TK2025/verklaringen/{three_for_volt[0]}"))
    for must in (f"<h1>Declaration {three_for_volt[0]}</h1>", "Events in the audit chain", "saw the voter's passport",
                 "Declare invalid", "Statement of the municipality, or check"):
        assert must in declaration, must
    assert "Gebeurtenissen in de auditketen" not in declaration and "Ongeldig verklaren" not in declaration

    multiple = html(member.get("/csb/TK2025/meervoudig"))
    assert "<h1>Voters with more than one declaration</h1>" in multiple
    assert "There is no voter with more than one declaration." in multiple

    missing = member.get("/csb/TK2025/verklaringen/999999")
    assert missing.status_code == 404 and "<h1>Not found</h1>" in html(missing)
    assert "This declaration does not exist in this election." in html(missing)  # the CSB's messages too
    overview = html(member.get("/csb/TK2025"))
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', overview).group(1)
    early = html(member.post("/csb/TK2025/onderzoek", data={"csrf_token": token, "confirm": "y"}))
    assert "The examination can only be held from" in early and "Het onderzoek kan pas" not in early
    assert re.search(r"from \d{1,2} (January|February|March|April|May|June|July|August|September|October|November|"
                     r"December) \d{4}, \d{2}:\d{2}", early)  # an English date in an English message
    assert len(page_audit.pages) >= 4


def test_the_csb_pages_stay_dutch_by_default(login_as, session, three_for_volt, page_audit):
    member = login_as("csb:TK2025")
    overview = html(member.get("/csb/TK2025"))
    assert "<h1>Centraal stembureau: " in overview and "Stand van zaken" in overview
    page = html(member.get(f"/csb/TK2025/lijsten/{list_id('Volt')}"))
    assert "Geldige verklaringen per kieskring" in page and "tekort: 27" in page and ">kk 10<" in page


def test_the_long_acts_say_they_are_working_with_a_script_the_csp_allows(login_as, session, three_for_volt,
                                                                        page_audit):
    """The examination's form carries the text static/js/busy.js announces in its aria-live region, in the
    page's language; the script is a file of this site with this response's nonce, no inline code."""
    member = login_as("csb:TK2025")
    response = member.get("/csb/TK2025")
    overview = html(response)
    assert 'data-busy="Bezig met het onderzoek… Sluit deze pagina niet."' in overview
    assert '<p class="busy-status" aria-live="polite" data-busy-status></p>' in overview
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert f'<script src="/static/js/busy.js" nonce="{nonce}" defer></script>' in overview
    script = member.get("/static/js/busy.js")
    assert script.status_code == 200 and "data-busy-status" in script.get_data(as_text=True)
    english = html(english_member(login_as).get("/csb/TK2025"))
    assert 'data-busy="Holding the examination… Do not close this page."' in english


def test_the_decision_says_it_is_working_too(app, login_as, session, three_for_volt, page_audit):
    from sqlalchemy import select

    from registry.csb import services as csb
    from registry.elections.models import Election

    election = session.scalar(select(Election).where(Election.identifier == "TK2025"))
    with app.test_request_context("/"):
        csb.hold_examination(session, election, "csb:test",
                             now=csb.calendar(election, csb.sessions(session, election)).examination_from)
    overview = html(login_as("csb:TK2025").get("/csb/TK2025"))
    assert 'data-busy="Bezig met de beslissing… Sluit deze pagina niet."' in overview
    assert "Beslissing nemen" in overview and 'aria-live="polite" data-busy-status' in overview
