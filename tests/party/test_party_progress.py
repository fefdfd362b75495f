"""Progress from aggregates: the party sees a new declaration within seconds (here PROGRESS_MAX_AGE is
0.5 s; the default is 5 s, the promise 10 s), and the declarations are not counted on every view. The
whole voter journey runs through the mock DigiD first."""

from __future__ import annotations

import re
import time

from registry.db import db
from registry.problems import PROBLEM_BASE
from tests.auth.helpers import auth_header
from tests.conftest import bsn
from tests.online.helpers import CHOOSE, START, CountingQueries, choose, confirm_data, list_id, voter
from tests.party.helpers import at_counter, html, row


def test_the_voter_journey_from_start_page_to_receipt_and_the_party_sees_it_within_10_seconds(
        app, client, login_as, session, open_tk2025):
    agent = login_as("agent:Volt")
    volt_page = f"/partij/TK2025/lijst/{list_id('Volt')}"
    assert row(html(agent.get(volt_page)), 10)["valid"] == "0"

    start = html(client.get(START))  # the public start page, then "Inloggen met DigiD"
    login_link = re.search(r'href="(/login/digid\?next=[^"]+)"', start).group(1)
    browser = voter(app, "voter_haarlem_1")
    assert "next=/verklaren/TK2025/" in login_link
    confirm_page = html(choose(browser, "Volt"))
    done = browser.post(f"{CHOOSE}vastleggen", data=confirm_data(confirm_page))
    receipt = html(browser.get(done.location))
    code = re.search(r'class="receipt-code">([A-Z0-9-]+)<', receipt).group(1)
    assert browser.get(f"{CHOOSE}ontvangstbewijs/{code}.pdf").data.startswith(b"%PDF")
    recorded = time.monotonic()

    seen = None
    while time.monotonic() - recorded < 10:
        if row(html(agent.get(volt_page)), 10)["valid"] == "1":
            seen = time.monotonic() - recorded
            break
        time.sleep(0.1)
    assert seen is not None and seen < 10
    assert "Brouwer" not in html(agent.get(volt_page))


def test_views_read_the_aggregates_and_do_not_count_every_time(app, login_as, api_token, session, open_tk2025):
    settings = app.config["STEUNREGISTER"]
    settings["PROGRESS_MAX_AGE"] = "60"
    token = api_token("agent:Volt")
    volt = list_id("Volt")
    page, api = f"/partij/TK2025/lijst/{volt}", f"/api/v1/elections/TK2025/lists/{volt}/progress"
    with CountingQueries(db.engine) as counted:
        agent = login_as("agent:Volt")  # lands on /partij, the first view of the election's progress
        for _ in range(5):
            assert agent.get(page).status_code == 200
            assert agent.get(api, headers=auth_header(token)).status_code == 200
        agent.get("/partij")
    assert counted.count == 1, counted.statements  # the first view computed; the rest read

    at_counter("voter_haarlem_1", "Volt")
    with CountingQueries(db.engine) as counted:
        stale = row(html(agent.get(page)), 10)["valid"]
    assert (stale, counted.count) == ("0", 0)  # within the maximum age: the stored numbers, no count

    settings["PROGRESS_MAX_AGE"] = "0"  # now the stored numbers are too old
    with CountingQueries(db.engine) as counted:
        fresh = agent.get(api, headers=auth_header(token)).get_json()
    assert counted.count == 1
    assert fresh["kieskringen"] == [{"kieskring": 10, "name": "Haarlem", "version": 1, "declarations": 1, "valid": 1,
                                     "void_multiple": 0, "required": 30, "status": "short", "shortage": 29,
                                     "earlier_versions": 0}]
    assert fresh["refreshed_at"] and fresh["versions"][0]["declarations"] == 1


def test_only_one_request_recomputes_at_a_time(app, session, open_tk2025):
    """The compare-and-set: a refresh that read an older refreshed_at than the one now stored loses."""
    from datetime import timedelta

    from registry.db import utcnow
    from registry.progress.services import ensure_fresh, refresh

    election = open_tk2025
    first = ensure_fresh(db.session, election, timedelta(seconds=60))
    assert first is not None
    assert refresh(db.session, election.id, first - timedelta(seconds=1), utcnow()) is False  # someone was faster
    assert refresh(db.session, election.id, first, utcnow()) is True
    assert refresh(db.session, election.id, first, utcnow()) is False  # the same old value cannot win twice
    assert refresh(db.session, election.id, None, utcnow()) is False  # nor a second "first ever" refresh


def test_the_api_for_agents_and_the_csb(client, login_as, api_token, session, open_tk2025):
    at_counter("voter_haarlem_1", "DENK")
    volt, denk = list_id("Volt"), list_id("DENK")
    base = "/api/v1/elections/TK2025/lists"
    csb = api_token("csb:TK2025")
    assert client.get(f"{base}/{denk}/progress", headers=auth_header(csb)).get_json()["kieskringen"][0]["valid"] == 1
    volt_agent = api_token("agent:Volt")
    refused = client.get(f"{base}/{denk}/progress", headers=auth_header(volt_agent))
    assert refused.status_code == 403 and refused.get_json()["type"] == PROBLEM_BASE + "forbidden"
    assert "DENK" not in refused.get_data(as_text=True)
    assert client.get(f"{base}/{volt}/progress", headers=auth_header(volt_agent)).status_code == 200
    unknown = client.get("/api/v1/elections/XX1999/lists/1/progress", headers=auth_header(csb))
    assert unknown.status_code == 403  # the CSB of TK2025 learns nothing about another election
    missing = client.get(f"{base}/999999/progress", headers=auth_header(csb))
    assert missing.status_code == 404 and missing.get_json()["type"] == PROBLEM_BASE + "unknown-list"
    voter_token = api_token(f"bsn:{bsn('voter_haarlem_1')}")
    assert client.get(f"{base}/{volt}/progress", headers=auth_header(voter_token)).status_code == 403


def test_a_polling_dashboard_costs_one_statement_and_sees_every_change(app, api_token, session, open_tk2025):
    """Between two refreshes of the aggregates the answer stands: kept per process and checked with one
    statement. A change to the list (here: the CSB records it as exempt, H 4 lid 8) shows at once."""
    from sqlalchemy import event

    from registry.db import begin_write
    from registry.elections.models import CandidateList

    app.config["STEUNREGISTER"]["PROGRESS_MAX_AGE"] = "60"
    token, volt = api_token("agent:Volt"), list_id("Volt")
    api = f"/api/v1/elections/TK2025/lists/{volt}/progress"
    client = app.test_client()
    first = client.get(api, headers=auth_header(token)).get_json()
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "COMMIT", "SELECT 1")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        again = client.get(api, headers=auth_header(token)).get_json()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert again == first and len(statements) == 1, statements
    assert first["exempt"] is False

    begin_write(session)
    session.get(CandidateList, volt).exempt = True
    session.commit()
    changed = client.get(api, headers=auth_header(token)).get_json()
    assert changed["exempt"] is True and changed["kieskringen"][0]["status"] == "exempt"
