"""The voter's proof in a real browser: with the receipt code alone, the page's own script (SubtleCrypto)
recomputes the leaf and walks its audit path to the signed head; after the CSB's decision it says the
declaration is in the dossier the CSB used; a tampered head makes the check fail, in words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from registry.csb import services as csb
from registry.declarations.services import DeclarationRequest, record_declaration
from registry.domain import Channel
from registry.elections.models import CandidateList
from registry.people import person_registry
from tests.browser.person import Person
from tests.conftest import bsn

pytestmark = pytest.mark.browser

OUTCOME = "#proof-outcome-text"


def declare(session: Any, election: Any) -> str:
    volt = session.scalar(select(CandidateList.id).where(CandidateList.election_id == election.id,
                                                         CandidateList.designation == "Volt"))
    request = DeclarationRequest(election="TK2025", list_id=volt, channel=Channel.ONLINE,
                                 bsn=bsn("voter_haarlem_2"), actor="voter:test",
                                 attestation_extra={"acr": "substantieel"})
    return record_declaration(session, person_registry(), request).receipt_code


def test_the_voter_proves_inclusion_and_sees_a_tampered_head_fail(live_server: str, open_tk2025: Any, session: Any,
                                                                   page: Any, person: Person, audit: Any) -> None:
    code = declare(session, open_tk2025)
    page.goto(live_server + "/logboek/TK2025/bewijs")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staat mijn verklaring in het logboek?")
    audit.check(page, "logboek-bewijs-leeg")
    person.fill(page.get_by_label("Ontvangstcode"), code)
    person.click(page.get_by_role("button", name="Controleren"))
    expect(page.locator(OUTCOME)).to_have_text(re.compile("^Gelukt: uw verklaring staat in het logboek."))
    expect(page.locator("#proof-outcome")).to_have_attribute("data-result", "ok")
    audit.check(page, "logboek-bewijs")
    proof_url = page.url

    # The CSB examines and decides (I 1, I 4): the I 4 head is signed at once.
    held = csb.sessions(session, open_tk2025)
    csb.hold_examination(session, open_tk2025, "csb:TK2025:test", now=csb.calendar(open_tk2025, held).examination_from)
    held = csb.sessions(session, open_tk2025)
    csb.hold_decision(session, open_tk2025, "csb:TK2025:test", now=csb.calendar(open_tk2025, held).decision_from)
    page.goto(proof_url)
    expect(page.locator(OUTCOME)).to_have_text(
        "Gelukt: uw verklaring zit in het dossier dat het centraal stembureau heeft gebruikt.")
    expect(page.locator("dl.log-proof")).to_contain_text("beslissing (art. I 4)")
    audit.check(page, "logboek-bewijs-beslissing", docs="logboek-bewijs")

    # The same page, its I 4 head's root changed by one digit on the way: the browser refuses it.
    root = page.locator('[data-root="decision"]').inner_text().strip()
    tampered = root[:-1] + ("0" if root[-1] != "0" else "1")

    def tamper(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace(root, tampered))

    page.route(re.compile(r".*/logboek/TK2025/bewijs\?.*"), tamper)
    page.goto(proof_url)
    expect(page.locator(OUTCOME)).to_have_text(re.compile("^De controle is mislukt"))
    expect(page.locator("#proof-outcome")).to_have_attribute("data-result", "failed")
    audit.check(page, "logboek-bewijs-mislukt")

    page.unroute(re.compile(r".*/logboek/TK2025/bewijs\?.*"))
    page.goto(live_server + "/logboek/TK2025")
    expect(page.get_by_role("table", name=re.compile("^Vaste momenten"))).to_contain_text("beslissing (art. I 4)")
    audit.check(page, "logboek")
    audit.assert_clean()
