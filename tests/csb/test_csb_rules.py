"""Who may see the CSB's pages, what the database itself refuses, and clear answers to bad input."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from registry.csb import services as csb
from registry.db import db, utcnow
from registry.declarations.models import Declaration
from tests.auth.helpers import bearer_token, login
from tests.conftest import import_eml
from tests.csb.test_csb_journey import list_id
from tests.online.helpers import html


@pytest.fixture
def recorded(session, three_for_volt):
    """Volt's three paper declarations (conftest), and another election with a CSB of its own."""
    import_eml(session, "Kandidatenlijsten_GR2026_Assen.eml.xml")
    return three_for_volt


def test_only_members_of_this_elections_csb_see_its_pages(app, recorded):
    clerk = app.test_client()
    login(clerk, "clerk:GM0392")
    assert clerk.get("/csb/TK2025").status_code == 403
    other = app.test_client()
    login(other, "csb:GR2026_Assen")
    page = other.get("/csb/TK2025")
    assert page.status_code == 403 and "geen lid van het centraal stembureau voor TK2025" in html(page)
    assert other.get(f"/csb/TK2025/verklaringen/{recorded[0]}").status_code == 403
    member = app.test_client()
    login(member, "csb:TK2025")
    assert member.get("/csb/TK2025").status_code == 200
    # Another election's pages are refused before anything is looked up, existing or not.
    assert member.get("/csb/NOPE2099").status_code == 403


def test_the_examination_api_is_for_this_elections_csb_only(app, recorded):
    def get(hint: str):
        token = bearer_token(app.test_client(), hint)
        return app.test_client().get("/api/v1/elections/TK2025/examination",
                                     headers={"Authorization": f"Bearer {token}"})

    assert get("clerk:GM0392").status_code == 403
    refused = get("csb:GR2026_Assen")
    assert refused.status_code == 403 and refused.headers["Content-Type"] == "application/problem+json"
    answer = get("csb:TK2025")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["phase"] == "collecting" and body["frozen"] is False and body["totals"]["declarations"] == 3
    volt = next(item for item in body["lists"] if item["label"].endswith("Volt"))
    row = next(r for r in volt["kieskringen"] if r["kieskring"] == 10)
    assert (row["valid"], row["required"], row["status"], row["shortage"]) == (3, 30, "short", 27)
    assert "name" not in str(body).lower().replace("district_name", "")  # counts, never names


def test_unknown_things_are_clear_pages_not_errors(app, recorded):
    member = app.test_client()
    login(member, "csb:TK2025")
    for path in ("/csb/TK2025/verklaringen/999999", "/csb/TK2025/lijsten/999999",
                 "/csb/TK2025/documenten/onderzoek.pdf", "/csb/TK2025/documenten/iets.pdf",
                 "/csb/TK2025/beslissing.json", f"/csb/TK2025/lijsten/{list_id('Volt')}/verzuim.pdf",
                 f"/csb/TK2025/lijsten/{list_id('Volt')}/inzage.pdf"):
        answer = member.get(path)
        assert answer.status_code == 404, path
        assert "<h1" in html(answer) and "Niet gevonden" in html(answer), path


def test_a_ruling_needs_a_reason_and_is_made_once(app, session, recorded):
    member = app.test_client()
    login(member, "csb:TK2025")
    path = f"/csb/TK2025/verklaringen/{recorded[1]}"
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html(member.get(path))).group(1)
    short = member.post(path, data={"csrf_token": token, "reason": "nee"})
    assert short.status_code == 422 and "Een reden is 5 tot 500 tekens." in html(short)
    asked = member.post(path, data={"csrf_token": token, "reason": "Geen geldig identiteitsbewijs"})
    assert asked.status_code == 200 and "Ja, ongeldig verklaren" in html(asked)  # the confirmation step
    assert member.post(path, data={"csrf_token": token, "reason": "Geen geldig identiteitsbewijs",
                                   "confirmed": "1"}).status_code == 303
    session.rollback()
    with pytest.raises(csb.CsbRefused, match="al ongeldig verklaard"):
        csb.rule_invalid(session, recorded_election(session), recorded[1],
                         "Nog een keer", "csb:test")
    rows = csb.examine(session, recorded_election(session)).rows_for(list_id("Volt"))
    assert next(r for r in rows if r.kieskring == 10).void_other == 1


def recorded_election(session):
    from registry.elections.models import Election

    return session.scalar(select(Election).where(Election.identifier == "TK2025"))


def test_sessions_keep_their_order_and_time(app, session, recorded):
    election = recorded_election(session)
    with pytest.raises(csb.CsbRefused, match="pas worden gehouden vanaf"):
        csb.hold_examination(session, election, "csb:test")  # the window is still open
    with pytest.raises(csb.CsbRefused, match="Houd eerst het onderzoek"):
        csb.hold_decision(session, election, "csb:test")
    with pytest.raises(csb.CsbRefused, match="nog geen beslissing"):
        csb.record_final(session, election, "csb:test", "geen beroep ingesteld")
    with pytest.raises(csb.CsbRefused, match="onherroepelijk"):
        csb.purge(session, election, "csb:test", execute=True)
    session.rollback()
    assert session.scalar(select(Declaration.name_ciphertext).where(Declaration.id == recorded[0])) is not None


def test_the_database_refuses_edits_that_are_not_the_purge(app, session, recorded):
    statements = [
        "UPDATE declarations SET voter_key = 'someone-else' WHERE id = :id",
        "UPDATE declarations SET receipt_code = 'ABCD-EFGH-JKLM' WHERE id = :id",
        # a neutral pseudonym while the name is still there: not the purge either
        "UPDATE declarations SET voter_key = 'purged-1' WHERE id = :id",
        "UPDATE declarations SET list_id = list_id + 1, name_ciphertext = NULL WHERE id = :id",
        "DELETE FROM declarations WHERE id = :id",
    ]
    for statement in statements:
        with pytest.raises(DBAPIError):
            db.session.execute(text(statement), {"id": recorded[0]})
            db.session.flush()
        db.session.rollback()
    # What the purge does is allowed, in its order: first the name, then the neutral values.
    db.session.execute(text("UPDATE declarations SET name_ciphertext = NULL, receipt_code = 'purged-' || id "
                            "WHERE id = :id"), {"id": recorded[0]})
    db.session.execute(text("UPDATE declarations SET voter_key = 'purged-7' WHERE id = :id"), {"id": recorded[0]})
    db.session.rollback()


def test_csb_records_cannot_be_edited_or_deleted(app, session, recorded, clock):
    election = recorded_election(session)
    session.rollback()
    csb.rule_invalid(session, election, recorded[0], "Handtekening ontbreekt", "csb:test")
    for statement in ("UPDATE csb_rulings SET reason = 'anders'", "DELETE FROM csb_rulings"):
        with pytest.raises(DBAPIError):
            db.session.execute(text(statement))
            db.session.flush()
        db.session.rollback()


def test_the_overview_charts_the_days_and_the_list_page_the_kieskringen(app, session, recorded):
    from registry.calendar_utils import dutch_date

    member = app.test_client()
    login(member, "csb:TK2025")
    overview = html(member.get("/csb/TK2025"))
    today = dutch_date(utcnow())
    # The chart is hidden from screen readers; the table beside it carries the same numbers.
    assert 'class="per-day"' in overview and re.search(rf"<th scope=\"row\">{today}</th><td>3</td>", overview)
    assert '<svg aria-hidden="true"' in overview
    page = html(member.get(f"/csb/TK2025/lijsten/{list_id('Volt')}"))
    assert "Geldige verklaringen per kieskring" in page and ">3 / 30<" in page
