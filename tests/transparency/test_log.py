"""The transparency log with a database (SQLite and PostgreSQL): the single sealer, signed tree heads, the
public endpoints, the heads of the CSB's sessions, the dossier's leaves and audit paths, the monitor and
what is left after the purge (I 19)."""

from __future__ import annotations

import base64
import hashlib
import io
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session as OrmSession

from registry.csb import services as csb
from registry.db import db, utcnow
from registry.declarations.models import Declaration
from registry.domain import merkle
from registry.dossier import services as dossier
from registry.dossier import verify as verifier
from registry.elections.models import CandidateList, ListDistrict
from registry.privacy.keys import ElectionKeysDestroyed
from registry.privacy.services import election_cipher
from registry.transparency import services as transparency
from registry.transparency.models import LogLeaf, TreeHead
from tests.conftest import TK2025_OPEN

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def receipt(number: int) -> str:
    digits = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(12))
    return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def lists(session: Any, election: Any) -> list[CandidateList]:
    return list(session.scalars(select(CandidateList).where(CandidateList.election_id == election.id,
                                                            CandidateList.number.is_not(None))
                                .order_by(CandidateList.number)).all())


def bulk(session: Any, election: Any, count: int, start: int = 0, recorded_at: Any = TK2025_OPEN,
         first_id: int | None = None) -> list[int]:
    """``count`` declarations inserted straight into the table, alternating between lists 1 and 2 (with ids
    from ``first_id`` on, if given: a declaration that drew its id earlier and commits only now)."""
    links = [session.scalar(select(ListDistrict).where(ListDistrict.list_id == lst.id)) for lst in
             lists(session, election)[:2]]
    blob = election_cipher(session, election).encrypt("Bulk, B. (Bart)", "declarant-name")
    for first in range(start, start + count, 5000):
        session.execute(insert(Declaration), [{
            "election_id": election.id, "list_id": links[i % 2].list_id, "list_version_id": links[i % 2].version_id,
            "district_id": links[i % 2].district_id, "municipality_code": "GM0392", "channel": "counter",
            "voter_key": hashlib.sha256(f"voter-{i}".encode()).hexdigest(), "ordinal": 1,
            "receipt_code": receipt(i), "name_ciphertext": blob, "signed_at": recorded_at,
            "recorded_at": recorded_at, "attestation": {"municipality": "GM0392"},
            **({"id": first_id + i - start} if first_id is not None else {}),
        } for i in range(first, min(start + count, first + 5000))])
        session.commit()
    session.execute(text("ANALYZE declarations"))
    session.commit()
    return list(session.scalars(select(Declaration.id).where(Declaration.election_id == election.id)
                                .order_by(Declaration.id)))


def key() -> Any:
    return transparency.log_key().public_key()


def check_head(head: dict[str, Any]) -> None:
    assert verifier.verify_head(head, key())


# --- the sealer ---------------------------------------------------------------------------------------

def test_the_sealer_appends_committed_declarations_in_id_order_and_signs_a_head(app, session, tk2025):
    ids = bulk(session, tk2025, 7)
    result = transparency.seal(session, tk2025, TK2025_OPEN + timedelta(minutes=1))
    assert (result.appended, result.size) == (7, 7)
    leaves = session.scalars(select(LogLeaf).order_by(LogLeaf.leaf_index)).all()
    assert [leaf.declaration_id for leaf in leaves] == ids and [leaf.leaf_index for leaf in leaves] == list(range(7))
    # each leaf is the hash of the declaration's canonical record with its secret salt
    cipher = election_cipher(session, tk2025)
    for leaf in leaves:
        facts = transparency.leaf_facts(session, leaf.declaration_id)
        record = facts.record(cipher)
        assert leaf.leaf_hash == merkle.leaf_hash(record) == verifier.leaf_hash(record)
        assert b'"salt":"' + cipher.leaf_salt(leaf.declaration_id).hex().encode() in record
    [head] = transparency.heads(session, tk2025)
    assert head.tree_size == 7 and head.root_hash == merkle.root([leaf.leaf_hash for leaf in leaves])
    check_head(transparency.head_json(head, "TK2025"))
    # nothing new: no new head within the minute; a minute on, the same size signed again (the window is
    # open: a head at least every minute); then the window of TK2025 closes: its own head
    assert transparency.seal(session, tk2025, TK2025_OPEN + timedelta(seconds=119)).heads == []
    alive = transparency.seal(session, tk2025, TK2025_OPEN + timedelta(minutes=2))
    assert (alive.appended, alive.size, alive.heads) == (0, 7, ["periodic"])
    closed = transparency.seal(session, tk2025, tk2025.window_closes_at + timedelta(seconds=1))
    assert closed.heads == ["window-close"] and closed.size == 7
    # more declarations: appended after the ones already in, a new periodic head
    more = bulk(session, tk2025, 3, start=7)
    again = transparency.seal(session, tk2025, tk2025.window_closes_at + timedelta(minutes=1))
    assert (again.appended, again.size, again.heads) == (3, 10, ["periodic"])
    assert [leaf.declaration_id for leaf in session.scalars(select(LogLeaf).order_by(LogLeaf.leaf_index))] == more


def test_two_sealers_at_once_append_each_declaration_once(app, session, tk2025):
    bulk(session, tk2025, 300)
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                election = db.session.get(type(tk2025), tk2025.id)
                for _ in range(3):
                    transparency.seal(db.session, election)
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    session.rollback()
    indexes = session.scalars(select(LogLeaf.leaf_index).order_by(LogLeaf.leaf_index)).all()
    assert indexes == list(range(300))
    heads = transparency.heads(session, tk2025)
    # one sealer appended and signed (TK2025's window has closed: the window-close head), the others found
    # nothing to do
    assert [(h.tree_size, h.kind) for h in heads] == [(300, "window-close")]


def test_a_round_reads_only_above_its_floor_and_a_late_commit_waits_for_the_next_sweep(app, session, tk2025,
                                                                                     monkeypatch):
    """A round costs what is new: it reads declarations above the highest id that existed a look-back before.
    A declaration that drew its id before that and committed only later is taken in by the next full sweep
    (at the latest SWEEP_SECONDS on) or by a fixed moment's head, whichever comes first."""
    rounds = [1000.0]
    monkeypatch.setattr(transparency, "clock", lambda: rounds[0])
    during = TK2025_OPEN + timedelta(minutes=1)
    sealed = bulk(session, tk2025, 10)
    assert transparency.seal(session, tk2025, during).appended == 10  # this process's first round: a full sweep
    gap = sealed[-1] + 1  # ids gap .. gap + 49 stand for recordings still running during the rounds below
    rounds[0] += transparency.LOOK_BACK_SECONDS + 1
    newer = bulk(session, tk2025, 5, start=10, first_id=gap + 50)
    assert transparency.seal(session, tk2025, during).appended == 5  # above the first round's highest id
    rounds[0] += transparency.LOOK_BACK_SECONDS + 1
    late = bulk(session, tk2025, 1, start=15, first_id=gap)  # drew its id before the newer ones, commits now
    late_id = sorted(set(late) - set(sealed) - set(newer))
    result = transparency.seal(session, tk2025, during)
    assert (result.appended, result.size) == (0, 15)  # below this round's floor: not read
    assert session.scalar(select(LogLeaf).where(LogLeaf.declaration_id.in_(late_id))) is None
    rounds[0] = 1000.0 + transparency.SWEEP_SECONDS  # a minute after the last full sweep
    result = transparency.seal(session, tk2025, during)
    assert (result.appended, result.size) == (1, 16)
    assert session.scalar(select(LogLeaf.leaf_index).where(LogLeaf.declaration_id.in_(late_id))) == 15
    # A fixed moment's head always sweeps: a late one is in the head of the window's close.
    rounds[0] += transparency.LOOK_BACK_SECONDS + 1
    also_late = sorted(set(bulk(session, tk2025, 1, start=16, first_id=gap + 1)) - set(sealed) - set(newer)
                       - set(late_id))
    closed = transparency.seal(session, tk2025, tk2025.window_closes_at)
    assert (closed.appended, closed.size, closed.heads) == (1, 17, ["window-close"])
    assert session.scalar(select(LogLeaf.leaf_index).where(LogLeaf.declaration_id.in_(also_late))) == 16


def test_a_round_under_load_takes_what_was_there_when_it_began(app, session, tk2025, monkeypatch):
    """Declarations that commit while a round runs are the next round's: a round does not chase the load."""
    if session.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite: one writer at a time, nothing commits while a round holds the write lock")
    bulk(session, tk2025, 4)
    real = transparency._append
    calls: list[int] = []

    def append_then_more_arrive(*args: Any) -> None:
        real(*args)
        calls.append(len(args[-1]))
        if len(calls) == 1:
            with OrmSession(db.engine) as other:  # another connection: commits while the round is still open
                bulk(other, tk2025, 3, start=4)

    monkeypatch.setattr(transparency, "_append", append_then_more_arrive)
    monkeypatch.setattr(transparency, "SEAL_BATCH", 4)  # a full batch: the round reads once more
    first = transparency.seal(session, tk2025, TK2025_OPEN)
    assert (first.appended, calls) == (4, [4])  # not the 3 that arrived
    second = transparency.seal(session, tk2025, TK2025_OPEN)
    assert (second.appended, second.size, calls) == (3, 7, [4, 3])


def test_the_log_is_append_only(app, session, tk2025):
    bulk(session, tk2025, 2)
    transparency.seal(session, tk2025)
    for statement in ("UPDATE log_leaves SET leaf_index = 5", "DELETE FROM log_leaves",
                      "UPDATE log_heads SET tree_size = 1", "DELETE FROM log_heads"):
        with pytest.raises(Exception, match="append-only"):
            session.execute(text(statement))
        session.rollback()


def test_every_leaf_of_a_10000_declaration_log_proves_against_the_head(app, session, tk2025, capsys):
    bulk(session, tk2025, 10_000)
    started = time.perf_counter()
    result = transparency.seal(session, tk2025, TK2025_OPEN)
    sealed = time.perf_counter() - started
    assert result.size == 10_000
    head = transparency.latest_head(session, tk2025)
    leaves = session.scalars(select(LogLeaf.leaf_hash).order_by(LogLeaf.leaf_index)).all()
    started = time.perf_counter()
    tree = transparency.log_tree(session, tk2025.id, head.tree_size)
    for index, leaf in enumerate(leaves):
        path = tree.inclusion_path(index, head.tree_size)
        assert verifier.verify_inclusion(index, head.tree_size, leaf, path, head.root_hash)
        if index % 997 == 0:
            assert not verifier.verify_inclusion(index, head.tree_size, bytes([leaf[0] ^ 1]) + leaf[1:], path,
                                                 head.root_hash)
    proved = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[{session.get_bind().dialect.name}] sealing 10,000 pending declarations: {sealed:.2f} s; "
              f"10,000 audit paths built and verified: {proved:.2f} s")


# --- the public endpoints -----------------------------------------------------------------------------

def test_heads_consistency_and_the_voters_proof_over_http(app, client, session, tk2025):
    moment = TK2025_OPEN
    for batch, count in enumerate((1, 2, 5, 8, 13)):
        bulk(session, tk2025, count, start=sum((1, 2, 5, 8, 13)[:batch]))
        moment += timedelta(minutes=1)
        transparency.seal(session, tk2025, moment)
    document = client.get("/api/v1/elections/TK2025/log/heads").get_json()
    heads = document["heads"]
    assert [h["tree_size"] for h in heads] == [1, 3, 8, 16, 29, 29]  # the last one: the window has closed
    assert heads[-1]["kind"] == "window-close"
    published = verifier.load_public_key(document["public_key"].encode(), "key")
    assert all(verifier.verify_head(h, published) for h in heads)
    for first in heads:
        for second in heads:
            answer = client.get(f"/api/v1/elections/TK2025/log/consistency?first={first['tree_size']}"
                                f"&second={second['tree_size']}")
            if first["tree_size"] > second["tree_size"]:
                assert answer.status_code == 404
                continue
            proof = [bytes.fromhex(h) for h in answer.get_json()["proof"]]
            assert verifier.verify_consistency(first["tree_size"], second["tree_size"],
                                               bytes.fromhex(first["root_hash"]), bytes.fromhex(second["root_hash"]),
                                               proof)
    # the voter's proof: by the receipt code alone
    code = receipt(9)
    answer = client.get(f"/api/v1/elections/TK2025/log/proof?receipt={code}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    proof = answer.get_json()
    record = verifier.leaf_record(**{"declaration_id": proof["record"]["declaration"],
                                     "list_id": proof["record"]["list"],
                                     "list_version_hash": proof["record"]["list_version"],
                                     "kieskring": proof["record"]["kieskring"],
                                     "recorded_at": proof["record"]["recorded_at"],
                                     "salt_hex": proof["record"]["salt"]})
    assert verifier.leaf_hash(record).hex() == proof["leaf_hash"]
    latest = proof["latest"]
    assert latest["head"] == heads[-1] and proof["decision"] is None
    assert verifier.verify_inclusion(proof["leaf_index"], latest["head"]["tree_size"],
                                     bytes.fromhex(proof["leaf_hash"]),
                                     [bytes.fromhex(h) for h in latest["audit_path"]],
                                     bytes.fromhex(latest["head"]["root_hash"]))
    # what the public sees reveals no list: the heads and a consistency proof are hashes and counts
    assert "list" not in str(document) and code not in str(document)
    # errors: problem+json
    for url, status, slug in (
            ("/api/v1/elections/TK2025/log/proof?receipt=AAAA-BBBB-CCCC", 404, "unknown-receipt"),
            ("/api/v1/elections/TK2025/log/proof?receipt=nonsense", 422, "invalid-request"),
            ("/api/v1/elections/XX2025/log/heads", 404, "unknown-election"),
            ("/api/v1/elections/TK2025/log/consistency?first=2&second=3", 404, "unknown-head"),
            ("/api/v1/elections/TK2025/log/consistency?first=a&second=3", 422, "invalid-request")):
        answer = client.get(url)
        assert answer.status_code == status, url
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.get_json()["type"].endswith("/" + slug)
    # a declaration not sealed yet (in production there is no lazy sealing)
    bulk(session, tk2025, 1, start=29)
    app.config["STEUNREGISTER"]["ENV"] = "production"
    try:
        pending = client.get(f"/api/v1/elections/TK2025/log/proof?receipt={receipt(29)}")
    finally:
        app.config["STEUNREGISTER"]["ENV"] = "test"
    assert pending.status_code == 404 and pending.get_json()["type"].endswith("/not-yet-in-log")
    # the pages
    page = client.get("/logboek/TK2025").get_data(as_text=True)
    assert "Ondertekende boomkoppen" in page and heads[-1]["root_hash"] in page
    proof_page = client.get(f"/logboek/TK2025/bewijs?code={code}").get_data(as_text=True)
    assert proof["leaf_hash"] in proof_page and 'id="log-proof-data"' in proof_page
    assert client.get("/logboek/TK2025/bewijs?code=AAAA-BBBB-CCCC").status_code == 404


def test_the_proof_lookup_is_rate_limited(app, client, session, tk2025):
    app.config["RATELIMIT_ENABLED"] = True
    app.config["STEUNREGISTER"]["RATE_LIMIT_PER_ADDRESS"] = "3 per minute"
    answers = [client.get("/api/v1/elections/TK2025/log/proof?receipt=AAAA-BBBB-CCCC").status_code
               for _ in range(5)]
    assert answers[:3] == [404, 404, 404] and answers[3:] == [429, 429]


# --- the CSB's moments, the dossier, the purge --------------------------------------------------------

def decide(session: Any, election: Any) -> None:
    held = csb.sessions(session, election)
    csb.hold_examination(session, election, "csb:TK2025:test", now=csb.calendar(election, held).examination_from)
    held = csb.sessions(session, election)
    csb.hold_decision(session, election, "csb:TK2025:test", now=csb.calendar(election, held).decision_from)


def build(session: Any, list_id: int) -> bytes:
    out = io.BytesIO()
    dossier.build_dossier(session, "TK2025", list_id, out, actor="test")
    return out.getvalue()


def rebuilt(session: Any, election: Any, list_id: int, change: Any) -> bytes:
    """The dossier as the registry would sign it, with ``change`` applied to its rows: what a registry that
    dropped or added a declaration between the log and the dossier would hand over."""
    candidate_list = session.get(CandidateList, list_id)
    header = dossier.manifest_header(session, election, candidate_list, utcnow())
    lines = [line.as_dict() for line in csb.declaration_lines(session, election, list_id, with_names=True)]
    log = transparency.dossier_log(session, election, list_id)
    out = io.BytesIO()
    dossier.write_dossier(out, header, change(lines), dossier.signing_key(), lambda manifest, fp: b"%PDF-1.7 " +
                          fp.encode(), None, log)
    return out.getvalue()


def test_the_i4_head_is_in_every_dossier_and_a_dropped_or_added_declaration_fails(app, session, tk2025):
    bulk(session, tk2025, 40)
    transparency.seal(session, tk2025, TK2025_OPEN)
    transparency.seal(session, tk2025, tk2025.window_closes_at)  # the sealer's round at the close of the window
    decide(session, tk2025)
    kinds = [h.kind for h in transparency.heads(session, tk2025)]
    assert kinds == ["periodic", "window-close", "i1", "i4"], kinds
    list_id = lists(session, tk2025)[0].id
    report = verifier.verify(io.BytesIO(build(session, list_id)))
    assert report.ok, report.problem
    assert report.log["head"]["kind"] == "i4" and report.log["leaves"] == 20 and report.log["salted"]
    assert any("Logboek: alle 20 verklaringen" in line for line in verifier.summary(report))

    def dropped(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return lines[:5] + lines[6:]

    def added(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [*lines, {**lines[0], "declaration_id": 999_999, "sequence": len(lines) + 1}]

    def moved(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**lines[0], "kieskring": 9}, *lines[1:]]

    for change, reason in ((dropped, "ontbreekt in het dossier: er is een verklaring weggelaten"),
                           (added, "Verklaring 999999 staat in het dossier, maar niet in het logboek"),
                           (moved, "hoort niet bij deze gegevens")):
        report = verifier.verify(io.BytesIO(rebuilt(session, tk2025, list_id, change)))
        assert not report.ok and reason in report.problem, report.problem
    assert verifier.verify(io.BytesIO(rebuilt(session, tk2025, list_id, lambda lines: lines))).ok


def test_after_the_purge_the_log_keeps_only_hashes(app, client, session, tk2025):
    ids = bulk(session, tk2025, 12)
    decide(session, tk2025)
    held = csb.sessions(session, tk2025)
    when = csb.calendar(tk2025, held).final_from
    csb.record_final(session, tk2025, "csb:TK2025:test", "Geen beroep ingesteld.", now=when)
    csb.purge(session, tk2025, "csb:TK2025:test", execute=True, now=when + timedelta(minutes=5))
    session.rollback()
    with pytest.raises(ElectionKeysDestroyed):
        election_cipher(session, tk2025)  # the salts' key is gone with the election's keys
    leaf_rows = session.execute(text("SELECT * FROM log_leaves")).all()
    head_rows = session.execute(text("SELECT * FROM log_heads")).all()
    assert len(leaf_rows) == 12 and {len(row) for row in leaf_rows} == {5}
    dumped = " ".join(str(value) for row in [*leaf_rows, *head_rows] for value in row)
    for candidate in lists(session, tk2025):
        assert (candidate.designation or "") not in dumped
    for number in range(12):
        assert receipt(number) not in dumped
    assert "Bulk" not in dumped and "voter-" not in dumped
    # without the salt, a leaf cannot be matched to a list: try every list and version for one leaf
    leaf = session.scalar(select(LogLeaf).where(LogLeaf.declaration_id == ids[0]))
    facts = transparency.leaf_facts(session, ids[0])
    guesses = {verifier.leaf_hash(verifier.leaf_record(ids[0], candidate.id, facts.list_version_hash,
                                                         facts.kieskring, transparency.recorded_at_text(
                                                             facts.recorded_at), salt))
               for candidate in lists(session, tk2025) for salt in ("", "00" * 32)}
    assert leaf.leaf_hash not in guesses
    # the proof by receipt code is gone with the receipt codes; the log and its heads stand
    assert client.get(f"/api/v1/elections/TK2025/log/proof?receipt={receipt(0)}").status_code == 404
    assert [h["kind"] for h in client.get("/api/v1/elections/TK2025/log/heads").get_json()["heads"]][-1] == "i4"
    # a dossier made after the purge still proves every declaration against the I 4 head, without salts
    report = verifier.verify(io.BytesIO(build(session, lists(session, tk2025)[0].id)))
    assert report.ok, report.problem
    assert report.log["head"]["kind"] == "i4" and not report.log["salted"]


# --- the monitor --------------------------------------------------------------------------------------

def test_the_monitor_sees_the_log_grow_and_catches_a_rewritten_history(app, client, session, tk2025):
    def fetch(url: str) -> Any:
        answer = client.get(url.removeprefix("http://localhost"))
        assert answer.status_code == 200, (url, answer.status_code)
        return answer.get_json()

    base = "http://localhost/api/v1/elections/TK2025/log"
    tk2025.window_closes_at = utcnow() + timedelta(days=1)  # the window open, as while a monitor watches
    session.commit()
    bulk(session, tk2025, 5)
    transparency.seal(session, tk2025)
    state: dict[str, Any] = {}
    assert len(verifier.monitor_round(base, state, None, fetch)) == 1
    bulk(session, tk2025, 6, start=5)
    transparency.seal(session, tk2025)
    assert len(verifier.monitor_round(base, state, None, fetch)) == 1
    assert verifier.monitor_round(base, state, None, fetch) == []

    # the log lies: a head seen before comes back changed
    def changed(url: str) -> Any:
        document = fetch(url)
        if "/heads?" in url:
            document["heads"][0]["root_hash"] = "00" * 32
        return document

    with pytest.raises(verifier.MonitorProblem, match="niet ondertekend"):
        verifier.monitor_round(base, dict(state), None, changed)

    # the log lies: the last head seen is gone from its place (replaced by a later, validly signed one)
    def dropped(url: str) -> Any:
        document = fetch(url)
        if "/heads?" in url:
            document["heads"] = document["heads"][1:]
        return document

    with pytest.raises(verifier.MonitorProblem, match="veranderd of verdwenen"):
        verifier.monitor_round(base, dict(state), None, dropped)

    # the log forks: a new head, signed with the real key, over a history with a leaf taken out
    leaves = session.scalars(select(LogLeaf.leaf_hash).order_by(LogLeaf.leaf_index)).all()
    forked = merkle.Tree([*leaves[:2], *leaves[3:], hashlib.sha256(b"x").digest(), hashlib.sha256(b"y").digest()])
    stamp = transparency.timestamp(utcnow() + timedelta(minutes=2))
    fake = {"election": "TK2025", "tree_size": forked.size, "root_hash": forked.root().hex(), "timestamp": stamp,
            "kind": "periodic", "key_id": transparency.public_key()[1],
            "signature": base64.b64encode(transparency.log_key().sign(verifier.head_message(
                "TK2025", forked.size, forked.root().hex(), stamp, "periodic"))).decode()}

    def fork(url: str) -> Any:
        if "/heads?" in url:
            document = fetch(url)
            document["heads"].append(fake)
            return document
        return {"proof": [h.hex() for h in forked.consistency_proof(11, forked.size)]}

    with pytest.raises(verifier.MonitorProblem, match="weggehaald of veranderd"):
        verifier.monitor_round(base, state, None, fork)


def test_the_heads_come_in_pages_and_the_monitor_reads_only_what_is_new(app, client, session, tk2025,
                                                                        monkeypatch):
    """Weeks of a head a minute make tens of thousands of heads: the API answers them a page at a time, the
    page shows the latest and the fixed moments', and a monitor's round starts at the last head it saw."""
    monkeypatch.setattr(transparency, "HEADS_PAGE", 3)
    monkeypatch.setattr("registry.transparency.routes.PAGE_HEADS", 4)
    for number in range(7):  # seven heads: one a minute while the window is open, the log growing
        bulk(session, tk2025, 1, start=number)
        transparency.seal(session, tk2025, TK2025_OPEN + timedelta(minutes=number))
    transparency.seal(session, tk2025, tk2025.window_closes_at)
    base = "/api/v1/elections/TK2025/log/heads"
    first = client.get(base).get_json()
    assert (first["from"], first["total"], first["next"], len(first["heads"])) == (0, 8, 3, 3)
    last = client.get(f"{base}?from=6").get_json()
    assert (last["next"], [h["kind"] for h in last["heads"]]) == (None, ["periodic", "window-close"])
    assert client.get(f"{base}?from=99").get_json()["heads"] == []
    for bad in ("-1", "x", "1.5", "99999999999"):
        answer = client.get(f"{base}?from={bad}")
        assert answer.status_code == 422 and answer.get_json()["pointer"] == "/from", bad

    page = client.get("/logboek/TK2025").get_data(as_text=True)
    assert "De laatste 4 van 8 boomkoppen, nieuwste eerst" in page and "Vaste momenten" in page
    assert page.count("<tr>") == 1 + 1 + 1 + 4  # two header rows, the window-close head, the latest four

    fetched: list[str] = []

    def fetch(url: str) -> Any:
        fetched.append(url.removeprefix("http://localhost/api/v1/elections/TK2025/log"))
        answer = client.get(url.removeprefix("http://localhost"))
        assert answer.status_code == 200, (url, answer.status_code)
        return answer.get_json()

    state: dict[str, Any] = {}
    assert len(verifier.monitor_round("http://localhost" + base.removesuffix("/heads"), state, None, fetch)) == 8
    assert [url for url in fetched if url.startswith("/heads")] == ["/heads?from=0", "/heads?from=3",
                                                                    "/heads?from=6"]
    assert state["seen"] == 8 and state["last"]["kind"] == "window-close"
    bulk(session, tk2025, 2, start=7)
    transparency.seal(session, tk2025, tk2025.window_closes_at + timedelta(minutes=1))
    fetched.clear()
    [line] = verifier.monitor_round("http://localhost" + base.removesuffix("/heads"), state, None, fetch)
    assert "periodic: 9 verklaringen" in line
    assert fetched[0] == "/heads?from=7" and len([u for u in fetched if u.startswith("/heads")]) == 1
    # a state file from before the pages (every head kept) goes on from its last head
    old_state = {"key_id": state["key_id"], "heads": [state["last"]]}
    old_state["heads"] = [None] * 8 + [state["last"]]
    assert verifier.monitor_round("http://localhost" + base.removesuffix("/heads"), old_state, None, fetch) == []


def test_log_commands(app, session, tk2025, cli):
    bulk(session, tk2025, 4, recorded_at=utcnow())
    sealed = cli.invoke(args=["log", "seal", "TK2025"])
    assert sealed.exit_code == 0 and "4 toegevoegd, 4 in het logboek" in sealed.output, sealed.output
    bulk(session, tk2025, 2, start=4, recorded_at=utcnow())
    ran = cli.invoke(args=["log", "run", "--rounds", "1"])
    assert ran.exit_code == 0 and "2 toegevoegd, 6 in het logboek" in ran.output, ran.output
    status = cli.invoke(args=["log", "status", "TK2025"])
    assert status.exit_code == 0 and "6 verklaringen in het logboek" in status.output and "mediaan" in status.output
    assert cli.invoke(args=["log", "seal", "XX2025"]).exit_code == 1
    assert session.scalar(select(TreeHead.kind).order_by(TreeHead.id.desc()).limit(1)) == "periodic"
    assert all(d < 5 for d in transparency.sealing_delays(session, tk2025)[-2:])


def test_the_receipt_pdf_carries_the_leaf_hash(app, session, tk2025):
    from registry.documents.services import receipt_html

    [first] = bulk(session, tk2025, 1)
    leaf = transparency.declaration_leaf_hash(session, session.get(Declaration, first))
    assert leaf is not None and leaf in receipt_html(session, first)
    transparency.seal(session, tk2025)
    assert session.scalar(select(LogLeaf.leaf_hash)).hex() == leaf  # the same hash the sealer stored
