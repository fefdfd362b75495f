"""The API keeps its own contract: schemathesis, with every check, finds nothing for any role.

An integrator generates a client from /api/v1/openapi.json, so the document must say exactly what the API
does. For each role this runs schemathesis the way `st run --checks all` does (examples, coverage,
fuzzing and the stateful phase that follows the document's links) against the app over real HTTP, and
fails on any failure it reports: an undocumented status or problem type, a response outside its schema, a
schema-valid request refused, a schema-invalid one accepted, a 405 without Allow, a 500.

In-process WSGI would be enough, but schemathesis 4.32's WSGI transport breaks on its own ignored_auth
probe (it passes max_redirects to werkzeug's EnvironBuilder), so a local server it is: exactly what an
integrator's run sees.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from schemathesis.engine import events, from_schema
from schemathesis.engine.statistic import Statistic
from werkzeug.serving import make_server

from registry.db import utcnow
from registry.elections import services as elections
from tests.auth.helpers import bearer_token, mock_client_secret, system_token
from tests.conftest import bsn

# Bounded so that five roles on two databases stay well inside CI's budget; the seed keeps a failure
# reproducible (schemathesis prints the curl for it).
MAX_EXAMPLES = 12
STATEFUL_STEPS = 6
DOSSIER_EXAMPLES = 3
SEED = 18

# A schema cannot state what only the register knows: the 11-proof, who lives where, who is eligible,
# whether the window is open, that a voter sends only the list, that batch ids differ. Those answers are
# 422 with a documented problem type (response_schema_conformance checks the slug), so for the two
# operations that write, 422 is an acceptable answer to a schema-valid request.
DOMAIN_REFUSALS = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]


@dataclass
class Outcome:
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    succeeded: set[str] = field(default_factory=set)  # operations that answered 2xx at least once


def run_contract(base_url: str, token: str, *, examples: int = MAX_EXAMPLES) -> Outcome:
    config = schemathesis.Config.from_dict({
        "base-url": base_url + "/api/v1",
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {token}"},
        "checks": {"enabled": True},
        "generation": {"max-examples": examples},
        "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
        "operations": [
            {"include-operation-id": ["createDeclaration", "createDeclarationBatch"],
             "checks": {"positive_data_acceptance": {"expected-statuses": DOMAIN_REFUSALS}}},
            # Each dossier is a signed ZIP with a PDF cover (about 0.3 s): a few suffice to check its answers,
            # not one per list id the examples phase picked up from GET …/lists.
            {"include-operation-id": "dossier", "generation": {"max-examples": DOSSIER_EXAMPLES},
             "phases": {"examples": {"extra-data-sources": {"responses": False}}}},
        ],
    })
    schema = schemathesis.openapi.from_url(base_url + "/api/v1/openapi.json", config=config)
    statistic = Statistic()
    outcome = Outcome()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            statistic.on_scenario_finished(event.recorder)
            for case_id, interaction in event.recorder.interactions.items():
                if interaction.response is None:
                    continue
                outcome.requests += 1
                node = event.recorder.cases.get(case_id)
                if node is not None and 200 <= interaction.response.status_code < 300:
                    outcome.succeeded.add(node.value.operation.label)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            outcome.errors.append(f"{getattr(event, 'label', '')}: {getattr(event, 'value', None)!r}"
                                  f"{getattr(event, 'exception', '')!r}")
    for label, groups in statistic.failures.items():
        for group in groups.values():
            for failure in group.failures:
                status = group.response.status_code if group.response is not None else "-"
                outcome.failures.append(f"{label} [{status}]: {failure.title}: {failure.message}\n"
                                        f"    {(group.code_sample or '')[:600]}")
    return outcome


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app on a local port, one request at a time (the test client's app, same database)."""
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def open_election(app: Flask, session: Any, tk2025: Any) -> Any:
    """TK2025 with its window and online channel open, so a declaration can really be recorded."""
    now = utcnow()
    elections.update_settings(session, "TK2025", "test", window_opens_at=now - timedelta(days=1),
                              window_closes_at=now + timedelta(days=1), online_open=True,
                              online_legal_basis="Experiment (test)")
    return tk2025


def _system(app: Flask, client: Any) -> str:
    return system_token(client, "gemeente-GM0392", mock_client_secret(app, "gemeente-GM0392"))


# What each role must have done successfully, so that a run which only ever met 401 or 403 (a broken
# token, a role check gone wrong) cannot pass. The clerk and the system never get a 201: a schema cannot
# hold a BSN that passes the BRP (tests/test_api.py records those). The party agent's own list id is in no
# response the document links from, so its progress is reached only by the CSB here.
READ = {"GET /elections", "GET /elections/{election}/lists", "GET /whoami"}
COUNTER = READ | {"GET /municipalities/{code}", "POST /elections/{election}/declarations/batch"}
MUST_SUCCEED: dict[str, set[str]] = {
    "municipal_system": COUNTER,
    "clerk": COUNTER,
    "voter": READ | {"POST /elections/{election}/declarations", "GET /me/declarations"},
    "party_agent": READ,
    "csb": READ | {"GET /elections/{election}/examination", "GET /elections/{election}/lists/{list}/progress",
                   "GET /elections/{election}/lists/{list}/dossier"},
}

TOKENS: dict[str, Callable[[Flask, Any], str]] = {
    "municipal_system": _system,
    "clerk": lambda _app, client: bearer_token(client, "clerk:GM0392"),
    "voter": lambda _app, client: bearer_token(client, f"bsn:{bsn('voter_haarlem_1')}"),
    "party_agent": lambda _app, client: bearer_token(client, "agent:Volt"),
    "csb": lambda _app, client: bearer_token(client, "csb:TK2025"),
}


@pytest.mark.parametrize("role", list(TOKENS))
def test_schemathesis_finds_nothing(app, client, open_election, served, role, request):
    outcome = run_contract(served, TOKENS[role](app, client))
    print(f"\n{role} [{request.node.callspec.params['database_url']}]: {outcome.requests} requests")
    assert not outcome.errors, "\n".join(outcome.errors)
    assert not outcome.failures, "\n".join(outcome.failures)
    assert outcome.requests > 100
    assert MUST_SUCCEED[role] <= outcome.succeeded, MUST_SUCCEED[role] - outcome.succeeded
