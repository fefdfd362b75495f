"""The printed documents (issue 16): the receipt, the H 4 form and the processen-verbaal are tagged PDF/UA
with language and title; the I 1 and I 4 reports open with a summary and close with a signature block;
the shortage notice names each kieskring by number and name."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from registry.elections.models import CandidateList, Election
from tests.auth.helpers import login
from tests.demo.conftest import advance
from tests.online.helpers import confirm_data, csrf, digid_login, html
from tests.support.pdf_tags import pdf_tags, pdf_text


def assert_tagged(data: bytes, title: str) -> None:
    assert data.startswith(b"%PDF")
    tags = pdf_tags(data)
    assert tags.tagged and tags.structure_tree, tags
    assert tags.language == "nl", tags
    assert tags.pdf_ua, tags
    assert title in tags.title, tags


def first_list(session: Any, election: Election, exempt: bool) -> CandidateList:
    return session.scalar(select(CandidateList).where(CandidateList.election_id == election.id,
                                                      CandidateList.exempt.is_(exempt))
                          .order_by(CandidateList.number).limit(1))


def test_receipt_h4_and_the_csb_reports_are_tagged_and_say_what_matters(app, cli, session, demo):
    short, exempt = first_list(session, demo, False), first_list(session, demo, True)
    # The receipt of an online declaration.
    voter = app.test_client()
    url = f"/verklaren/{demo.identifier}/"
    assert digid_login(voter, "voter_haarlem_1", next_url=url).status_code == 302
    page = html(voter.get(url))
    value = re.search(rf'value="(\d+)"[^>]*>\s*<label[^>]*>Lijst \d+: {re.escape(short.designation)}<', page)
    confirm = voter.post(f"{url}bevestigen", data={"csrf_token": csrf(page), "list_id": value.group(1)})
    done = voter.post(f"{url}vastleggen", data=confirm_data(html(confirm)))
    receipt = voter.get(done.headers["Location"] + ".pdf")
    assert receipt.status_code == 200
    assert_tagged(receipt.data, "")

    # The H 4 form a party agent prints for kieskring 10.
    agent = app.test_client()
    login(agent, f"agent:{short.id}")
    form = agent.get(f"/partij/{demo.identifier}/lijst/{short.id}/model-h4-kieskring-10.pdf")
    assert form.status_code == 200
    assert_tagged(form.data, "")

    # I 1, the shortage notice, I 4.
    advance(cli, "--to", "decided")
    member = app.test_client()
    login(member, f"csb:{demo.identifier}")
    examination = member.get(f"/csb/{demo.identifier}/documenten/onderzoek.pdf").data
    assert_tagged(examination, "Proces-verbaal onderzoek")
    text = " ".join(pdf_text(examination).split())
    assert text.index("Samenvatting") < text.index(f"{short.label} Kieskring")  # the summary comes first
    assert f"{short.label} tekort in alle 20 kieskringen" in text
    assert f"{exempt.label} vrijgesteld in alle 20 kieskringen" in text
    assert "Ondertekening" in text and "Voorzitter" in text and "Lid 4" in text

    decision = member.get(f"/csb/{demo.identifier}/documenten/beslissing.pdf").data
    assert_tagged(decision, "Proces-verbaal beslissing")
    text = " ".join(pdf_text(decision).split())
    assert text.index("Samenvatting") < text.index("Ondertekening")
    assert f"{short.label} ongeldig in alle 20 kieskringen" in text
    assert f"{exempt.label} geldig in alle 20 kieskringen (vrijgesteld)" in text
    assert "Aldus vastgesteld in de openbare zitting van het centraal stembureau op" in text

    notice = member.get(f"/csb/{demo.identifier}/lijsten/{short.id}/verzuim.pdf").data
    assert_tagged(notice, "Kennisgeving verzuim")
    text = " ".join(pdf_text(notice).split())
    assert "1 Groningen 0 30 30" in text and "10 Haarlem 1 30 29" in text and "20 Bonaire 0 10 10" in text
