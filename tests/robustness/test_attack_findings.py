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
