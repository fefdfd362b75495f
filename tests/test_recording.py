"""The one recording path, driven the way each channel calls it, for every outcome."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from registry.audit.models import AuditEvent
from registry.brp import PersonRegistryUnavailable
from registry.db import db
from registry.declarations.models import Declaration
from registry.declarations.services import (
    DeclarationRefused,
    DeclarationRequest,
    Refusal,
    record_declaration,
)
from registry.domain import Channel
from registry.elections import services as elections
from registry.elections.models import CandidateList
from registry.people import person_registry
from registry.privacy.services import election_cipher
from tests.conftest import AMS, TK2025_OPEN, bsn

PASSPORT = {"document_type": "paspoort", "document_number": "NW4K82PL1"}


def counter(case: str, list_number: int = 1, municipality: str = "GM0392", **extra) -> DeclarationRequest:
    return DeclarationRequest(election="TK2025", list_id=list_id(list_number), channel=Channel.COUNTER,
                              bsn=bsn(case) if case in _known() else case, actor=f"clerk:{municipality}:E100",
                              counter_municipality=municipality, **{**PASSPORT, **extra})


def online(case: str, list_number: int = 1) -> DeclarationRequest:
    return DeclarationRequest(election="TK2025", list_id=list_id(list_number), channel=Channel.ONLINE,
                              bsn=bsn(case), actor="voter:test", attestation_extra={"acr": "substantieel"})


def _known() -> set[str]:
    from tests.conftest import CASES

    return set(CASES)


def list_id(number: int) -> int:
    return db.session.scalar(select(CandidateList.id).join(CandidateList.election)
                             .where(CandidateList.number == number).limit(1))


def record(request: DeclarationRequest, now: datetime = TK2025_OPEN, registry=None):
    return record_declaration(db.session, registry or person_registry(), request, now=now)


def refused(request: DeclarationRequest, now: datetime = TK2025_OPEN, registry=None) -> DeclarationRefused:
    before = (db.session.scalar(select(func.count()).select_from(Declaration)),
              db.session.scalar(select(func.count()).select_from(AuditEvent)))
    with pytest.raises(DeclarationRefused) as caught:
        record(request, now, registry)
    after = (db.session.scalar(select(func.count()).select_from(Declaration)),
             db.session.scalar(select(func.count()).select_from(AuditEvent)))
    assert after == before, "a refusal must not write anything"
    return caught.value


def open_online(identifier: str = "TK2025") -> None:
    elections.update_settings(db.session, identifier, "test", online_open=True,
                              online_legal_basis="Experiment (test)")


def test_H4_counter_declaration_is_recorded_with_the_burgemeesters_note(session, tk2025):
    recorded = record(counter("voter_haarlem_1"))
    assert recorded.channel == "counter" and recorded.election == "TK2025"
    assert (recorded.district_number, recorded.municipality_code) == (10, "GM0392")
    assert recorded.municipality_name == "Haarlem" and recorded.list_number == 1
    assert len(recorded.receipt_code) == 14 and recorded.receipt_code.count("-") == 2
    row = session.get(Declaration, recorded.id)
    assert row.attestation["kind"] == "burgemeester-note"
    assert row.attestation["document_type"] == "paspoort"
    assert row.attestation["official"] == "clerk:GM0392:E100"
    assert "NW4K82PL1" not in str(row.attestation)  # the document number is never stored
    assert bsn("voter_haarlem_1") not in row.voter_key
    assert election_cipher(session, tk2025).decrypt(row.name_ciphertext, "declarant-name") == \
        "Anne-Marie Brouwer-de Jong"
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (event.action, event.subject) == ("declaration.recorded", f"declaration:{recorded.id}")


def test_online_declaration_carries_the_registrys_own_brp_check(session, tk2025):
    open_online()
    recorded = record(online("voter_haarlem_2", 3))
    row = session.get(Declaration, recorded.id)
    assert row.channel == "online" and row.attestation["kind"] == "registry-brp-check"
    assert row.attestation["legal_basis"] == "Experiment (test)" and row.attestation["acr"] == "substantieel"


def test_online_channel_closed_unless_the_election_opens_it(session, tk2025):
    assert refused(online("voter_haarlem_2")).code is Refusal.ONLINE_CLOSED


@pytest.mark.parametrize(("value", "fragment"), [
    ("999900184", "elfproef"), ("12345", "9 cijfers"), ("000000000", "nullen"), ("99990018A", "9 cijfers"),
])
def test_a_bsn_failing_the_11_proof_is_refused_before_any_lookup(session, tk2025, value, fragment):
    class Exploding:
        def lookup(self, _bsn):
            raise AssertionError("no BRP lookup for an invalid BSN")

    error = refused(counter(value), registry=Exploding())
    assert error.code is Refusal.INVALID_BSN and fragment in error.message
    assert value not in error.message


@pytest.mark.parametrize(("document", "field"), [
    ({"document_type": "bibliotheekpas"}, "type"),
    ({"document_type": None}, "type"),
    ({"document_type": "paspoort", "document_number": "123"}, "number"),
    ({"document_type": "rijbewijs", "document_number": "NW4K82PL1"}, "number"),
])
def test_H4_lid3_counter_needs_a_valid_identity_document(session, tk2025, document, field):
    error = refused(counter("voter_haarlem_1", **document))
    assert error.code is Refusal.INVALID_DOCUMENT and error.details["field"] == field


def test_unknown_list_is_refused(session, tk2025):
    request = counter("voter_haarlem_1")
    error = refused(DeclarationRequest(**{**request.__dict__, "list_id": 999_999}))
    assert error.code is Refusal.UNKNOWN_LIST


@pytest.mark.parametrize(("case", "reason"), [
    ("minor", "underage"),
    ("deceased", "deceased"),
    ("excluded_from_voting", "excluded"),
    ("eu_citizen_belgian", "nationality"),
    ("registered_abroad", "not_registered"),
    ("not_in_brp", "not_registered"),
])
def test_B1_H4_lid2_not_eligible_says_why(session, tk2025, case, reason):
    open_online()
    error = refused(online(case))
    assert error.code is Refusal.NOT_ELIGIBLE and error.details["reason"] == reason


def test_H4_lid3_counter_only_in_the_voters_own_municipality(session, tk2025):
    error = refused(counter("voter_amsterdam_1"))
    assert error.code is Refusal.NOT_REGISTERED_HERE
    assert "Amsterdam" not in error.message and error.details == {}  # nothing about where they live


def test_H4_lid2_list_must_be_submitted_in_the_voters_kieskring(session, tk2025):
    open_online()
    error = refused(online("voter_amsterdam_1"))  # the Haarlem lists are only in kieskring 10
    assert error.code is Refusal.WRONG_KIESKRING and error.details["kieskring"] == 9


def test_H4_lid3_window_closes_at_1700_on_nomination_day(session, tk2025):
    closing = datetime(2025, 9, 15, 17, 0, 0, tzinfo=AMS)
    assert refused(counter("voter_haarlem_1"), now=closing).code is Refusal.WINDOW_CLOSED
    assert refused(counter("voter_haarlem_1"), now=datetime(2025, 8, 31, 23, 59, 59, tzinfo=AMS)).code \
        is Refusal.WINDOW_CLOSED
    assert record(counter("voter_haarlem_1"), now=closing - timedelta(seconds=1)).channel == "counter"


def test_H4_lid5_second_declaration_is_refused_without_naming_the_first_list(session, tk2025):
    open_online()
    first = record(counter("voter_haarlem_1", 4))
    error = refused(online("voter_haarlem_1", 7))
    assert error.code is Refusal.ALREADY_DECLARED
    first_list = session.get(CandidateList, first.list_id)
    assert first_list.designation not in error.message and "lijst" not in error.message.lower()
    assert error.details == {}
    # the same sentence whatever the earlier list was
    record(counter("voter_haarlem_2", 9))
    assert refused(counter("voter_haarlem_2", 4)).message == error.message


def test_I2_lid1a_a_paper_declaration_of_a_voter_who_already_declared_is_kept_and_voids_both(session, tk2025):
    record(counter("voter_haarlem_1", 4))
    paper = DeclarationRequest(
        election="TK2025", list_id=list_id(5), channel=Channel.BATCH, bsn=bsn("voter_haarlem_1"),
        actor="system:gm0392-backoffice", counter_municipality="GM0392",
        signed_at=datetime(2025, 9, 9, 10, 0, tzinfo=AMS), keep_if_duplicate=True, **PASSPORT)
    kept = record(paper)
    assert kept.ordinal == 2 and kept.void_for_multiple
    rows = session.scalars(select(Declaration).order_by(Declaration.id)).all()
    assert len(rows) == 2 and rows[0].voter_key == rows[1].voter_key
    assert rows[1].signed_at == datetime(2025, 9, 9, 10, 0, tzinfo=AMS)


def test_a_paper_declaration_signed_after_the_window_is_refused(session, tk2025):
    paper = DeclarationRequest(
        election="TK2025", list_id=list_id(5), channel=Channel.BATCH, bsn=bsn("voter_haarlem_1"),
        actor="system:x", counter_municipality="GM0392", keep_if_duplicate=True,
        signed_at=datetime(2025, 9, 15, 17, 30, tzinfo=AMS), **PASSPORT)
    assert refused(paper, now=datetime(2025, 9, 15, 18, 0, tzinfo=AMS)).code is Refusal.WINDOW_CLOSED


def test_brp_unreachable_records_nothing_and_says_what_to_do(session, tk2025):
    class Down:
        def lookup(self, _bsn):
            raise PersonRegistryUnavailable("timeout")

    error = refused(counter("voter_haarlem_1"), registry=Down())
    assert error.code is Refusal.REGISTRY_UNAVAILABLE and "papieren formulier" in error.message


def test_H4_lid6_declarations_cannot_be_edited_or_deleted_in_the_database(session, tk2025):
    recorded = record(counter("voter_haarlem_1"))
    for statement in (f"UPDATE declarations SET list_id = list_id + 1 WHERE id = {recorded.id}",
                      f"DELETE FROM declarations WHERE id = {recorded.id}",
                      "UPDATE audit_events SET actor = 'someone else'",
                      "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError):
            session.execute(text(statement))
        session.rollback()
    assert session.get(Declaration, recorded.id).list_id == recorded.list_id


def test_H4_lid5_concurrent_attempts_for_one_voter_end_with_exactly_one(app: Flask, session, tk2025):
    open_online()
    threads_n = 12
    barrier = threading.Barrier(threads_n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        with app.app_context():
            request = online("voter_haarlem_3", 1 + index % 5) if index % 2 else \
                counter("voter_haarlem_3", 1 + index % 5)
            barrier.wait()
            try:
                record(request)
                outcome = "recorded"
            except DeclarationRefused as exc:
                outcome = exc.code.value
            except Exception as exc:  # pragma: no cover - shows up as a failed assertion below
                outcome = f"error: {exc!r}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already-declared"] * (threads_n - 1) + ["recorded"]
    assert session.scalar(select(func.count()).select_from(Declaration)) == 1
