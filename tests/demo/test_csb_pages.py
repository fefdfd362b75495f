"""The CSB sees rather than reads (issue 16): the overview's matrix of lists × kieskringen through the
demo calendar, its shortage filter, and the confirmation step before the purge from the CSB's pages."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from registry.csb.models import CsbSession
from registry.declarations.models import Declaration
from registry.elections.models import CandidateList, Election
from tests.auth.helpers import login
from tests.demo.conftest import advance
from tests.online.helpers import csrf, html


def member(app: Any, election: Election) -> Any:
    client = app.test_client()
    login(client, f"csb:{election.identifier}")
    return client


def cell(page: str, list_id: int, kieskring: int | str) -> re.Match[str]:
    row = re.search(rf'<tr data-list="{list_id}">(.*?)</tr>', page, re.S)
    assert row, f"no row for list {list_id}"
    found = re.search(rf'<td class="sr-cell sr-cell--(\w+)"(?: colspan="\d+")? data-kieskring="{kieskring}" '
                      rf'data-status="(\w+)">(.*?)</td>', row.group(1), re.S)
    assert found, f"no cell for kieskring {kieskring}"
    return found


def test_the_overview_is_a_matrix_of_lists_and_kieskringen(app, cli, session, demo):
    short = session.scalar(select(CandidateList).where(CandidateList.election_id == demo.id,
                                                       CandidateList.exempt.is_(False)).order_by(CandidateList.number))
    exempt = session.scalar(select(CandidateList).where(CandidateList.election_id == demo.id,
                                                        CandidateList.exempt.is_(True)).order_by(CandidateList.number))
    lists = session.scalar(select(func.count()).select_from(CandidateList).where(CandidateList.election_id == demo.id))
    client = member(app, demo)
    page = html(client.get(f"/csb/{demo.identifier}"))
    # One column per kieskring, by number, with the name for the screen reader and on hover.
    header = re.search(r'<table class="sr-matrix.*?<thead>(.*?)</thead>', page, re.S).group(1)
    assert header.count('<th scope="col">') == 21  # the list column and 20 kieskringen
    assert '<abbr title="Haarlem">10</abbr><span class="sr-only"> Haarlem</span>' in header
    assert page.count("<tr data-list=") == lists
    status, raw, text = cell(page, short.id, 10).groups()
    # Short by 30: the sign for the eye, the words for a screen reader; the colour is never alone.
    assert (status, raw) == ("short", "short")
    assert text == '0/30<br><span aria-hidden="true">−30</span><span class="sr-only">tekort 30</span>'
    assert cell(page, short.id, 20).group(3).startswith("0/10")  # Bonaire: 10 (rules.md §2)
    # An exempt list (H 4 lid 8 is about the aanduiding) is exempt everywhere: one cell says so for the row.
    status, raw, text = cell(page, exempt.id, "alle").groups()
    assert (status, raw, text) == ("exempt", "exempt", "in alle kieskringen: vrijgesteld (art. H 4 lid 8)")
    assert '<td class="sr-cell sr-cell--exempt" colspan="20"' in page

    # The shortage filter: only the lists that are short somewhere, which is what I 2 notifies.
    filtered = html(client.get(f"/csb/{demo.identifier}?toon=tekort"))
    assert f'<tr data-list="{short.id}">' in filtered and f'<tr data-list="{exempt.id}">' not in filtered
    assert '<option value="tekort" selected>' in filtered
    assert "Gemelde verzuimen" not in filtered  # the long list of shortages is gone; the filter replaces it

    # After the decision (I 4) each cell shows the decision.
    advance(cli, "--to", "decided")
    page = html(member(app, demo).get(f"/csb/{demo.identifier}"))
    assert " ".join(cell(page, short.id, 10).group(3).split()) == "0/30<br>ongeldig"
    assert cell(page, exempt.id, "alle").group(3) == "in alle kieskringen: geldig, vrijgesteld (art. H 4 lid 8)"


def test_the_purge_from_the_csb_pages_runs_dry_first_and_asks_to_confirm(app, cli, session, demo):
    advance(cli, "--to", "final")
    client = member(app, demo)
    overview = html(client.get(f"/csb/{demo.identifier}"))
    assert "Proefrun: wat wordt vernietigd?" in overview
    dry = client.post(f"/csb/{demo.identifier}/vernietiging", data={"csrf_token": csrf(overview)})
    page = html(dry)
    assert dry.status_code == 200 and "Bevestig: de verklaringen vernietigen (art. I 19)" in page
    assert "Dit kan niet ongedaan worden gemaakt." in page
    assert "0 verklaringen: de namen (0 nog bewaard) worden gewist." in page
    assert "De sleutel en het geheim van deze verkiezing worden verwijderd" in page
    assert "de processen-verbaal en de auditketen" in page  # what stays
    session.rollback()
    assert "purge" not in set(session.scalars(select(CsbSession.kind)))  # the dry run destroyed nothing

    done = client.post(f"/csb/{demo.identifier}/vernietiging", data={"csrf_token": csrf(page), "confirmed": "1"})
    assert done.status_code == 303
    after = html(client.get(done.headers["Location"]))
    assert "De verklaringen zijn vernietigd (art. I 19)." in after
    assert "Proces-verbaal van de vernietiging (PDF)" in after
    session.rollback()
    assert "purge" in set(session.scalars(select(CsbSession.kind)))
    again = client.post(f"/csb/{demo.identifier}/vernietiging", data={"csrf_token": csrf(after), "confirmed": "1"})
    assert again.status_code == 409 and "al vernietigd" in html(again)
    assert session.scalar(select(func.count()).select_from(Declaration)) == 0


def test_recording_final_names_the_ground_and_asks_first(app, cli, session, demo):
    advance(cli, "--to", "decided")
    client = member(app, demo)
    overview = html(client.get(f"/csb/{demo.identifier}"))
    early = client.post(f"/csb/{demo.identifier}/onherroepelijk",
                        data={"csrf_token": csrf(overview), "ground": "Geen beroep ingesteld"})
    assert early.status_code == 409 and "beroepstermijn" in html(early)  # refused before any confirmation
