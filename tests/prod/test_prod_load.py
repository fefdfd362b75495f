"""Races, replays and counts under concurrent load, through two gunicorn instances on one database.

Every request is real HTTP to an instance started with gunicorn.conf.py; both instances write to the
same database (a SQLite file shared by their processes, or PostgreSQL).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from registry.declarations.models import Declaration, IdempotencyKey
from registry.elections.models import District, Election, ListDistrict
from tests.prod.checks import assert_aggregates_match, assert_ledger_sound
from tests.prod.conftest import Deployment, Http, in_parallel
from tests.support.servers import Answer

SUBMITTERS = 200
ROUNDS = 3


@dataclass(frozen=True)
class Outcome:
    channel: str  # clerk | online | batch
    status: int  # the HTTP status; for a batch, its one item's status
    kind: str  # "recorded", or the problem type's slug
    body: dict[str, Any]


def outcome(channel: str, answer: Answer) -> Outcome:
    assert answer.status < 500, f"{channel}: {answer.status} {answer.text[:500]}"
    body = answer.json()
    if channel == "batch":
        assert answer.status == 200, answer.text[:500]
        (item,) = body["results"]
        status, body = item["status"], item["result"]
    else:
        status = answer.status
    kind = "recorded" if status == 201 else body["type"].rsplit("/", 1)[-1]
    return Outcome(channel, status, kind, body)


def race(deployment: Deployment, servers: list[Any], voter: str, with_batch: bool) -> list[Outcome]:
    """SUBMITTERS threads, released together, all for ``voter``: the voter online (one token, many tabs),
    a Haarlem clerk, and, ``with_batch``, Haarlem's back-office system sending paper declarations."""
    voter_token = deployment.voter_token(voter)
    barrier = threading.Barrier(SUBMITTERS, timeout=120)
    round_id = uuid.uuid4().hex[:8]

    def channel_of(index: int) -> str:
        if with_batch and index % 10 == 0:
            return "batch"
        return "clerk" if index % 2 else "online"

    def submit(index: int) -> Outcome:
        http = Http(servers[index % len(servers)].url, timeout=120)
        channel = channel_of(index)
        if channel == "online":
            path, body = deployment.declarations, {"list": deployment.lists["JA21"]}
            headers = deployment.api(voter_token)
        elif channel == "clerk":
            path, body = deployment.declarations, deployment.counter_body(voter, "Volt")
            headers = deployment.api(deployment.clerk)
        else:
            path = deployment.batch
            body = {"declarations": [deployment.paper_item(f"{round_id}-{index}", voter, "DENK")]}
            headers = deployment.api(deployment.system, None)
        barrier.wait()
        return outcome(channel, http.post_json(path, body, headers))

    return in_parallel([lambda i=i: submit(i) for i in range(SUBMITTERS)], SUBMITTERS)


def voter_rows(deployment: Deployment, voter: str) -> list[Declaration]:
    from registry.privacy.services import election_cipher

    session = deployment.session
    session.rollback()
    election = session.scalar(select(Election).where(Election.identifier == "TK2025"))
    voter_key = election_cipher(session, election).voter_key(voter)
    return list(session.scalars(select(Declaration).where(Declaration.voter_key == voter_key)
                                .order_by(Declaration.ordinal)))


def test_races_replays_and_counts_on_two_instances(deployment: Deployment):
    """One pair of instances, three loads in turn, the aggregates and the audit chain checked after each."""
    # One clerk token sends well over RATE_LIMIT_PER_CLIENT's 600 a minute here (1,000 replays of one key
    # alone): a deliberate race, not a client to slow down, so its limit is raised for this test only.
    servers = deployment.start(2, workers=1, threads=8, PROGRESS_MAX_AGE="0", RATE_LIMIT_PER_CLIENT="100000 per minute")
    before = declaration_count(deployment.session)
    voters = iter(deployment.voters)
    added = race_for_one_voter(deployment, servers, voters)
    added += one_key_sent_1000_times(deployment, servers, next(voters))
    added += mixed_load(deployment, servers, [next(voters) for _ in range(120)])
    # Every row the three loads acknowledged is there, and nothing else: no row lost, none doubled.
    assert declaration_count(deployment.session) == before + added
    assert all(Http(server.url).get("/healthz").status == 200 for server in servers)  # both still serve


def declaration_count(session: Any) -> int:
    session.rollback()  # a fresh snapshot: the instances wrote in their own sessions
    return session.scalar(select(func.count()).select_from(Declaration))


def race_for_one_voter(deployment: Deployment, servers: list[Any], voters: Any) -> int:
    """ROUNDS times, SUBMITTERS simultaneous submissions for one fresh voter. Exactly one declaration is
    the voter's first (ordinal 1) and it is the one acknowledged (201) among the clerk and online
    attempts, unless a paper one came first; every other clerk or online attempt is told "already
    declared" (409). Paper declarations from a batch are facts and are kept after the first (ordinal
    2, 3, ..., all then void, I 2 lid 1 a), each answered 201 with its own row. Nothing is lost or
    doubled, and nothing gets a 5xx."""
    added = 0
    for round_no in range(ROUNDS):
        voter = next(voters)
        with_batch = round_no > 0  # round 0: only clerks and the voter, where exactly one 201 is the rule
        outcomes = race(deployment, servers, voter, with_batch)
        rows = voter_rows(deployment, voter)
        added += len(rows)
        summary = Counter((o.channel, o.status, o.kind) for o in outcomes)

        assert [row.ordinal for row in rows] == list(range(1, len(rows) + 1)), summary
        first = rows[0]
        live = [o for o in outcomes if o.channel != "batch"]
        recorded_live = [o for o in live if o.status == 201]
        if first.channel == "batch":
            assert recorded_live == [], summary
        else:
            assert len(recorded_live) == 1 and recorded_live[0].body["receipt_code"] == first.receipt_code, summary
        assert all(o.kind == "already-declared" and o.status == 409 for o in live if o.status != 201), summary

        paper = [o for o in outcomes if o.channel == "batch"]
        recorded = {o.body["receipt_code"] for o in outcomes if o.status == 201}
        assert recorded == {row.receipt_code for row in rows}, summary  # every 201 is a row, every row a 201
        # A paper item that loses the race for the next ordinal too often under this contention is
        # refused like the others: still never a 5xx.
        assert all(o.kind in ("recorded", "already-declared") for o in paper), summary
        if not with_batch:
            assert len(rows) == 1 and len(live) - len(recorded_live) == SUBMITTERS - 1, summary
    assert_aggregates_match(deployment.session)
    assert_ledger_sound(deployment.session)
    return added


def one_key_sent_1000_times(deployment: Deployment, servers: list[Any], voter: str) -> int:
    """One Idempotency-Key sent 1,000 times, 50 at once, over both instances: one row, one original
    answer and 999 copies of it. While the first is still being recorded the answer is 409 with
    Retry-After, and the client does what that says: waits and sends the same request again. How many
    409s there are depends on the machine's speed; that every request ends with the one original
    answer does not. The same key with another body is refused with 422."""
    session = deployment.session
    session.rollback()
    before = session.scalar(select(func.count()).select_from(Declaration))
    key = f"replay-{uuid.uuid4()}"
    body = deployment.counter_body(voter)

    in_flight: list[Answer] = []

    def send(index: int) -> Answer:
        http = Http(servers[index % 2].url, timeout=120)
        for _attempt in range(60):
            answer = http.post_json(deployment.declarations, body, deployment.api(deployment.clerk, key))
            if answer.status != 409:
                return answer
            in_flight.append(answer)
            time.sleep(min(float(answer.headers["retry-after"]), 1.0) / 10)  # sooner than asked: a hurried client
        return answer

    answers = in_parallel([lambda i=i: send(i) for i in range(1000)], 50)
    statuses = Counter(a.status for a in answers)
    assert all(a.json()["type"].endswith("/request-in-flight") and a.headers["retry-after"] for a in in_flight)
    created = [a for a in answers if a.status == 201]
    originals = [a for a in created if a.headers.get("idempotent-replayed") != "true"]
    assert statuses == {201: 1000} and len(originals) == 1, (statuses, len(in_flight))
    assert all(a.json() == originals[0].json() for a in created)

    other = Http(servers[0].url).post_json(deployment.declarations, deployment.counter_body(voter, "DENK"),
                                           deployment.api(deployment.clerk, key))
    assert other.status == 422 and other.json()["type"].endswith("/idempotency-key-reused")

    session.rollback()
    assert session.scalar(select(func.count()).select_from(Declaration)) == before + 1
    assert session.scalar(select(func.count()).select_from(IdempotencyKey).where(IdempotencyKey.key == key)) == 1
    assert_aggregates_match(session)
    assert_ledger_sound(session)
    return 1


def mixed_load(deployment: Deployment, servers: list[Any], voters: list[str]) -> int:
    """120 fresh voters through both instances at once, over every list: 40 at the counter, 40 online,
    40 on paper in two batches; then 10 of the online voters also on paper (kept, and all void). The
    stored aggregates, and the progress API on both instances, match a count of the rows."""
    session = deployment.session
    before = expected_totals(assert_aggregates_match(session))
    rng = random.Random(7)
    designations = sorted(deployment.lists)
    chosen = {number: rng.choice(designations) for number in voters}  # decided here, not in the threads
    tokens = {number: deployment.voter_token(number) for number in voters[40:80]}

    def single(index: int, number: str) -> Answer:
        http = Http(servers[index % 2].url, timeout=120)
        if number in tokens:
            return http.post_json(deployment.declarations, {"list": deployment.lists[chosen[number]]},
                                  deployment.api(tokens[number]))
        return http.post_json(deployment.declarations, deployment.counter_body(number, chosen[number]),
                              deployment.api(deployment.clerk))

    def paper(index: int, numbers: list[str]) -> Answer:
        items = [deployment.paper_item(f"mixed-{index}-{n}", number, chosen[number])
                 for n, number in enumerate(numbers)]
        return Http(servers[index % 2].url, timeout=120).post_json(
            deployment.batch, {"declarations": items}, deployment.api(deployment.system, None))

    calls = [lambda i=i, n=n: single(i, n) for i, n in enumerate(voters[:80])]
    calls += [lambda: paper(0, voters[80:100]), lambda: paper(1, voters[100:120])]
    answers = in_parallel(calls, 16)
    assert all(a.status == 201 for a in answers[:80]), Counter(a.status for a in answers[:80])
    assert all(a.status == 200 and a.json()["recorded"] == 20 for a in answers[80:])
    late = paper(2, voters[40:50])  # online voters again, now on paper: kept, and all void
    assert late.status == 200 and late.json()["recorded"] == 10, late.text[:500]

    expected = assert_aggregates_match(session)
    total, void = expected_totals(expected)
    assert (total - before[0], void - before[1]) == (130, 20)

    # What a party or the CSB reads through the API, on either instance, is the same arithmetic.
    kieskring = {district_id: number for district_id, number in session.execute(
        select(District.id, District.number).join(ListDistrict, ListDistrict.district_id == District.id))}
    for n, (designation, list_id) in enumerate(sorted(deployment.lists.items())):
        answer = Http(servers[n % 2].url).get(f"/api/v1/elections/TK2025/lists/{list_id}/progress",
                                              headers=deployment.api(deployment.csb, None))
        assert answer.status == 200, answer.text[:300]
        shown = {k["kieskring"]: (k["declarations"], k["void_multiple"], k["valid"])
                 for k in answer.json()["kieskringen"]}
        mine = {kieskring[d]: (total, void, total - void)
                for (lid, d, _v), (total, void) in expected.items() if lid == list_id}
        assert {k: v for k, v in shown.items() if v != (0, 0, 0)} == mine, designation
    assert_ledger_sound(session)
    return 130


def expected_totals(expected: dict[Any, tuple[int, int]]) -> tuple[int, int]:
    return sum(t for t, _v in expected.values()), sum(v for _t, v in expected.values())
