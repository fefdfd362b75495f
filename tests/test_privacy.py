"""The BSN is never stored or logged in plaintext; keys live outside the database."""

from __future__ import annotations

import logging
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app
from registry.declarations.services import DeclarationRefused, DeclarationRequest, record_declaration
from registry.domain import Channel
from registry.elections import services as elections
from registry.elections.models import CandidateList
from registry.people import person_registry
from registry.privacy.keys import KeyConfigurationError, load_master_key
from registry.privacy.logging import mask_identifiers
from tests.conftest import AMS, CASES, TK2025_OPEN, bsn
from tests.support.postgres import _binary

PASSPORT = {"document_type": "paspoort", "document_number": "NW4K82PL1"}


def _scenario(session) -> list[str]:
    """Every channel, a refusal of each kind that sees a BSN, a kept duplicate; returns the BSNs used."""
    elections.update_settings(session, "TK2025", "test", online_open=True, online_legal_basis="Experiment")
    lists = session.scalars(select(CandidateList.id).order_by(CandidateList.number)).all()
    registry = person_registry()
    used = []

    def attempt(case: str, channel: Channel, list_index: int = 0, **extra) -> None:
        number = bsn(case) if case in CASES else case
        used.append(number)
        request = DeclarationRequest(
            election="TK2025", list_id=lists[list_index], channel=channel, bsn=number, actor="test",
            counter_municipality="GM0392" if channel is not Channel.ONLINE else None,
            **({} if channel is Channel.ONLINE else PASSPORT), **extra)
        try:
            record_declaration(session, registry, request, now=TK2025_OPEN)
        except DeclarationRefused as refusal:
            logging.getLogger("registry.test").info("refused %s for %s: %s", refusal.code, number, refusal.message)

    attempt("voter_haarlem_1", Channel.COUNTER)
    attempt("voter_haarlem_2", Channel.ONLINE, 3)
    attempt("voter_haarlem_2", Channel.COUNTER, 4)  # already declared
    attempt("voter_haarlem_2", Channel.BATCH, 5, keep_if_duplicate=True,
            signed_at=datetime(2025, 9, 5, 11, 0, tzinfo=AMS))  # kept, voids both
    attempt("dual_nationality", Channel.COUNTER, 6)
    attempt("voter_amsterdam_1", Channel.COUNTER)  # not registered here
    attempt("minor", Channel.ONLINE)
    attempt("not_in_brp", Channel.ONLINE)
    attempt("999900184", Channel.ONLINE)  # fails the 11-proof
    # Someone logs a BSN by mistake: the masking factory must catch it too.
    logging.getLogger("registry.test").warning("debug: looked up %s", bsn("voter_haarlem_3"))
    used.append(bsn("voter_haarlem_3"))
    return used


def test_no_bsn_in_the_database_or_the_logs_after_a_full_scenario(app, session, tk2025, caplog, app_config,
                                                                  tmp_path):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements and their parameters
    try:
        used = _scenario(session)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    session.remove()

    assert caplog.records, "the scenario should have logged something to scan"
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for number in used:
        assert number not in logged

    url = app_config["DATABASE_URL"]
    if url.startswith("sqlite"):
        db_file = Path(url.removeprefix("sqlite:///"))
        dump = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
    else:
        plain = url.replace("+psycopg", "")
        dump = subprocess.run([_binary("pg_dump"), "--no-owner", plain], capture_output=True, check=True).stdout
    assert len(dump) > 10_000
    for number in used:
        assert number.encode() not in dump, "a BSN reached the database"
        assert number.encode("utf-16-le") not in dump
    # Names are encrypted too: a declarant's name is not in the dump either.
    assert b"Brouwer-de Jong" not in dump
    # The master key is not in the database.
    assert app_config["MASTER_KEY"].encode() not in dump


def test_the_logging_mask_covers_nine_digit_runs_only():
    assert mask_identifiers("bsn 999900183 en 1234567890 en 12345678") == "bsn ********* en 1234567890 en 12345678"


def test_a_traceback_with_a_bsn_is_masked(caplog):
    caplog.set_level(logging.INFO)
    from registry.privacy import logging as privacy_logging

    privacy_logging.install()
    try:
        raise ValueError("lookup failed for 999900183")
    except ValueError:
        logging.getLogger("registry.test").exception("oops")
    assert "999900183" not in caplog.text and "*********" in caplog.text


def test_production_refuses_to_start_without_keys(tmp_path, monkeypatch):
    for name in ("MASTER_KEY", "MASTER_KEY_FILE", "SECRET_KEY"):
        monkeypatch.delenv(f"STEUNREGISTER_{name}", raising=False)
    config = {"ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite",
              "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s" * 40, "MOCK_IDP": "0"}
    with pytest.raises(RuntimeError, match="master key"):
        create_app(config)
    assert not (tmp_path / "master.key").exists()
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({**config, "SECRET_KEY": None, "MASTER_KEY": "a" * 43 + "="})


def test_development_generates_keys_into_the_instance_folder_once(tmp_path):
    path = tmp_path / "instance" / "master.key"
    first = load_master_key(None, None, create_at=path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_master_key(None, None, create_at=path) == first and len(first) == 32


@pytest.mark.parametrize("value", ["not base64!", "c2hvcnQ="])
def test_a_malformed_master_key_is_refused(value):
    with pytest.raises(KeyConfigurationError):
        load_master_key(value, None, create_at=None)


def test_pseudonyms_are_scoped_per_election(session, tk2025):
    from registry.elections.models import Election
    from registry.privacy.services import election_cipher
    from tests.conftest import import_eml

    import_eml(session, "Kandidatenlijsten_GR2026_Assen.eml.xml")
    assen = session.scalar(select(Election).where(Election.identifier == "GR2026_Assen"))
    number = bsn("voter_assen_1")
    tk_key = election_cipher(session, tk2025).voter_key(number)
    gr_key = election_cipher(session, assen).voter_key(number)
    assert tk_key != gr_key and len(tk_key) == 64 and number not in tk_key
