"""The verifier against dossiers built from fake rows (no database): every change is refused with its
reason, an intact dossier passes, and verify.py runs on its own, outside the project."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.dossier import verify as verifier
from registry.dossier.services import public_key_pem
from registry.eml import sha256_fingerprint
from tests.dossier.helpers import (
    HEADER,
    MEMBERS,
    flip,
    make_dossier,
    members,
    resigned,
    rezip,
    tampered,
)

PROJECT = Path(__file__).resolve().parents[2]
VERIFY_PY = PROJECT / "registry" / "dossier" / "verify.py"


def check(data: bytes, key: Ed25519PrivateKey | None = None) -> verifier.Report:
    return verifier.verify(io.BytesIO(data), public_key_pem(key) if key else None)


def test_an_intact_dossier_passes_with_its_fingerprint(dossier: bytes, key: Ed25519PrivateKey) -> None:
    report = check(dossier, key)
    assert report.ok, report.problem
    contents = members(dossier)
    assert list(contents) == list(MEMBERS)
    assert report.fingerprint == sha256_fingerprint(contents["manifest.json"])  # 16 groups of 4, as printed
    assert report.key_source == "given"
    manifest = json.loads(contents["manifest.json"])
    assert manifest["format"] == "steunregister-dossier/1"
    assert manifest["declarations"]["rows"] == 8
    assert manifest["declarations"]["by_status"] == {"valid": 4, "void_multiple": 2, "void_other": 2}
    assert manifest["declarations"]["by_kieskring"]["9"]["valid"] + manifest["declarations"]["by_kieskring"]["10"][
        "valid"] == 4
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(listed) == {"declarations.csv", "declarations.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(contents[name]).hexdigest()
        assert entry["size"] == len(contents[name])
    assert manifest["audit_chain_head"] == HEADER["audit_chain_head"]
    assert manifest["signing_key"]["sha256"] == verifier.public_key_fingerprint(key.public_key())


def test_the_rows_read_back_the_same_as_csv_and_as_json(dossier: bytes) -> None:
    contents = members(dossier)
    rows = json.loads(contents["declarations.json"])  # one JSON array, one object per line
    assert contents["declarations.json"].decode().splitlines()[0] == "["
    table = list(csv.DictReader(io.StringIO(contents["declarations.csv"].decode(), newline="")))
    assert len(rows) == len(table) == 8
    for row, line in zip(rows, table, strict=True):
        assert str(row["sequence"]) == line["sequence"] and row["name"] == line["name"]
        assert row["void_reason"] == (line["void_reason"] or None)  # quotes, comma and newline survive
        assert json.loads(line["attestation"]) == row["attestation"]
    assert rows[0]["name"] == "Jansen-Ünal, K. 1"


def test_without_names_the_manifest_says_so(key: Ed25519PrivateKey) -> None:
    data = make_dossier(key, rows=3, names=False)
    assert check(data, key).ok
    manifest = json.loads(members(data)["manifest.json"])
    assert manifest["declarations"]["names_included"] is False
    assert all(row["name"] is None for row in json.loads(members(data)["declarations.json"]))


def test_an_empty_list_makes_a_valid_dossier(key: Ed25519PrivateKey) -> None:
    data = make_dossier(key, rows=0)
    assert check(data, key).ok
    assert json.loads(members(data)["declarations.json"]) == []


@pytest.mark.parametrize("name", MEMBERS)
def test_one_changed_byte_in_any_member_is_refused(dossier: bytes, key: Ed25519PrivateKey, name: str) -> None:
    expected = {
        "declarations.csv": "declarations.csv is gewijzigd",
        "declarations.json": "declarations.json is gewijzigd",
        "manifest.json": "De handtekening (manifest.sig) op manifest.json klopt niet",
        "manifest.sig": "De handtekening (manifest.sig) op manifest.json klopt niet",
        "cover.pdf": "De handtekening (cover.sig) op het voorblad cover.pdf klopt niet",
        "cover.sig": "De handtekening (cover.sig) op het voorblad cover.pdf klopt niet",
        "registry-public-key.pem": "registry-public-key.pem",  # unreadable; or another key, so:
    }[name]
    also = "de handtekening of de sleutel is gewijzigd" if name == "registry-public-key.pem" else expected
    assert check(rezip(members(dossier)), key).ok  # the same contents in a fresh container still pass
    for position in (0, 17, len(members(dossier)[name]) // 2, -2):
        report = check(tampered(dossier, name, flip(position)))
        problem = report.problem or ""
        assert not report.ok and (expected in problem or also in problem), (name, position, problem)


def test_every_changed_byte_and_bit_of_the_file_is_refused(key: Ed25519PrivateKey) -> None:
    # Headers, directory, deflated data, padding bits: nothing in the file may change unnoticed.
    data = make_dossier(key, rows=3)
    for position in range(len(data)):
        for mask in (0xFF, 1 << (position % 8)):
            changed = bytearray(data)
            changed[position] ^= mask
            report = check(bytes(changed))
            assert not report.ok and report.problem, (position, mask)


def test_a_missing_member_is_refused(dossier: bytes) -> None:
    for name in MEMBERS:
        contents = members(dossier)
        del contents[name]
        report = check(rezip(contents))
        assert not report.ok and f"{name} ontbreekt" in (report.problem or ""), (name, report.problem)


def test_an_extra_member_is_refused(dossier: bytes) -> None:
    contents = {**members(dossier), "notes.txt": b"hello"}
    report = check(rezip(contents))
    assert not report.ok
    assert report.problem == "notes.txt hoort niet in het dossier: het manifest noemt het niet."


def test_a_truncated_or_extended_file_or_no_zip_at_all_is_refused(dossier: bytes, tmp_path: Path) -> None:
    for data in (dossier[:-1], dossier[:100], dossier + b"\0", b"", b"PK\x05\x06" + b"\0" * 18, b"%PDF-1.7"):
        assert not check(data).ok
    report = verifier.verify(tmp_path / "missing.zip")
    assert not report.ok and report.problem.startswith("Kan het bestand niet lezen")


def test_a_dossier_signed_with_another_key_passes_only_on_its_own_word(dossier: bytes,
                                                                       key: Ed25519PrivateKey) -> None:
    forger = Ed25519PrivateKey.generate()
    forged = resigned(dossier, forger, lambda m: m["kieskringen"][0].update(valid=30, status="meets"))
    alone = check(forged)  # the embedded key is all it can go by
    assert alone.ok and alone.key_source == "embedded"
    report = check(forged, key)  # against the registry's published key
    assert not report.ok
    assert report.problem.startswith("Het dossier is niet ondertekend met de opgegeven sleutel")


def test_a_swapped_embedded_key_is_refused(dossier: bytes) -> None:
    other = public_key_pem(Ed25519PrivateKey.generate())
    report = check(tampered(dossier, "registry-public-key.pem", lambda _: other))
    assert not report.ok and "De handtekening (manifest.sig) op manifest.json klopt niet" in report.problem


def test_counts_that_do_not_match_the_rows_are_refused(dossier: bytes) -> None:
    forger = Ed25519PrivateKey.generate()

    def more_valid(manifest: dict) -> None:
        manifest["declarations"]["by_status"]["valid"] += 1

    report = check(resigned(dossier, forger, more_valid))
    assert not report.ok
    assert report.problem == "declarations.json telt andere aantallen per status dan het manifest noemt."


def test_a_member_stored_differently_is_refused(dossier: bytes) -> None:
    import zipfile

    contents = members(dossier)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in contents.items():
            from registry.dossier.services import _zip_info

            info = _zip_info(name)
            if name == "declarations.csv":
                info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, data)
    report = check(out.getvalue())
    assert not report.ok and "declarations.csv" in report.problem


def test_confirming_two_groups_of_the_fingerprint() -> None:
    fingerprint = sha256_fingerprint(b"manifest")
    groups = fingerprint.split()
    said: list[str] = []
    answers = iter([groups[2].upper(), f" {groups[11]} "])  # case and spaces do not matter
    assert verifier.confirm_fingerprint(fingerprint, lambda _: next(answers), said.append, blanks=(2, 11))
    shown = said[1].split()
    assert shown[2] == shown[11] == "____" and shown[0] == groups[0]
    assert fingerprint not in "\n".join(said[:2])
    wrong = iter([groups[2], "0000" if groups[11] != "0000" else "1111"])
    assert not verifier.confirm_fingerprint(fingerprint, lambda _: next(wrong), said.append, blanks=(2, 11))
    first, second = verifier.choose_blanks()
    assert 0 <= first < second <= 15


def test_main_prints_a_dutch_summary_and_trusts_only_a_given_key(dossier: bytes, key: Ed25519PrivateKey,
                                                                      tmp_path: Path, capsys) -> None:
    path = tmp_path / "dossier.zip"
    path.write_bytes(dossier)
    assert verifier.main([str(path)]) == verifier.UNCONFIRMED == 2  # intact, but from whom?
    captured = capsys.readouterr()
    assert "Dossier in orde" not in captured.out and "afzender is NIET vastgesteld" in captured.out
    assert "NIET BEVESTIGD" in captured.err and "--public-key" in captured.err
    assert check(dossier).fingerprint in captured.out
    pem = tmp_path / "registry.pem"
    pem.write_bytes(public_key_pem(key))
    assert verifier.main([str(path), "--public-key", str(pem)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Dossier in orde") and "NIET BEVESTIGD" not in captured.err
    path.write_bytes(tampered(dossier, "declarations.csv", flip(40)))
    assert verifier.main([str(path), "--public-key", str(pem)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("Dossier NIET in orde: declarations.csv is gewijzigd")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})


def test_verify_py_runs_alone_outside_the_project(dossier: bytes, key: Ed25519PrivateKey, tmp_path: Path) -> None:
    # Only the file itself and the dossier: no registry, Flask or SQLAlchemy on the path (-I isolates).
    shutil.copy(VERIFY_PY, tmp_path / "verify.py")
    (tmp_path / "dossier.zip").write_bytes(dossier)
    (tmp_path / "registry.pem").write_bytes(public_key_pem(key))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dossier.zip", "registry.pem", "verify.py"]
    ok = _run(["verify.py", "dossier.zip", "--public-key", "registry.pem"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert check(dossier).fingerprint in ok.stdout
    (tmp_path / "flipped.zip").write_bytes(tampered(dossier, "cover.pdf", flip(3)))
    bad = _run(["verify.py", "flipped.zip", "--public-key", "registry.pem"], tmp_path)
    assert bad.returncode == 1 and "cover.pdf" in bad.stderr
    isolated = _run(["-c", "import sys; sys.path.insert(0, '.'); import verify; print(sorted(m for m in "
                           "sys.modules if m.split('.')[0] in ('registry', 'flask', 'sqlalchemy', 'auth')))"], tmp_path)
    assert isolated.stdout.strip() == "[]", isolated.stderr


def test_verify_py_confirms_against_the_paper_on_its_own(dossier: bytes, tmp_path: Path) -> None:
    shutil.copy(VERIFY_PY, tmp_path / "verify.py")
    (tmp_path / "dossier.zip").write_bytes(dossier)
    groups = check(dossier).fingerprint.split()
    # The blanked groups are random: answer with the group the prompt asks for.
    script = ("import builtins, sys\nsys.path.insert(0, '.')\nimport verify\n"
              f"groups = {groups!r}\n"
              "builtins.input = lambda prompt: (print(prompt), groups[int(prompt.split()[2]) - 1])[1]\n"
              "sys.exit(verify.main(['dossier.zip', '--confirm']))\n")
    run = _run(["-c", script], tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "____" in run.stdout and "De vingerafdruk klopt met het voorblad." in run.stdout


def test_python_m_entry_point(dossier: bytes, key: Ed25519PrivateKey, tmp_path: Path) -> None:
    (tmp_path / "dossier.zip").write_bytes(dossier)
    (tmp_path / "registry.pem").write_bytes(public_key_pem(key))
    run = subprocess.run([sys.executable, "-m", "registry.dossier.verify", str(tmp_path / "dossier.zip"),
                          "--public-key", str(tmp_path / "registry.pem")],
                         cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "Dossier in orde" in run.stdout
