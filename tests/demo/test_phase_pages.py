"""Every page knows the phase (issue 16): the demo election moved through its calendar with the demo
calendar, and what the voter, the clerk and the party agent read in each phase."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from registry.calendar_utils import dutch_date, dutch_datetime
from registry.csb.phase import countdown, election_phase
from registry.db import set_clock_offset, utcnow
from registry.elections.models import CandidateList, Election
from tests.auth.helpers import login
from tests.demo.conftest import advance
from tests.online.helpers import confirm_data, csrf, digid_login, html

PASSPORT = {"document_type": "paspoort", "document_number": "NW4K82PL1"}


def voter(app: Any, case: str, election: Election) -> Any:
    client = app.test_client()
    assert digid_login(client, case, next_url=f"/verklaren/{election.identifier}/").status_code == 302
    return client


def declare_online(app: Any, case: str, election: Election) -> None:
    client = voter(app, case, election)
    url = f"/verklaren/{election.identifier}/"
    page = html(client.get(url))
    value = re.search(r'name="list_id"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="list_id"', page)
    confirm = client.post(f"{url}bevestigen", data={"csrf_token": csrf(page),
                                                    "list_id": value.group(1) or value.group(2)})
    assert client.post(f"{url}vastleggen", data=confirm_data(html(confirm))).status_code == 303


def clerk_start(app: Any, election: Election) -> str:
    client = app.test_client()
    login(client, "clerk:GM0392")  # Haarlem, kieskring 10
    return html(client.get(f"/balie/{election.identifier}/"))


def short_list(session: Any, election: Election) -> CandidateList:
    return session.scalar(select(CandidateList).where(CandidateList.election_id == election.id,
                                                      CandidateList.exempt.is_(False))
                          .order_by(CandidateList.number).limit(1))


def agent_page(app: Any, election: Election, candidate_list: CandidateList) -> tuple[Any, str]:
    client = app.test_client()
    login(client, f"agent:{candidate_list.id}")
    return client, html(client.get(f"/partij/{election.identifier}/lijst/{candidate_list.id}"))


def test_voter_clerk_and_party_agent_read_the_phase_from_window_to_purge(app, cli, session, demo):
    # --- open: a Haarlem voter declares online; the clerk is not warned -------------------------------
    declare_online(app, "voter_haarlem_1", demo)
    assert "Hersteltermijn" not in clerk_start(app, demo)
    assert "termijn voor ondersteuningsverklaringen is gesloten" not in clerk_start(app, demo)

    # --- nomination day passed: the clerk reads it before typing a BSN -------------------------------
    advance(cli, "--to", "closed")
    page = clerk_start(app, demo)
    assert "de termijn voor ondersteuningsverklaringen is gesloten sinds" in page
    assert f"{dutch_date(demo.nomination_date)}, 17.00 uur" in page
    assert "U hoeft geen BSN in te voeren" in page
    start = html(app.test_client().get("/verklaren/"))
    assert "De termijn is voorbij" in start

    # --- repair day 1: the deadline is the repair's, and the pages say why only some lists -----------
    advance(cli, "--to", "repair-1")
    session.rollback()
    phase = election_phase(session, demo)
    deadline = dutch_datetime(phase.calendar.repair_ends)
    assert deadline.endswith("15.00 uur")
    start = html(app.test_client().get("/verklaren/"))
    assert f"tot {deadline}" in start and "hersteltermijn, Kieswet artikel I 2" in start
    assert "Hersteldag 1" in start and "van 09.00 uur tot 17.00 uur (nu)" in start
    assert "Hersteldag 3" in start and "van 09.00 uur tot 15.00 uur" in start
    choose = html(voter(app, "voter_haarlem_2", demo).get(f"/verklaren/{demo.identifier}/"))
    assert "Waarom staan hier maar een paar lijsten?" in choose
    assert f"U kunt tot {deadline} een verklaring afleggen" in choose
    exempt = session.scalar(select(CandidateList.designation).where(CandidateList.election_id == demo.id,
                                                                    CandidateList.exempt.is_(True)).limit(1))
    assert exempt not in choose  # an exempt list has no shortage, so it is not offered in the repair

    page = clerk_start(app, demo)
    assert f"Hersteltermijn (art. I 2): tot {deadline}" in page
    first = short_list(session, demo)
    assert re.search(r"In kieskring 10 kunnen nog \d+ lijsten worden gesteund:", page)
    assert f"<li>{first.label}</li>" in page and f"<li>Lijst {exempt}" not in page

    client, page = agent_page(app, demo, first)
    assert "Verzuim: te weinig verklaringen (artikel I 2)" in page
    assert re.search(r'<tr data-kieskring="10"><th scope="row">10 Haarlem</th><td>\d+</td><td>30</td>', page)
    assert "Het herstel eindigt op" in page and countdown(utcnow(), phase.calendar.repair_ends)[:6] in page
    assert "nog 2 dagen en 5 uur" in page  # day 1, 10.00 uur to day 3, 15.00 uur
    assert "Hersteldag 2" in page
    notice = client.get(f"/partij/{demo.identifier}/lijst/{first.id}/verzuim.pdf")
    assert notice.status_code == 200 and notice.mimetype == "application/pdf"
    # Another party's notice stays closed to this agent.
    other = session.scalar(select(CandidateList).where(CandidateList.election_id == demo.id,
                                                       CandidateList.id != first.id).limit(1))
    assert client.get(f"/partij/{demo.identifier}/lijst/{other.id}/verzuim.pdf").status_code in (403, 404)

    # --- decided: the party agent reads the decision per kieskring ---------------------------------
    advance(cli, "--to", "decided")
    _client, page = agent_page(app, demo, first)
    assert "Beslissing per kieskring (artikel I 4)" in page
    assert re.search(r'<tr data-kieskring="10"><th scope="row">10 Haarlem</th>\s*<td>\d+</td><td>30</td>\s*'
                     r'<td><strong>ongeldig</strong></td>', page)
    assert "Het herstel eindigt op" not in page

    # --- purged: the voter who declared reads that it was destroyed, not that they never declared ----
    advance(cli, "--to", "purged")
    mine = html(voter(app, "voter_haarlem_1", demo).get("/mijn-verklaring"))
    assert "De verklaringen voor deze verkiezing zijn op" in mine and "vernietigd" in mine
    assert "Kieswet, artikel I 19" in mine
    assert "U hebt nog geen ondersteuningsverklaring afgelegd" not in mine
    start = html(app.test_client().get("/verklaren/"))
    assert "de verklaringen zijn vernietigd (Kieswet, artikel I 19)" in " ".join(start.split())


def test_between_two_repair_days_the_voter_learns_when_the_next_one_starts(app, cli, session, demo):
    advance(cli, "--to", "repair-1")
    session.rollback()
    phase = election_phase(session, demo)
    day1, day2 = phase.calendar.repairs[0], phase.calendar.repairs[1]
    set_clock_offset(timedelta(0))
    set_clock_offset(day1.ends_at + timedelta(hours=2) - utcnow())  # 19.00 uur on day 1
    page = html(voter(app, "voter_haarlem_2", demo).get(f"/verklaren/{demo.identifier}/"))
    assert "Nu gesloten: de volgende hersteldag komt nog" in page
    assert f"De volgende hersteldag is {dutch_date(day2.starts_at)}, van 09.00 uur tot 17.00 uur" in page
    clerk = clerk_start(app, demo)
    assert f"Nu gesloten. De volgende hersteldag is {dutch_date(day2.starts_at)}" in clerk
