""""Has this person declared?" is political-opinion data: the attack run asked it 150 times in 10 s at the
counter, unlimited and untraced. Every lookup is now an audit event (actor, municipality, time; no BSN),
limited per clerk and per system client, and the CSB sees per desk the lookups without a declaration."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from tests.auth.helpers import mock_client_secret, system_token
from tests.conftest import bsn
from tests.online.helpers import forget_g_after_each_request, open_window
from tests.test_api import counter_body, declare
from tests.test_counter import confirm, step1

HAARLEM = ("voter_haarlem_1", "voter_haarlem_2", "voter_haarlem_3", "deceased", "dual_nationality")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "RATE_LIMIT_LOOKUP": "30 per minute", "RATE_LIMIT_PER_CLIENT": "10 per minute"}


@pytest.fixture
def open_tk2025(session: Any, tk2025: Any) -> Any:
    open_window(session, online=True)
    return tk2025


def events(session: Any, action: str) -> list[AuditEvent]:
    session.rollback()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def test_150_counter_lookups_are_cut_off_audited_and_shown_to_the_csb(app, session, open_tk2025, login_as):
    forget_g_after_each_request(app)
    clerk = login_as("clerk:GM0392")
    assert confirm(clerk, step1(clerk, bsn("voter_haarlem_3")).get_data(as_text=True)).status_code == 303
    answers = [step1(clerk, bsn(HAARLEM[i % len(HAARLEM)])).status_code for i in range(150)]
    assert answers[:29] == [200] * 29 and set(answers[29:]) == {429}  # 30 per minute, the declaration's included
    limited = step1(clerk, bsn("voter_haarlem_1"))
    assert limited.status_code == 429 and "Retry-After" in limited.headers

    lookups = events(session, "voter.lookup")
    assert len(lookups) == 30
    numbers = {bsn(case) for case in HAARLEM}
    for event in lookups:
        assert event.actor.startswith("clerk:GM0392") and event.subject == "municipality:GM0392"
        assert json.loads(event.payload) == {"municipality": "GM0392"} and event.election == "TK2025"
        assert not any(number in event.payload + (event.subject or "") for number in numbers)

    # Another clerk has a limit of their own.
    other = login_as("clerk:GM0363")
    assert step1(other, bsn("voter_amsterdam_1")).status_code == 200

    page = login_as("csb:TK2025").get("/csb/TK2025/opvragingen").get_data(as_text=True)
    rows = re.findall(r'<tr data-actor="[^"]+"><td>(GM\d+)</td><td>[^<]+</td><td>(\d+)</td><td>(\d+)</td>'
                      r'<td class="without">(\d+)</td>', page)
    assert rows == [("GM0363", "1", "0", "1"), ("GM0392", "30", "1", "29")]


def test_a_system_client_is_limited_and_its_person_answers_are_audited(app, client, session, open_tk2025):
    token = system_token(client, "gemeente-GM0392", mock_client_secret(app, "gemeente-GM0392"))
    assert declare(client, token, counter_body(session, "voter_haarlem_3")).status_code == 201
    statuses = [declare(client, token, counter_body(session, "voter_haarlem_3")).status_code for _ in range(20)]
    assert statuses[:9] == [409] * 9 and set(statuses[9:]) == {429}
    refused = events(session, "voter.lookup_refused")
    assert len(refused) == 9 and all(e.actor == "system:gemeente-GM0392" for e in refused)
    assert all(bsn("voter_haarlem_3") not in e.payload for e in refused)
