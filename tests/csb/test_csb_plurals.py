"""One is singular on paper too: the processen-verbaal of one declaration say "1 verklaring", read from
the PDFs as issued (pdftotext)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from registry.csb import services as csb
from registry.csb.models import CsbSession
from registry.declarations.services import DeclarationRequest, record_declaration
from registry.domain import Channel
from registry.elections.models import CandidateList, Election
from registry.people import person_registry
from tests.conftest import TK2025_OPEN
from tests.support.pdf_tags import pdf_text

HOUR = timedelta(hours=1)


def report(session, election: Election, kind: str) -> str:
    row = session.scalar(select(CsbSession).where(CsbSession.election_id == election.id, CsbSession.kind == kind))
    return " ".join(pdf_text(row.report_pdf).split())  # one line: pdftotext keeps the page's line breaks


def test_the_reports_of_one_declaration_say_it_in_the_singular(app, session, tk2025, csb_people):
    volt = session.scalar(select(CandidateList.id).where(CandidateList.designation == "Volt"))
    record_declaration(session, person_registry(), DeclarationRequest(
        election="TK2025", list_id=volt, channel=Channel.COUNTER, bsn=csb_people["haarlem"][0], actor="clerk:GM0392:E1",
        counter_municipality="GM0392", document_type="paspoort", document_number="NW4K82PL1"), now=TK2025_OPEN)
    election = session.scalar(select(Election).where(Election.identifier == "TK2025"))

    with app.test_request_context("/"):
        csb.hold_examination(session, election, "csb:test",
                             now=csb.calendar(election, csb.sessions(session, election)).examination_from + HOUR)
        examination = report(session, election, "examination")
        assert "In totaal: 1 verklaring, waarvan 1 geldig" in examination
        assert "1 verklaringen" not in examination

        csb.hold_decision(session, election, "csb:test",
                          now=csb.calendar(election, csb.sessions(session, election)).decision_from + HOUR)
        moment = csb.calendar(election, csb.sessions(session, election)).final_from + HOUR
        csb.record_final(session, election, "csb:test", "geen beroep ingesteld", now=moment)
        csb.purge(session, election, "csb:test", execute=True, now=moment + HOUR)
        destruction = report(session, election, "purge")
    for singular in ("1 versleutelde naam;", "1 pseudoniem (", "de ontvangstcode van 1 verklaring;"):
        assert singular in destruction, singular
    assert "1 verklaringen" not in destruction and "1 pseudoniemen" not in destruction
