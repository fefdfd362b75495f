"""The dossier as the CSB gets it: from real declarations (counter, online, a paper duplicate, a ruling),
through the API, the CSB's page and the command line; checked with the registry's own key and against
the paper cover sheet. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import time
import tracemalloc
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from registry.audit import services as audit
from registry.audit.models import AuditEvent
from registry.csb.services import rule_invalid
from registry.db import db
from registry.declarations.models import Declaration
from registry.declarations.services import DeclarationRequest, record_declaration
from registry.domain import Channel
from registry.dossier import services as dossier
from registry.dossier import verify as verifier
from registry.elections import services as elections
from registry.elections.models import CandidateList, District, ListDistrict, ListVersion
from registry.people import person_registry
from registry.privacy.services import election_cipher
from tests.auth.helpers import auth_header, bearer_token, login
from tests.conftest import TK2025_OPEN, bsn, import_eml

PASSPORT = {"document_type": "paspoort", "document_number": "NW4K82PL1"}


def list_of(number: int) -> CandidateList:
    return db.session.scalar(select(CandidateList).where(CandidateList.number == number,
                                                         CandidateList.election.has(identifier="TK2025")))


def declare(case: str, number: int, channel: Channel = Channel.COUNTER, **extra: Any) -> int:
    if channel == Channel.ONLINE:
        request = DeclarationRequest(election="TK2025", list_id=list_of(number).id, channel=channel, bsn=bsn(case),
                                     actor="voter:test", attestation_extra={"acr": "substantieel"})
    else:
        request = DeclarationRequest(election="TK2025", list_id=list_of(number).id, channel=channel, bsn=bsn(case),
                                     actor="clerk:GM0392:E100", counter_municipality="GM0392", **PASSPORT, **extra)
    return record_declaration(db.session, person_registry(), request, now=TK2025_OPEN).id


@pytest.fixture
def declared(session: Any, tk2025: Any) -> dict[str, int]:
    """List 1 in Haarlem: one valid (online), one ruled invalid (counter), one void because the voter
    also signed on paper for list 2 (I 2 lid 1 a)."""
    elections.update_settings(session, "TK2025", "test", online_open=True, online_legal_basis="Experiment")
    ids = {
        "double": declare("voter_haarlem_1", 1),
        "ruled": declare("voter_haarlem_2", 1),
        "valid": declare("voter_haarlem_3", 1, Channel.ONLINE),
        "paper": declare("voter_haarlem_1", 2, Channel.BATCH, signed_at=TK2025_OPEN - timedelta(days=1),
                         keep_if_duplicate=True),
    }
    rule_invalid(session, tk2025, ids["ruled"], "Het formulier is niet ondertekend.", "csb:TK2025:test",
                 now=TK2025_OPEN)
    return ids


def registry_pem(app: Any) -> bytes:
    with app.app_context():
        return dossier.public_key_pem(dossier.signing_key())


def read(data: bytes) -> tuple[verifier.Report, dict[str, bytes]]:
    report = verifier.verify(io.BytesIO(data), None)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return report, {info.filename: archive.read(info) for info in archive.infolist()}


# --- the API ----------------------------------------------------------------------------------------

def test_the_csb_downloads_a_verifiable_dossier(app: Any, client: Any, declared: dict[str, int]) -> None:
    token = bearer_token(client, "csb:TK2025")
    pvv = list_of(1)
    seq_before, _ = audit.head(db.session)
    response = client.get(f"/api/v1/elections/TK2025/lists/{pvv.id}/dossier", headers=auth_header(token))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == "attachment; filename=dossier-TK2025-lijst-1.zip"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    assert int(response.headers["Content-Length"]) == len(data)

    report = verifier.verify(io.BytesIO(data), registry_pem(app))
    assert report.ok, report.problem
    assert report.key_source == "given"
    assert response.headers["X-Dossier-Fingerprint"] == report.fingerprint
    assert response.headers["ETag"] == f'"{report.manifest_sha256}"'

    _, contents = read(data)
    manifest = json.loads(contents["manifest.json"])
    assert manifest["election"]["ElectionIdentifier"] == "TK2025"
    assert manifest["election"]["ElectionCategory"] == "TK"
    assert manifest["list"]["AffiliationIdentifier"] == 1
    assert manifest["list"]["RegisteredName"] == pvv.designation
    version = db.session.scalar(select(ListVersion).join(ListDistrict, ListDistrict.version_id == ListVersion.id)
                                .where(ListDistrict.list_id == pvv.id))
    [haarlem] = manifest["kieskringen"]
    assert haarlem["RegionNumber"] == 10 and haarlem["RegionName"]
    assert haarlem["list_version"] == {"version": version.version, "content_hash": version.content_hash}
    assert (haarlem["declarations"], haarlem["valid"], haarlem["void_multiple"], haarlem["void_other"]) == (3, 1, 1, 1)
    assert haarlem["status"] == "short" and haarlem["required"] == 30 and haarlem["shortage"] == 29
    assert manifest["declarations"]["by_status"] == {"valid": 1, "void_multiple": 1, "void_other": 1}
    assert manifest["audit_chain_head"]["seq"] == seq_before  # the chain as it stood when the dossier was made
    assert manifest["examination"]["frozen"] is False

    rows = {row["declaration_id"]: row for row in json.loads(contents["declarations.json"])}
    assert set(rows) == {declared["double"], declared["ruled"], declared["valid"]}
    assert rows[declared["ruled"]]["status"] == "void_other"
    assert rows[declared["ruled"]]["void_reason"] == "Het formulier is niet ondertekend."
    assert rows[declared["double"]]["status"] == "void_multiple"
    assert rows[declared["valid"]]["channel"] == "online" and rows[declared["valid"]]["status"] == "valid"
    assert all(row["name"] for row in rows.values())  # the CSB sees the names
    assert all(row["kieskring"] == 10 and row["municipality_code"] == "GM0392" for row in rows.values())
    csv_text = contents["declarations.csv"].decode()
    assert rows[declared["valid"]]["name"] in csv_text
    for case in ("voter_haarlem_1", "voter_haarlem_2", "voter_haarlem_3"):
        assert bsn(case).encode() not in data  # never a BSN

    # Issuing a dossier with names is itself a fact in the chain.
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
    assert event.action == "dossier.issued" and event.subject == f"list:{pvv.id}"
    assert json.loads(event.payload)["manifest_sha256"] == report.manifest_sha256
    assert event.actor.startswith("csb:TK2025")


def test_the_cover_sheet_prints_the_fingerprint_and_no_names(app: Any, client: Any,
                                                             declared: dict[str, int], tmp_path: Path) -> None:
    token = bearer_token(client, "csb:TK2025")
    data = client.get(f"/api/v1/elections/TK2025/lists/{list_of(1).id}/dossier", headers=auth_header(token)).get_data()
    report, contents = read(data)
    cover = contents["cover.pdf"]
    assert cover.startswith(b"%PDF-") and cover.rstrip().endswith(b"%%EOF")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    (tmp_path / "cover.pdf").write_bytes(cover)
    text = subprocess.run([pdftotext, "-layout", str(tmp_path / "cover.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    for group in report.fingerprint.split():
        assert group in text
    assert "Vingerafdruk van het manifest" in text and "Haarlem" in text and "TK2025" in text
    assert list_of(1).designation in " ".join(text.split())
    names = [row["name"] for row in json.loads(contents["declarations.json"])]
    assert names and not any(name in text for name in names)


def test_only_the_csb_of_this_election_gets_the_dossier(app: Any, client: Any, declared: dict[str, int]) -> None:
    import_eml(db.session, "Kandidatenlijsten_GR2026_Assen.eml.xml")
    path = f"/api/v1/elections/TK2025/lists/{list_of(1).id}/dossier"
    assert client.get(path).status_code == 401
    for hint in ("csb:GR2026_Assen", "clerk:GM0392"):
        response = client.get(path, headers=auth_header(bearer_token(client, hint)))
        assert response.status_code == 403, hint
        assert response.mimetype == "application/problem+json"
    token = bearer_token(client, "csb:TK2025")
    assen_list = db.session.scalar(select(CandidateList).where(CandidateList.election.has(identifier="GR2026_Assen")))
    for other in (assen_list.id, 999_999):  # another election's list, or none at all
        response = client.get(f"/api/v1/elections/TK2025/lists/{other}/dossier", headers=auth_header(token))
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["type"].endswith("/unknown-list")
    response = client.get("/api/v1/elections/TK2025/lists/abc/dossier", headers=auth_header(token))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_the_csb_page_offers_the_same_download(app: Any, declared: dict[str, int]) -> None:
    import_eml(db.session, "Kandidatenlijsten_GR2026_Assen.eml.xml")
    path = f"/csb/TK2025/lijsten/{list_of(1).id}/dossier"
    member = app.test_client()
    assert login(member, "csb:TK2025").status_code == 200
    response = member.get(path)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert verifier.verify(io.BytesIO(response.get_data()), registry_pem(app)).ok
    missing = member.get("/csb/TK2025/lijsten/999999/dossier")
    assert missing.status_code == 404 and "geen lijst" in missing.get_data(as_text=True)
    for hint in ("csb:GR2026_Assen", "clerk:GM0392"):
        other = app.test_client()
        assert login(other, hint).status_code == 200
        assert other.get(path).status_code == 403, hint
    assert app.test_client().get(path).status_code == 302  # to the login page


# --- the command line -------------------------------------------------------------------------------

def test_build_verify_and_import_on_the_command_line(app: Any, cli: Any, declared: dict[str, int],
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "pvv.zip"
    built = cli.invoke(args=["dossier", "build", "TK2025", "1", "-o", str(target)])
    assert built.exit_code == 0, built.output
    assert "Verklaringen" in built.output  # the progress bar
    assert f"Dossier geschreven: {target} (3 verklaringen" in built.output
    assert not (tmp_path / "pvv.zip.part").exists()
    report = verifier.verify(target, registry_pem(app))
    assert report.ok and report.fingerprint in built.output
    by_id = cli.invoke(args=["dossier", "build", "TK2025", f"id:{list_of(2).id}", "-o", str(tmp_path / "2.zip")])
    assert by_id.exit_code == 0, by_id.output
    assert "(1 verklaring," in by_id.output  # the plural agrees with the number
    assert cli.invoke(args=["dossier", "build", "TK2025", "99", "-o", str(tmp_path / "x.zip")]).exit_code == 1
    assert cli.invoke(args=["dossier", "build", "XX1999", "1", "-o", str(tmp_path / "x.zip")]).exit_code == 1
    assert not (tmp_path / "x.zip").exists()

    checked = cli.invoke(args=["dossier", "verify", str(target)])
    assert checked.exit_code == 0, checked.output
    assert "Gecontroleerd met de sleutel van dit register." in checked.output
    assert report.fingerprint in checked.output

    flipped = bytearray(target.read_bytes())
    flipped[len(flipped) // 3] ^= 0x01
    (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
    refused = cli.invoke(args=["dossier", "verify", str(tmp_path / "flipped.zip")])
    assert refused.exit_code == 1 and "Dossier NIET in orde" in refused.output

    # Importing: two groups of the fingerprint typed over from the paper cover sheet.
    monkeypatch.setattr(verifier, "choose_blanks", lambda: (4, 13))
    groups = report.fingerprint.split()
    accepted = cli.invoke(args=["dossier", "import", str(target)], input=f"{groups[4]}\n{groups[13]}\n")
    assert accepted.exit_code == 0, accepted.output
    shown = next(line for line in accepted.output.splitlines() if "____" in line).split()
    assert shown[4] == shown[13] == "____" and shown[0] == groups[0]
    assert "Typ groep 5 van 16" in accepted.output and "Typ groep 14 van 16" in accepted.output
    assert "De vingerafdruk klopt met het voorblad." in accepted.output
    wrong = "0000" if groups[13] != "0000" else "ffff"
    mismatch = cli.invoke(args=["dossier", "verify", "--confirm", str(target)], input=f"{groups[4]}\n{wrong}\n")
    assert mismatch.exit_code == 1
    assert "Groep 14 klopt niet met dit dossier" in mismatch.output
    never = cli.invoke(args=["dossier", "import", str(tmp_path / "flipped.zip")], input="x\ny\n")
    assert never.exit_code == 1 and "Typ groep" not in never.output  # nothing to confirm when it is broken


def test_the_public_key_on_the_command_line_is_the_one_that_signs(app: Any, cli: Any, declared: dict[str, int],
                                                                  tmp_path: Path) -> None:
    shown = cli.invoke(args=["dossier", "public-key", "-o", str(tmp_path / "registry.pem")])
    assert shown.exit_code == 0, shown.output
    assert (tmp_path / "registry.pem").read_bytes() == registry_pem(app)
    cli.invoke(args=["dossier", "build", "TK2025", "1", "-o", str(tmp_path / "d.zip")])
    ok = cli.invoke(args=["dossier", "verify", "--public-key", str(tmp_path / "registry.pem"), str(tmp_path / "d.zip")])
    assert ok.exit_code == 0 and "Gecontroleerd met de opgegeven sleutel." in ok.output
    other = tmp_path / "other.pem"
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other.write_bytes(dossier.public_key_pem(Ed25519PrivateKey.generate()))
    wrong = cli.invoke(args=["dossier", "verify", "--public-key", str(other), str(tmp_path / "d.zip")])
    assert wrong.exit_code == 1 and "niet ondertekend met de opgegeven sleutel" in wrong.output


def test_a_configured_key_file_signs_instead(app: Any, declared: dict[str, int], tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    path = tmp_path / "dossier-key.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    settings = app.config["STEUNREGISTER"]
    settings["DOSSIER_SIGNING_KEY_FILE"] = str(path)
    try:
        assert registry_pem(app) == dossier.public_key_pem(key)
        path.write_text("not a key")
        with pytest.raises(dossier.SigningKeyError):
            dossier.signing_key()
        token = bearer_token(app.test_client(), "csb:TK2025")
        response = app.test_client().get(f"/api/v1/elections/TK2025/lists/{list_of(1).id}/dossier",
                                         headers=auth_header(token))
        assert response.status_code == 503 and response.mimetype == "application/problem+json"
    finally:
        settings["DOSSIER_SIGNING_KEY_FILE"] = None


# --- streaming ----------------------------------------------------------------------------------------

def bulk_declarations(session: Any, election: Any, candidate_list: CandidateList, count: int, tag: str) -> None:
    """``count`` declarations inserted straight into the table (fake pseudonyms, one real encrypted name)."""
    link = session.scalar(select(ListDistrict).where(ListDistrict.list_id == candidate_list.id))
    district = session.get(District, link.district_id)
    blob = election_cipher(session, election).encrypt("Bulk, B. (Bart)", "declarant-name")
    for start in range(0, count, 5000):
        session.execute(insert(Declaration), [{
            "election_id": election.id, "list_id": candidate_list.id, "list_version_id": link.version_id,
            "district_id": district.id, "municipality_code": "GM0392", "channel": "counter",
            "voter_key": hashlib.sha256(f"{tag}-{i}".encode()).hexdigest(), "ordinal": 1,
            "receipt_code": f"{tag}{i:08d}", "name_ciphertext": blob, "signed_at": TK2025_OPEN,
            "recorded_at": TK2025_OPEN, "attestation": {"municipality": "GM0392", "document": "paspoort"},
        } for i in range(start, min(count, start + 5000))])
        session.commit()
    # What autovacuum does after a bulk load; with the statistics of an empty table PostgreSQL plans
    # the per-voter count as a nested loop and takes minutes (reported to the csb query's owner).
    session.execute(text("ANALYZE declarations"))
    session.commit()


def peak_while_building(session: Any, list_id: int, tmp_path: Path) -> tuple[int, int, float]:
    with open(tmp_path / f"{list_id}.zip", "w+b") as out:
        tracemalloc.start()
        started = time.perf_counter()
        built = dossier.build_dossier(session, "TK2025", list_id, out, actor="test")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert verifier.verify(tmp_path / f"{list_id}.zip").ok
    return peak, built.rows, elapsed


def test_building_streams_in_constant_memory(app: Any, session: Any, tk2025: Any, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # The cover is drawn from the manifest alone, whatever the number of rows; a stand-in keeps
    # WeasyPrint's own allocations out of the measurement.
    monkeypatch.setattr(dossier, "render_cover", lambda manifest, fingerprint: b"%PDF-1.7 " + fingerprint.encode())
    small, large = list_of(1), list_of(2)
    bulk_declarations(session, tk2025, small, 2_000, "S")
    bulk_declarations(session, tk2025, large, 20_000, "L")
    peak_small, rows_small, _ = peak_while_building(session, small.id, tmp_path)
    peak_large, rows_large, _ = peak_while_building(session, large.id, tmp_path)
    assert (rows_small, rows_large) == (2_000, 20_000)
    # Ten times the rows, about the same memory (a list held in memory would need ~10 MB more).
    assert peak_large < peak_small * 1.5 + 1_000_000, (peak_small, peak_large)
    assert peak_large < 8_000_000, peak_large
