"""/api/v1 driven as a municipal system, a tool and a voter would: tokens from the issuer, JSON in and out."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from registry.db import utcnow
from registry.declarations.models import Declaration
from registry.elections import services as elections
from registry.elections.models import CandidateList
from registry.problems import PROBLEM_BASE
from tests.auth.helpers import bearer_token
from tests.conftest import bsn

BASE = "/api/v1/elections/TK2025"
PASSPORT = {"type": "paspoort", "number": "NW4K82PL1"}


@pytest.fixture
def open_tk2025(session, tk2025):
    now = utcnow()
    elections.update_settings(session, "TK2025", "test", window_opens_at=now - timedelta(days=1),
                              window_closes_at=now + timedelta(days=1), online_open=True,
                              online_legal_basis="Experiment (test)")
    return tk2025


@pytest.fixture
def clerk_token(client, open_tk2025) -> str:
    return bearer_token(client, "clerk:GM0392")


def auth(token: str, key: str | None = "auto") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = str(uuid.uuid4()) if key == "auto" else key
    return headers


def list_id(session, designation: str) -> int:
    return session.scalar(select(CandidateList.id).where(CandidateList.designation == designation))


def declare(client, token, body, key="auto"):
    return client.post(f"{BASE}/declarations", json=body, headers=auth(token, key))


def counter_body(session, case: str, designation: str = "Volt") -> dict:
    return {"list": list_id(session, designation), "bsn": bsn(case), "identity_document": PASSPORT}


def slug(response) -> str:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    body = response.get_json()
    assert body["type"].startswith(PROBLEM_BASE) and body["status"] == response.status_code and body["detail"]
    return body["type"].removeprefix(PROBLEM_BASE)


def count(session) -> int:
    session.rollback()  # end our read snapshot: the requests wrote in sessions of their own
    return session.scalar(select(func.count()).select_from(Declaration))


def test_elections_and_lists_with_kieskringen_and_candidates(client, clerk_token):
    elections_response = client.get("/api/v1/elections", headers=auth(clerk_token, None))
    assert elections_response.status_code == 200
    assert [e["id"] for e in elections_response.get_json()] == ["TK2025"]
    lists = client.get(f"{BASE}/lists", headers=auth(clerk_token, None)).get_json()
    assert len(lists) == 23
    pvv = next(item for item in lists if item["number"] == 1)
    assert pvv["designation"] == "PVV (Partij voor de Vrijheid)" and pvv["kieskringen"] == [10]
    assert pvv["candidates"][0]["last_name"] == "Wilders"
    unknown = client.get("/api/v1/elections/XX1999/lists", headers=auth(clerk_token, None))
    assert unknown.status_code == 404 and slug(unknown) == "unknown-election"


def test_a_municipal_system_records_a_declaration(client, session, clerk_token):
    response = declare(client, clerk_token, counter_body(session, "voter_haarlem_1"))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"id", "receipt_code", "election", "list", "kieskring", "municipality", "channel",
                         "list_version", "list_version_hash", "recorded_at"}
    assert (body["election"], body["kieskring"], body["municipality"], body["channel"]) == \
        ("TK2025", 10, "GM0392", "counter")
    assert bsn("voter_haarlem_1") not in response.get_data(as_text=True)


def test_replay_returns_the_first_answer_and_another_body_is_refused(client, session, clerk_token):
    body = counter_body(session, "voter_haarlem_1")
    first = declare(client, clerk_token, body, key="k-1")
    again = declare(client, clerk_token, body, key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    other = declare(client, clerk_token, counter_body(session, "voter_haarlem_2"), key="k-1")
    assert other.status_code == 422 and slug(other) == "idempotency-key-reused"
    assert count(session) == 1


def test_the_idempotency_key_is_required(client, session, clerk_token):
    response = declare(client, clerk_token, counter_body(session, "voter_haarlem_1"), key=None)
    assert response.status_code == 400 and slug(response) == "idempotency-key-missing"


@pytest.mark.parametrize(("mutate", "status", "expected"), [
    (lambda b: {**b, "bsn": "999900184"}, 422, "invalid-bsn"),
    (lambda b: {**b, "identity_document": {"type": "paspoort", "number": "12"}}, 422, "invalid-document"),
    (lambda b: {**b, "identity_document": {"type": "ov-chipkaart", "number": "1"}}, 422, "invalid-document"),
    (lambda b: {**b, "list": 999_999}, 422, "unknown-list"),
    (lambda b: {**b, "bsn": bsn("deceased")}, 422, "not-eligible"),  # lives in Haarlem, like the clerk
    (lambda b: {**b, "bsn": bsn("voter_amsterdam_1")}, 422, "not-registered-here"),
    (lambda b: {**b, "list": "Volt"}, 422, "invalid-request"),
    (lambda b: {k: v for k, v in b.items() if k != "bsn"}, 422, "invalid-request"),
])
def test_each_refusal_has_its_slug(client, session, clerk_token, mutate, status, expected):
    response = declare(client, clerk_token, mutate(counter_body(session, "voter_haarlem_1")))
    assert response.status_code == status and slug(response) == expected
    assert count(session) == 0


def test_already_declared_is_409_without_the_list(client, session, clerk_token):
    declare(client, clerk_token, counter_body(session, "voter_haarlem_1", "Volt"))
    second = declare(client, clerk_token, counter_body(session, "voter_haarlem_1", "DENK"))
    assert second.status_code == 409 and slug(second) == "already-declared"
    assert "Volt" not in second.get_data(as_text=True)


def test_wrong_kieskring_and_window_closed(client, session, open_tk2025):
    voter = bearer_token(client, f"bsn:{bsn('voter_amsterdam_2')}")
    response = declare(client, voter, {"list": list_id(session, "Volt")})
    assert response.status_code == 422 and slug(response) == "wrong-kieskring"
    now = utcnow()
    elections.update_settings(session, "TK2025", "test", window_opens_at=now - timedelta(days=3),
                              window_closes_at=now - timedelta(days=1))
    clerk = bearer_token(client, "clerk:GM0392")
    closed = declare(client, clerk, counter_body(session, "voter_haarlem_1"))
    assert closed.status_code == 422 and slug(closed) == "window-closed"


def test_a_voter_declares_with_only_the_list(client, session, open_tk2025):
    token = bearer_token(client, f"bsn:{bsn('voter_haarlem_2')}")
    response = declare(client, token, {"list": list_id(session, "Volt")})
    assert response.status_code == 201 and response.get_json()["channel"] == "online"
    sneaky = declare(client, token, {"list": list_id(session, "Volt"), "bsn": bsn("voter_haarlem_1")})
    assert sneaky.status_code == 422 and slug(sneaky) == "invalid-request"


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1,2]", b'{"list": ', b"{\"list\": 1e999}"])
def test_malformed_bodies_are_4xx_problems(client, clerk_token, raw):
    response = client.post(f"{BASE}/declarations", data=raw, content_type="application/json",
                           headers=auth(clerk_token))
    assert 400 <= response.status_code < 500 and slug(response)


def test_identity_and_role_errors(client, session, open_tk2025):
    body = counter_body(session, "voter_haarlem_1")
    anonymous = client.post(f"{BASE}/declarations", json=body, headers={"Idempotency-Key": "x"})
    assert anonymous.status_code == 401 and slug(anonymous) == "unauthenticated"
    garbage = declare(client, "not-a-token", body)
    assert garbage.status_code == 401
    csb = bearer_token(client, "csb:TK2025")
    assert declare(client, csb, body).status_code == 403


def test_the_database_unreachable_is_503_with_retry_after(client, session, clerk_token, monkeypatch):
    from registry.declarations import services

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(services, "_version_and_answer", down)  # the recording core's first round trip
    response = declare(client, clerk_token, counter_body(session, "voter_haarlem_1"))
    assert response.status_code == 503 and response.headers["Retry-After"] and slug(response) == "service-unavailable"


def test_a_full_house_is_503_at_once_and_records_nothing(app, client, session, clerk_token):
    """Admission control: with every slot of this process taken (requests in flight), one more
    declaration is answered at once with 503 + Retry-After. The token is checked first: an anonymous
    request never takes, nor waits for, a slot."""
    from registry.api.routes import GUARD

    guard = app.extensions[GUARD]
    held = [guard.try_acquire() for _ in range(guard.size)]
    assert all(held)
    try:
        busy = declare(client, clerk_token, counter_body(session, "voter_haarlem_1"))
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1" and slug(busy) == "busy"
        assert "niets vastgelegd" in busy.get_json()["detail"]
        assert busy.headers["Cache-Control"] == "no-store" and busy.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in busy.headers["Content-Security-Policy"]
        no_token = client.post(f"{BASE}/declarations/batch", json={"declarations": []})
        assert no_token.status_code == 401 and slug(no_token) == "unauthenticated"
        assert client.get(f"{BASE}/lists", headers=auth(clerk_token, None)).status_code == 200  # reads pass
    finally:
        for _ in held:
            guard.release()
    assert count(session) == 0
    again = declare(client, clerk_token, counter_body(session, "voter_haarlem_1"))
    assert again.status_code == 201, again.get_data(as_text=True)
    assert count(session) == 1


# --- batch: paper declarations ----------------------------------------------------------------------

def batch(session, *items):
    return {"declarations": [
        {"id": item_id, "signed_at": signed, **counter_body(session, case, party)}
        for item_id, case, party, signed in items
    ]}


def test_a_batch_records_each_item_and_keeps_a_paper_duplicate_void(client, session, clerk_token):
    declare(client, clerk_token, counter_body(session, "voter_haarlem_1", "Volt"))
    signed = (utcnow() - timedelta(hours=2)).isoformat()
    body = batch(session, ("p-1", "voter_haarlem_2", "DENK", signed), ("p-2", "voter_haarlem_1", "DENK", signed),
                 ("p-3", "voter_amsterdam_1", "DENK", signed))
    response = client.post(f"{BASE}/declarations/batch", json=body, headers=auth(clerk_token, None))
    assert response.status_code == 200
    result = response.get_json()
    statuses = {r["id"]: r["status"] for r in result["results"]}
    assert statuses == {"p-1": 201, "p-2": 201, "p-3": 422}
    assert result["results"][2]["result"]["type"].endswith("not-registered-here")
    # The paper duplicate is kept: the voter now has two declarations, and both are void.
    rows = session.scalars(select(Declaration).where(Declaration.ordinal == 2)).all()
    assert len(rows) == 1 and rows[0].channel == "batch"
    replay = client.post(f"{BASE}/declarations/batch", json=body, headers=auth(clerk_token, None))
    assert replay.get_json()["results"] == result["results"]
    assert count(session) == 3


def test_a_batch_over_1000_is_refused(client, session, clerk_token):
    item = {"id": "x", "list": 1, "bsn": "1", "identity_document": PASSPORT, "signed_at": utcnow().isoformat()}
    body = {"declarations": [{**item, "id": str(i)} for i in range(1001)]}
    response = client.post(f"{BASE}/declarations/batch", json=body, headers=auth(clerk_token, None))
    assert response.status_code == 422 and "1000" in response.get_json()["detail"]


# --- races ---------------------------------------------------------------------------------------------

def test_two_clerks_and_the_voter_online_race_for_one_voter(app, client, session, open_tk2025):
    from tests.auth.helpers import bearer_token as token_for

    tokens = [token_for(client, "clerk:GM0392"), token_for(client, "clerk:GM0363"),
              token_for(client, f"bsn:{bsn('voter_haarlem_1')}")]
    bodies = [counter_body(session, "voter_haarlem_1", "Volt"), counter_body(session, "voter_haarlem_1", "DENK"),
              {"list": list_id(session, "JA21")}]
    outcomes: dict[int, tuple[int, str]] = {}
    barrier = threading.Barrier(6)

    def run(index: int) -> None:
        local_client = app.test_client()
        barrier.wait()
        response = declare(local_client, tokens[index % 3], bodies[index % 3])
        outcomes[index] = (response.status_code, response.get_json().get("type", "recorded"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = list(outcomes.values())
    assert sum(status == 201 for status, _ in results) == 1
    # The Amsterdam clerk is told to send the voter to Haarlem; the others that lost: already declared.
    assert all(kind.endswith("not-registered-here") for status, kind in (outcomes[1], outcomes[4]))
    losers = [kind for i, (status, kind) in outcomes.items() if i % 3 != 1 and status != 201]
    assert losers and all(kind.endswith("already-declared") for kind in losers)
    assert count(session) == 1


# --- the OpenAPI document matches the implementation ----------------------------------------------------

def test_openapi_lists_exactly_the_implemented_routes(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    import re

    def shape(path: str) -> str:  # /a/{x}/b and /a/<int:x_id>/b are the same route
        return re.sub(r"\{[^}]+\}|<[^>]+>", "{}", path)

    documented = {(shape(path), method.upper()) for path, ops in spec["paths"].items() for method in ops}
    implemented = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = shape(rule.rule.removeprefix("/api/v1"))
            implemented |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == implemented


def test_real_responses_validate_against_the_openapi_schemas(client, session, clerk_token):
    import jsonschema
    spec = client.get("/api/v1/openapi.json").get_json()

    def validate(instance, ref):
        schema = {"$ref": ref, "components": spec["components"]}
        jsonschema.validate(instance, schema)

    validate(client.get("/api/v1/elections", headers=auth(clerk_token, None)).get_json()[0],
             "#/components/schemas/Election")
    for item in client.get(f"{BASE}/lists", headers=auth(clerk_token, None)).get_json():
        validate(item, "#/components/schemas/CandidateList")
    created = declare(client, clerk_token, counter_body(session, "voter_haarlem_1"))
    validate(created.get_json(), "#/components/schemas/Declaration")
    refused = declare(client, clerk_token, counter_body(session, "voter_haarlem_1"))
    validate(refused.get_json(), "#/components/schemas/Problem")
    assert PROBLEM_BASE + "already-declared" in spec["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]


def test_unknown_api_paths_and_methods_are_problems(client, clerk_token):
    missing = client.get("/api/v1/nothing-here", headers=auth(clerk_token, None))
    assert missing.status_code == 404 and slug(missing) == "not-found"
    wrong = client.delete(f"{BASE}/declarations", headers=auth(clerk_token, None))
    assert wrong.status_code == 405 and slug(wrong) == "method-not-allowed"
    assert set(wrong.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}  # RFC 9110 §15.5.6
    trace = client.open("/api/v1/whoami", method="TRACE")
    assert trace.status_code == 405 and set(trace.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_a_page_answers_405_with_allow_too(client):
    response = client.delete("/privacy")
    assert response.status_code == 405 and "Dit kan hier niet" in response.get_data(as_text=True)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("key", ["met spatie", "sleutel-é", "x" * 201])
def test_an_idempotency_key_outside_its_pattern_is_refused(client, session, clerk_token, key):
    response = client.post(f"{BASE}/declarations", json=counter_body(session, "voter_haarlem_1"),
                           headers={"Authorization": f"Bearer {clerk_token}", "Idempotency-Key": key})
    assert response.status_code == 400 and slug(response) == "idempotency-key-invalid"
    assert count(session) == 0


def test_a_member_the_document_does_not_name_is_refused(client, session, clerk_token):
    typo = {**counter_body(session, "voter_haarlem_1"), "identity_documnet": PASSPORT}
    response = declare(client, clerk_token, typo)
    assert response.status_code == 422 and slug(response) == "invalid-request"
    assert response.get_json()["pointer"] == "/identity_documnet"
    extra = client.post(f"{BASE}/declarations/batch", json={"declarations": [{"id": "1"}], "dry_run": True},
                        headers=auth(clerk_token, None))
    assert extra.status_code == 422 and extra.get_json()["pointer"] == "/dry_run"
    assert count(session) == 0


def test_a_batch_for_an_unknown_election_is_one_404(client, clerk_token):
    response = client.post("/api/v1/elections/XX1999/declarations/batch", json={"declarations": [{"id": "1"}]},
                           headers=auth(clerk_token, None))
    assert response.status_code == 404 and slug(response) == "unknown-election"


@pytest.mark.parametrize("operation", ["progress", "dossier"])
def test_a_list_id_beyond_the_database_integer_is_404_not_an_overflow(client, open_tk2025, operation):
    # PostgreSQL's int4 overflowed on 2**31 (a 500); the route now takes only ids the column can hold.
    token = bearer_token(client, "csb:TK2025")
    response = client.get(f"{BASE}/lists/{2**31}/{operation}", headers=auth(token, None))
    assert response.status_code == 404 and slug(response) == "not-found"


def test_the_document_enumerates_every_refusal_with_its_status(client):
    from registry.api.routes import REFUSAL_STATUS
    from registry.declarations.services import Refusal

    responses = client.get("/api/v1/openapi.json").get_json()["paths"]["/elections/{election}/declarations"][
        "post"]["responses"]
    for refusal in Refusal:
        status = str(REFUSAL_STATUS.get(refusal, 422))
        narrowed = responses[status]["content"]["application/problem+json"]["schema"]["properties"]["type"]
        assert PROBLEM_BASE + refusal.value in narrowed["enum"], (refusal, status)


def test_the_text_pattern_refuses_exactly_what_the_input_guard_refuses():
    import re

    from registry.api.openapi import TEXT
    from registry.input_guard import FORBIDDEN

    pattern = re.compile(TEXT)
    for code in [*range(0x00, 0x80), 0xA0, 0x2028, 0xFFFD]:
        char = chr(code)
        assert (pattern.fullmatch(char) is None) == bool(FORBIDDEN.search(char)), hex(code)


def test_a_saturated_process_sheds_a_declaration_before_flask(app, client, session, clerk_token, monkeypatch):
    """Every slot held and no place to wait: the declaration is refused by the outermost WSGI layer
    (registry.admission.Shedder) with the same 503 problem, headers included, and nothing is recorded. A
    request without credentials still gets Flask's 401."""
    from registry.api.routes import GUARD

    guard = app.extensions[GUARD]
    monkeypatch.setattr(guard, "queue", 0)
    reached_flask = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: reached_flask.append(1))
    held = [guard.try_acquire() for _ in range(guard.size)]
    assert all(held) and guard.saturated()
    try:
        shed = declare(client, clerk_token, counter_body(session, "voter_haarlem_1"))
        anonymous = client.post(f"{BASE}/declarations", json={}, headers={"Idempotency-Key": "x"})
    finally:
        for _ in held:
            guard.release()
        app.before_request_funcs[None].pop(0)
    assert shed.status_code == 503 and shed.headers["Retry-After"] == "1" and slug(shed) == "busy"
    assert "niets vastgelegd" in shed.get_json()["detail"]
    assert shed.headers["Cache-Control"] == "no-store" and shed.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in shed.headers["Content-Security-Policy"]
    assert anonymous.status_code == 401
    assert reached_flask == [1]  # only the anonymous one
    assert count(session) == 0
    assert not guard.saturated()
    assert declare(client, clerk_token, counter_body(session, "voter_haarlem_1")).status_code == 201
