"""The stored API answers of an election go with its purge (I 19), refusals included, and their scope
does not hold the login subject (the same in every election) that would link a person's choices."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from registry.csb import services as csb
from registry.declarations import idempotency
from registry.declarations.models import IdempotencyKey
from registry.elections.models import Election
from tests.auth.helpers import bearer_token
from tests.csb.test_csb_journey import PASSPORT, api_post, list_id

HOUR = timedelta(hours=1)


def test_the_purge_removes_every_stored_answer_of_the_election(app, session, three_for_volt, csb_people):
    token = bearer_token(app.test_client(), "clerk:GM0392")
    # A refusal (an Amsterdam resident at Haarlem's system): its stored answer names no election.
    refused = api_post(app.test_client(), token, "/api/v1/elections/TK2025/declarations/batch",
                       {"declarations": [{"id": "elsewhere", "list": list_id("Volt"),
                                          "bsn": csb_people["amsterdam"][0], "identity_document": PASSPORT,
                                          "signed_at": "2025-09-10T14:30:00+02:00"}]})
    assert refused.get_json()["refused"] == 1
    session.rollback()
    rows = session.scalars(select(IdempotencyKey)).all()
    assert len(rows) == 4 and {row.election for row in rows} == {"TK2025"}
    assert not any("clerk" in row.scope or "GM0392" in row.scope for row in rows)  # a keyed hash, no subject
    assert len({row.scope for row in rows}) == 1  # one clerk, one election: one scope

    election = session.scalar(select(Election).where(Election.identifier == "TK2025"))
    moment = csb.calendar(election, csb.sessions(session, election)).examination_from + HOUR
    csb.hold_examination(session, election, "csb:test", now=moment)
    moment = csb.calendar(election, csb.sessions(session, election)).decision_from + HOUR
    csb.hold_decision(session, election, "csb:test", now=moment)
    moment = csb.calendar(election, csb.sessions(session, election)).final_from + HOUR
    csb.record_final(session, election, "csb:test", "geen beroep ingesteld", now=moment)
    report = csb.purge(session, election, "csb:test", execute=True, now=moment + HOUR)
    assert report.idempotency_rows == 4
    session.rollback()
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_one_actor_has_unrelated_scopes_in_two_elections(app):
    with app.test_request_context():
        first = idempotency.scope_for("TK2025", "voter:abc")
        second = idempotency.scope_for("GR2026_Assen", "voter:abc")
    assert first != second and "abc" not in first + second and len(first) == 64
