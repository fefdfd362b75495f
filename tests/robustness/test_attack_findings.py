"""Findings of an attack run against the pages, each performed as the attacker did it."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("target", ["/x%0d%0aSet-Cookie:%20taal=evil", "/x%0aLocation:%20https://evil.example",
                                    "/balie%00", "/x%7f", "/x%c2%85y"])
def test_control_characters_in_the_language_switch_target_get_a_400_page(client, target):
    response = client.get(f"/taal/en?next={target}")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    assert "regeleinde" in response.get_data(as_text=True) or "stuurteken" in response.get_data(as_text=True)
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers


def test_the_language_switch_still_goes_back_to_an_ordinary_page(client):
    response = client.get("/taal/en?next=/verklaren/TK2025/%3Fa%3Db")
    assert response.status_code == 302 and response.location == "/verklaren/TK2025/?a=b"


def test_a_clerk_cannot_open_a_residents_online_declaration_at_the_counter(app, session, open_tk2025, login_as):
    from tests.online.helpers import declare, voter

    home = voter(app, "voter_haarlem_1")
    receipt = declare(home, "Volt")
    assert receipt.status_code == 303
    code = receipt.location.rstrip("/").rsplit("/", 1)[-1]
    assert home.get(receipt.location).status_code == 200  # the voter's own receipt works
    clerk = login_as("clerk:GM0392")  # the clerk of the voter's own municipality
    for path in (f"/balie/TK2025/verklaring/{code}", f"/balie/TK2025/verklaring/{code}.pdf"):
        answer = clerk.get(path)
        assert answer.status_code == 404 and "Volt" not in answer.get_data(as_text=True)


RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "Partij\u202eeteN" shows as "PartijNete"


def test_a_party_cannot_register_a_designation_with_bidi_controls(session, open_tk2025, login_as):
    import io

    from sqlalchemy import select

    from registry.elections.models import CandidateList
    from tests.online.helpers import csrf, html
    from tests.party.helpers import nomination_210

    agent = login_as("agent:Volt")
    form = html(agent.get("/partij/TK2025/bestand"))
    upload = agent.post("/partij/TK2025/bestand", data={
        "csrf_token": csrf(form), "file": (io.BytesIO(nomination_210(f"Nieuwe{RLO} Partij")), "lijst.eml.xml")})
    assert upload.status_code == 422 and "schrijfrichting" in html(upload)
    typed = agent.post("/partij/TK2025/formulier", data={
        "csrf_token": csrf(html(agent.get("/partij/TK2025/formulier"))), "designation": f"Nieuwe{RLO} Partij",
        "kieskringen": ["10"], "candidates": "Jansen, A."})
    assert typed.status_code == 400 and "U+202E" in html(typed)
    session.rollback()
    assert not [d for d in session.scalars(select(CandidateList.designation)) if d and RLO in d]


def test_a_stored_designation_with_bidi_controls_is_shown_without_them(app, session, open_tk2025):
    from registry.elections.services import import_file
    from tests.online.helpers import CHOOSE, html, voter
    from tests.party.helpers import nomination_210

    import_file(session, nomination_210(f"Nieuwe{RLO} Partij"), "lijst.eml.xml", "admin")  # the trusted import
    page = html(voter(app, "voter_haarlem_1").get(CHOOSE))
    assert "Nieuwe Partij" in page and RLO not in page
