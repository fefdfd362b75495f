"""I 19: the purge destroys every free text that may name a person. A ruling's reason ("Handtekening van
… ontbreekt") is stored encrypted under the election's data key from the start, so destroying that key
destroys the reason; the chain keeps only its hash."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from registry.csb import services as csb
from registry.db import db
from registry.declarations.models import Declaration
from registry.elections import services as elections
from tests.conftest import AMS
from tests.csb.test_csb_journey import local

REASON = "Handtekening van Anna Testpersoon000 ontbreekt; haar buurman Bram tekende"


def every_text(session) -> str:
    """Every value of every table, as text: what a copy of the database would show."""
    tables = ["csb_rulings", "csb_sessions", "audit_events", "declarations", "idempotency_keys"]
    found = []
    for table in tables:
        for row in session.execute(text(f"SELECT * FROM {table}")):
            found.extend(str(value) for value in row)
    return "\n".join(found)


def test_I19_the_purge_destroys_a_ruling_reason_and_a_final_ground_that_name_people(app, session, three_for_volt,
                                                                                     clock):
    election = elections.get_election(session, "TK2025")
    ruled = three_for_volt[0]
    csb.rule_invalid(session, election, ruled, REASON, "csb:test")
    session.rollback()
    # Readable for the CSB while it decides, never stored as plain text.
    line = next(csb.declaration_lines(session, election, session.get(Declaration, ruled).list_id,
                                      declaration_id=ruled))
    assert (line.status, line.void_reason) == ("void_other", REASON)
    assert "Anna" not in every_text(session) and "Bram" not in every_text(session)

    examination_day = election.window_closes_at.astimezone(AMS).date() + timedelta(days=1)
    clock.travel_to(local(examination_day, 16, 5))
    csb.hold_examination(session, election, "csb:test")
    clock.travel_to(local(examination_day + timedelta(days=3), 16, 0))
    csb.hold_decision(session, election, "csb:test")
    clock.travel_to(local(examination_day + timedelta(days=8), 9, 0))
    csb.record_final(session, election, "csb:test", "Beroep van Chantal Testpersoon002 is verworpen")
    final = csb.sessions(session, election)["final"]
    assert csb.final_ground(session, election, final) == "Beroep van Chantal Testpersoon002 is verworpen"
    assert "Chantal" not in every_text(session)  # neither in the session row nor in the audit chain
    csb.purge(session, election, "csb:test", execute=True)
    db.session.rollback()

    line = next(csb.declaration_lines(session, election, session.get(Declaration, ruled).list_id,
                                      declaration_id=ruled))
    assert line.status == "void_other" and line.void_reason == csb.PURGED_REASON
    stored = session.execute(text("SELECT reason FROM csb_rulings")).scalar_one()
    assert stored.startswith(csb.SEALED_REASON_PREFIX) and "Anna" not in stored
    assert csb.final_ground(session, election, csb.sessions(session, election)["final"]) == csb.PURGED_TEXT
