"""What a user notices (issue 16): one date style on pages ("5 december 2026"), English dates on English
pages, one name for the receipt code, and plurals that agree with their number on the command line."""

from __future__ import annotations

import re
from datetime import date

from registry.calendar_utils import dutch_date
from tests.conftest import import_eml
from tests.online.helpers import declare, forget_g_after_each_request, html, voter

MONTHS_NL = ("januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december")


def test_the_command_line_says_1_gemeente_and_20_kieskringen(cli, session):
    import_eml(session, "Verkiezingsdefinitie_GR2026_Stadskanaal.eml.xml")
    shown = cli.invoke(args=["election", "show", "GR2026_Stadskanaal"]).output
    assert "(1 gemeente)" in shown and "(1 gemeenten)" not in shown


def test_pages_write_dates_one_way_and_english_pages_in_english(app, session, tk2025):
    from tests.online.helpers import open_window

    forget_g_after_each_request(app)
    open_window(session, online=True)
    home = html(app.test_client().get("/"))
    assert f"stemming op {dutch_date(date(2025, 10, 29))}" in home  # "29 oktober 2025", not 29-10-2025
    assert not re.search(r"\b\d{2}-\d{2}-\d{4}\b", home)

    browser = voter(app, "voter_haarlem_2")
    receipt = html(browser.get(declare(browser, "Volt").headers["Location"]))
    assert "Uw ontvangstcode is" in receipt and "verificatiecode" not in receipt  # one name, everywhere
    mine = html(browser.get("/mijn-verklaring"))
    assert "Ontvangstcode" in mine and re.search(rf"\d{{1,2}} ({MONTHS_NL}) \d{{4}}, \d{{2}}\.\d{{2}} uur", mine)

    assert browser.get("/taal/en?next=/").status_code == 302
    english = html(browser.get("/mijn-verklaring"))
    assert "Receipt code" in english
    assert re.search(r"\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|"
                     r"December) \d{4}, \d{2}:\d{2}", english)
    assert not re.search(rf"\d ({MONTHS_NL}) \d{{4}}", english)
