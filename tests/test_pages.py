"""Every main page passes the page checks (tests/support/pages.py): a title, exactly one h1, lang set,
every input labelled, no script or style without the CSP nonce, in Dutch and in English. The journeys
are driven the way the feature tests drive them; the checks run on every HTML page they are served.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import render_template

from registry.db import utcnow
from registry.elections import services as elections
from tests.conftest import bsn
from tests.online.helpers import CHOOSE, choose, confirm_data, csrf, forget_g_after_each_request, voter
from tests.support import pages
from tests.test_counter import confirm, step1

page_audit = pages.page_audit  # the fixture: every page served in a test below is checked

@pytest.fixture
def open_tk2025(session, tk2025, app):
    """TK2025 with its window around now and the online channel open; one `g` per request."""
    forget_g_after_each_request(app)
    now = utcnow()
    elections.update_settings(session, "TK2025", "test", window_opens_at=now - timedelta(days=1),
                              window_closes_at=now + timedelta(days=1), online_open=True,
                              online_legal_basis="Experimentenwet online ondersteuning (test)")
    return tk2025


def english(client) -> None:
    assert client.get("/taal/en?next=/").status_code == 302


def html(response) -> str:
    return response.get_data(as_text=True)


# --- the checker itself ---------------------------------------------------------------------------

GOOD = ('<!doctype html><html lang="nl"><head><title>T</title><script nonce="n1" src="/s.js"></script></head>'
        '<body><h1>Kop</h1><label for="a">A</label><input id="a"><input type="hidden" name="h">'
        '<label>B <select name="b"></select></label><textarea aria-label="C"></textarea>'
        '<p id="d">uitleg</p><input aria-labelledby="d" aria-describedby="d"></body></html>')


def test_the_checker_passes_a_good_page_and_names_each_fault():
    assert pages.problems(GOOD, "n1") == []
    faults = {
        "no <title>": GOOD.replace("<title>T</title>", ""),
        "0 <h1>": GOOD.replace("<h1>Kop</h1>", ""),
        "2 <h1>": GOOD.replace("<h1>Kop</h1>", "<h1>Kop</h1><h1>Nog een</h1>"),
        "has no label": GOOD.replace('<label for="a">A</label>', ""),
        "without this response's CSP nonce": GOOD.replace('nonce="n1" ', ""),
        "no lang": GOOD.replace(' lang="nl"', ""),
        "style=": GOOD.replace("<p id", '<p style="color:red" id'),
        "duplicate id": GOOD.replace('<p id="d">', '<p id="a">'),
        "points at no element": GOOD.replace('aria-describedby="d"', 'aria-describedby="nowhere"'),
    }
    for expected, page in faults.items():
        found = pages.problems(page, "n1")
        assert any(expected in problem for problem in found), (expected, found)
    assert any("nonce" in p for p in pages.problems(GOOD.replace("<head>", "<head><script>x()</script>"), "n1"))
    assert any("nonce" in p for p in pages.problems(GOOD, "another-nonce"))


# --- public pages, both languages -------------------------------------------------------------------

PUBLIC = ["/", "/login", "/verklaren/", "/toegankelijkheid", "/privacy"]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_public_pages_pass_in_both_languages(app, client, session, open_tk2025, page_audit, language):
    if language == "en":
        english(client)
    for url in PUBLIC:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{language}"' in html(response), url
    picker = client.get(client.get("/login/digid").location)  # the mock DigiD's picker page
    assert picker.status_code == 200 and "<h1>" in html(picker)
    assert len(page_audit.pages) == len(PUBLIC) + 1


def test_the_statements_say_what_the_law_asks(client, session, page_audit):
    statement = html(client.get("/toegankelijkheid"))
    for must in ("WCAG 2.1", "niveau AA", "Status", "Wat nog niet goed is", "Contact"):
        assert must in statement, must
    privacy = html(client.get("/privacy"))
    for must in ("pseudoniem", "versleuteld", "artikel H 4", "artikel I 3", "artikel I 19",
                 "artikel 6 lid 1 onder c", "onder e", "sleutels van die verkiezing te vernietigen",
                 "Wie ziet wat"):
        assert must in privacy, must
    home = html(client.get("/"))
    assert 'href="/toegankelijkheid"' in home and 'href="/privacy"' in home  # the footer, on every page


# --- the clerk's counter ------------------------------------------------------------------------

def test_the_counter_steps_pass(login_as, session, open_tk2025, page_audit):
    clerk = login_as("clerk:GM0392")
    assert clerk.get("/balie").status_code == 200
    wrong = step1(clerk, "999900184", document_type="rijbewijs", document_number="AB12")
    assert wrong.status_code == 422 and 'class="utrecht-alert utrecht-alert--error error-summary"' in html(wrong)
    step2 = step1(clerk, bsn("voter_haarlem_2"))
    assert step2.status_code == 200
    unticked = confirm(clerk, html(step2), checked=False)
    assert unticked.status_code == 422
    done = confirm(clerk, html(step2))
    assert done.status_code == 303
    assert clerk.get(done.headers["Location"]).status_code == 200  # the receipt
    refused = step1(clerk, bsn("minor"))  # the refusal page
    assert "<h1>Niet vastgelegd</h1>" in html(refused)
    assert clerk.get("/balie/TK2025/overzicht").status_code == 200
    assert len(page_audit.pages) >= 9


# --- the voter at home ----------------------------------------------------------------------------

def test_the_online_steps_pass(app, session, open_tk2025, page_audit):
    browser = voter(app, "voter_haarlem_1")
    page = html(browser.get(CHOOSE))
    nothing_chosen = browser.post(f"{CHOOSE}bevestigen", data={"csrf_token": csrf(page)})
    assert nothing_chosen.status_code == 422 and 'href="#list_id"' in html(nothing_chosen)
    confirm_page = choose(browser, "Volt")
    unticked = browser.post(f"{CHOOSE}vastleggen", data=confirm_data(html(confirm_page), tick=False))
    assert unticked.status_code == 422
    done = browser.post(f"{CHOOSE}vastleggen", data=confirm_data(html(confirm_page)))
    assert done.status_code == 303
    assert browser.get(done.location).status_code == 200  # the receipt
    assert "<h1>Mijn verklaring</h1>" in html(browser.get("/mijn-verklaring"))
    assert "U hebt al een verklaring afgelegd" in html(browser.get(CHOOSE))
    english(browser)
    assert '<html lang="en"' in html(browser.get(done.location))
    assert len(page_audit.pages) >= 7


# --- the party agent ------------------------------------------------------------------------------

def test_the_party_pages_pass(login_as, session, open_tk2025, page_audit):
    from tests.online.helpers import list_id

    agent = login_as("agent:Volt")
    assert agent.get("/partij").status_code == 200
    assert agent.get(f"/partij/TK2025/lijst/{list_id('Volt')}").status_code == 200
    form = html(agent.get("/partij/TK2025/formulier"))
    wrong = agent.post("/partij/TK2025/formulier", data={"csrf_token": csrf(form), "candidates": "x"})
    assert wrong.status_code == 422
    upload = html(agent.get("/partij/TK2025/bestand"))
    refused = agent.post("/partij/TK2025/bestand", content_type="multipart/form-data",
                         data={"csrf_token": csrf(upload), "file": (io.BytesIO(b"<niet-eml/>"), "x.xml")})
    assert refused.status_code == 422
    assert len(page_audit.pages) >= 6


# --- error pages ------------------------------------------------------------------------------------

def test_the_error_pages_pass(app, client, login_as, session, open_tk2025, page_audit):
    from registry.security import csp_nonce

    assert client.post("/logout", data={}).status_code == 400  # the CSRF page
    assert client.get("/login/callback").status_code == 400  # login failed
    voter_client = login_as(f"bsn:{bsn('voter_haarlem_2')}")
    assert voter_client.get("/balie/TK2025/").status_code == 403  # no access
    assert voter_client.get("/verklaren/XX1999/").status_code == 404  # not found (online)
    # Pages that need a broken database or a flood of requests: rendered as their views render them.
    for template, context in (("errors/unavailable.html", {}), ("limits/too_many.html", {"minutes": 2}),
                              ("online/busy.html", {"retry_at": "12:00", "minutes": 1, "retry_form": None,
                                                    "election": open_tk2025})):
        with app.test_request_context("/"):
            page_audit.check(render_template(template, **context), csp_nonce(), template)
    assert len(page_audit.pages) >= 7


# --- the language switch ------------------------------------------------------------------------------

def test_the_language_switch_needs_no_script_and_returns_to_the_page(client, session, page_audit):
    page = html(client.get("/privacy"))
    link = re.search(r'href="(/taal/en\?[^"]+)" hreflang="en"', page).group(1).replace("&amp;", "&")
    switched = client.get(link)
    assert switched.status_code == 302 and urlsplit(switched.location).path == "/privacy"
    assert "steunregister_lang=en" in switched.headers["Set-Cookie"]
    back = client.get("/taal/nl?next=/privacy")
    assert urlsplit(back.location).path == "/privacy" and '<html lang="nl"' in html(client.get("/privacy"))


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "", "privacy"])
def test_the_language_switch_goes_nowhere_but_this_site(client, session, target):
    response = client.get("/taal/en", query_string={"next": target})
    assert response.status_code == 302 and response.location == "/"


def test_an_unknown_language_changes_nothing(client, session):
    response = client.get("/taal/xx?next=/privacy")
    assert response.status_code == 302 and "Set-Cookie" not in response.headers


# --- English -------------------------------------------------------------------------------------------

def test_english_is_a_full_second_language_with_the_legal_texts(app, client, session, open_tk2025, page_audit):
    english(client)
    start = html(client.get("/verklaren/"))
    for must in ("Support a party with a declaration of support", "<strong>cannot withdraw</strong>",
                 "<strong>neither of them counts</strong>", "Elections Act, section H 4(5)",
                 "section I 3", "section Z 4", "Criminal Code, article 126", "Skip to content", "Accessibility"):
        assert must in start, must
    assert "Een partij steunen met" not in start and "Naar de inhoud" not in start
    browser = voter(app, "voter_haarlem_2")
    english(browser)
    confirm_page = html(choose(browser, "Volt"))
    assert "Read this before you confirm" in confirm_page and "I support this list." in confirm_page
    unticked = html(browser.post(f"{CHOOSE}vastleggen", data=confirm_data(confirm_page, tick=False)))
    assert "There is 1 error in the form" in unticked and "Tick the box if you want to support" in unticked
    assert "the Dutch text applies" in html(client.get("/toegankelijkheid"))
    assert "article 6(1)(c)" in html(client.get("/privacy"))


def test_the_clerk_works_in_english_too(login_as, session, open_tk2025, page_audit):
    clerk = login_as("clerk:GM0392")
    english(clerk)
    page = html(clerk.get("/balie/TK2025/"))
    assert "Record a declaration of support" in page and "BSN (citizen service number)" in page and "Passport" in page
    wrong = html(step1(clerk, "999900184", document_type="rijbewijs", document_number="AB12"))
    assert "eleven test" in wrong and "There are 2 errors in the form" in wrong


def test_refusals_from_the_rules_speak_english_on_english_pages(app, login_as, session, open_tk2025, page_audit):
    """The sentences the recording service gives (not only the page around them) follow the language."""
    minor = voter(app, "minor")
    english(minor)
    page = html(minor.get(CHOOSE))
    assert "You will not yet be 18 on election day" in page and "nog geen 18 jaar" not in page
    clerk = login_as("clerk:GM0392")
    english(clerk)
    elsewhere = html(step1(clerk, bsn("voter_amsterdam_1")))
    assert "This person is not registered in this municipality" in elsewhere and "ingeschreven" not in elsewhere
    dutch = login_as("clerk:GM0392")  # no language chosen: Dutch, as before
    assert "Deze persoon staat niet ingeschreven in deze gemeente" in html(step1(dutch, bsn("voter_amsterdam_1")))


def test_every_text_on_the_pages_has_an_english_translation(tmp_path):
    import shutil
    import subprocess
    import sys

    from babel.messages.pofile import read_po

    project = Path(__file__).resolve().parent.parent
    pybabel = shutil.which("pybabel") or str(Path(sys.executable).parent / "pybabel")
    pot = tmp_path / "messages.pot"
    subprocess.run([pybabel, "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-o", str(pot),
                    "."], cwd=project, check=True, capture_output=True)
    with pot.open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with (project / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="en")
    have = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue if m.id}
    assert not wanted - set(have), f"not in messages.po (run pybabel update): {sorted(wanted - set(have))}"
    untranslated = [key for key, m in have.items() if key in wanted and (m.fuzzy or not all(
        m.string if isinstance(m.string, tuple) else (m.string,)))]
    assert not untranslated, f"without an English text: {untranslated}"


@pytest.mark.parametrize("catalogue", [None, b'msgid "x"\nmsgstr "\xff\xfe"\n'], ids=["missing", "broken"])
def test_without_a_catalogue_the_pages_stay_dutch_and_say_so(app_config, session, tmp_path, monkeypatch, catalogue):
    from app import create_app
    from registry import i18n

    folder = tmp_path / "translations" / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    if catalogue is not None:
        (folder / "messages.po").write_bytes(catalogue)  # not UTF-8: never compiles
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path / "translations")
    dutch_only = create_app(app_config)
    client = dutch_only.test_client()
    assert "steunregister_lang" not in client.get("/taal/en?next=/").headers.get("Set-Cookie", "")
    client.set_cookie("steunregister_lang", "en")
    page = html(client.get("/privacy"))
    assert '<html lang="nl"' in page and "Privacyverklaring" in page and 'hreflang="en"' not in page


def test_a_missing_compiled_catalogue_is_compiled_at_start(app_config, session, tmp_path, monkeypatch):
    import shutil

    from app import create_app
    from registry import i18n

    project = Path(__file__).resolve().parent.parent
    target = tmp_path / "translations" / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(project / "translations" / "en" / "LC_MESSAGES" / "messages.po", target / "messages.po")
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path / "translations")
    client = create_app(app_config).test_client()
    assert (target / "messages.mo").exists()
    client.set_cookie("steunregister_lang", "en")
    assert "Privacy statement" in html(client.get("/privacy"))


def test_an_english_clerk_reads_list_names_and_refusals_in_english(login_as, session, open_tk2025, page_audit):
    """Step 2, the receipt and the refusals say "List 1: …" and English sentences on English pages; the
    receipt PDF, a document of the Kieswet, stays Dutch."""
    from tests.support.pdf_tags import pdf_text

    clerk = login_as("clerk:GM0392")
    english(clerk)
    step2 = html(step1(clerk, bsn("voter_haarlem_1")))
    assert "List 1: PVV (Partij voor de Vrijheid)" in step2 and "Lijst 1:" not in step2
    receipt_url = confirm(clerk, step2).headers["Location"]
    receipt = html(clerk.get(receipt_url))
    assert re.search(r"<dd>List \d+: Volt</dd>", receipt) and "Lijst " not in receipt
    assert re.search(r"Lijst \d+: Volt", pdf_text(clerk.get(receipt_url + ".pdf").data))

    for case, english_text, dutch_text in (
            ("not_in_brp", "This person is not registered in this municipality", "niet ingeschreven"),
            ("deceased", "This person is registered as deceased in the BRP", "overleden"),
            ("voter_haarlem_1", "has already made a declaration of support", "al een ondersteuningsverklaring")):
        refused = html(step1(clerk, bsn(case)))
        assert english_text in refused and dutch_text not in refused, refused[refused.find("<main"):][:1500]


def test_a_refusal_the_core_gives_in_dutch_is_shown_in_the_pages_language(app):
    """registry/declarations/messages.py: the page's language decides, whatever language the recording core
    answered in; a sentence it does not know is shown as the core gave it."""
    from flask_babel import refresh

    from registry.declarations.messages import refusal_message
    from registry.declarations.services import DeclarationRefused, Refusal

    decided = DeclarationRefused(Refusal.WINDOW_CLOSED, "Het centraal stembureau heeft al over de lijsten beslist "
                                 "(art. I 4). Er worden geen verklaringen meer vastgelegd. Er is niets vastgelegd.")
    elsewhere = DeclarationRefused(Refusal.NOT_REGISTERED_HERE, "Niet hier ingeschreven (andere woorden).")
    minor = DeclarationRefused(Refusal.NOT_ELIGIBLE, "Te jong.", reason="underage")
    unknown = DeclarationRefused(Refusal.UNKNOWN_LIST, "Lijst 99 bestaat niet in TK2025.")
    with app.test_request_context("/", headers={"Cookie": "steunregister_lang=en"}):
        assert refusal_message(decided).startswith("The central electoral committee has already decided")
        assert refusal_message(elsewhere).startswith("This person is not registered in this municipality")
        assert "18" in refusal_message(minor) and "Te jong" not in refusal_message(minor)
        assert refusal_message(unknown) == "Lijst 99 bestaat niet in TK2025."
    with app.test_request_context("/"):
        refresh()  # the suite's app context outlives the request: forget the English locale cached on g
        assert refusal_message(elsewhere).startswith("Deze persoon staat niet ingeschreven in deze gemeente.")


def test_pages_show_a_lists_name_in_the_pages_language():
    """A list's label is Dutch where it is stored and printed ("Lijst 1: …"); a page template shows it
    through ``page_list_label`` or the ``list_label`` filter, so English pages read "List 1: …"."""
    templates = Path(__file__).resolve().parent.parent / "templates"
    raw = re.compile(r"\b([\w.]+)\.(label|list_label)\b(?!\s*\(|\.text|\s*\|\s*list_label)")
    found = [f"{path.relative_to(templates)}: {m.group(0)}" for path in templates.rglob("*.html")
             if "pdf" not in path.parts for m in raw.finditer(path.read_text(encoding="utf-8"))
             if m.group(1) not in ("demo", "f")]  # the demo's phase, a form field: no list
    assert not found, found


def test_the_counter_overview_counts_one_in_the_singular_in_both_languages(login_as, session, open_tk2025,
                                                                           page_audit):
    """The count was the election's name to the plural rule: always "verklaringen" in Dutch, and a 500
    on the English page."""
    clerk = login_as("clerk:GM0392")
    confirm(clerk, html(step1(clerk, bsn("voter_haarlem_1"))))
    dutch = html(clerk.get("/balie/TK2025/overzicht"))
    assert ": 1 verklaring vastgelegd aan deze balie." in dutch
    english(clerk)
    page = clerk.get("/balie/TK2025/overzicht")
    assert page.status_code == 200 and ": 1 declaration recorded at this counter." in html(page)
    assert re.search(r"<td>List \d+: Volt</td>", html(page))


def test_error_pages_follow_the_pages_language(client, session, page_audit):
    english(client)
    missing = client.get("/bestaat-niet")
    assert missing.status_code == 404 and '<html lang="en"' in html(missing)
    assert "<h1>Page not found</h1>" in html(missing) and "Pagina niet gevonden" not in html(missing)
    assert ">Go to the start page<" in html(missing) and "Naar de startpagina" not in html(missing)
