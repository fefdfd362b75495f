"""H 4 lid 8 in the demo: the exempt aanduidingen are exactly those that won seats at the basis named,
the previous Tweede Kamer election (29 October 2025); NSC, seated in 2023 but not in 2025, needs
declarations like any other list."""

from __future__ import annotations

from sqlalchemy import select

from registry.demo import PREVIOUS_ELECTION, SEATED_AT_PREVIOUS
from registry.elections.models import CandidateList


def test_the_demo_exempts_exactly_the_aanduidingen_seated_at_the_election_it_names(session, demo):
    lists = session.scalars(select(CandidateList).where(CandidateList.election_id == demo.id)).all()
    exempt = {cl.designation for cl in lists if cl.exempt}
    assert exempt == set(SEATED_AT_PREVIOUS)
    assert all(cl.number is not None for cl in lists)  # every exemption landed on a list of the file
    assert {cl.exempt_basis for cl in lists if cl.exempt} == {f"zetel behaald bij {PREVIOUS_ELECTION}"}
    assert "2025" in PREVIOUS_ELECTION
    by_name = {cl.designation: cl for cl in lists}
    assert not by_name["Nieuw Sociaal Contract (NSC)"].exempt and by_name["50PLUS"].exempt
