"""The attack run against the verifiers: a dossier re-signed with another key passed the standalone
verify.py without --public-key (exit 0, only a warning); a 231 kB dossier inflating to one 200 MB JSON
line took 867 MB of memory; reordered ZIP members passed both verifiers."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.dossier import verify as verifier
from registry.dossier.services import public_key_pem
from tests.dossier.helpers import make_dossier, members, resigned, rezip

PROJECT = Path(__file__).resolve().parents[2]
VERIFY_PY = PROJECT / "registry" / "dossier" / "verify.py"


def run_alone(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(VERIFY_PY, tmp_path / "verify.py")
    return subprocess.run([sys.executable, "-I", "verify.py", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})


def test_a_dossier_resigned_with_another_key_is_never_in_orde_without_the_registry_key(dossier, key, tmp_path):
    forged = resigned(dossier, Ed25519PrivateKey.generate(), lambda m: m["declarations"].update(rows=9))
    (tmp_path / "forged.zip").write_bytes(forged)
    alone = run_alone(tmp_path, "forged.zip")
    assert alone.returncode == 2 and "in orde" not in alone.stdout.lower() and "NIET BEVESTIGD" in alone.stderr
    (tmp_path / "registry.pem").write_bytes(public_key_pem(key))
    checked = run_alone(tmp_path, "forged.zip", "--public-key", "registry.pem")
    assert checked.returncode == 1 and "niet ondertekend met de opgegeven sleutel" in checked.stderr


def test_one_huge_json_line_is_refused_within_bounded_memory(key, tmp_path):
    contents = members(make_dossier(key, rows=1))
    huge = b"[\n" + b'{"status": "valid", "pad": "' + b"x" * (200 * 1024 * 1024) + b'"}\n]\n'
    contents["declarations.json"] = huge
    # Re-signed by the registry's own key, with the manifest naming the huge file: only the line length
    # can stop it, after every signature and digest has passed.
    import hashlib

    from registry.dossier.services import manifest_bytes
    from registry.dossier.verify import cover_message

    data = rezip(contents)
    manifest = json.loads(contents["manifest.json"])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in manifest["files"]:
            info = archive.getinfo(entry["name"])
            entry.update(size=info.file_size, sha256=hashlib.sha256(contents[entry["name"]]).hexdigest(),
                         deflated_size=info.compress_size)
    contents["manifest.json"] = manifest_bytes(manifest)
    data = rezip(contents)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in manifest["files"]:
            info = archive.getinfo(entry["name"])
            start = info.header_offset + 30 + len(info.filename)
            entry["deflated_sha256"] = hashlib.sha256(data[start:start + info.compress_size]).hexdigest()
    contents["manifest.json"] = manifest_bytes(manifest)
    contents["manifest.sig"] = key.sign(contents["manifest.json"])
    contents["cover.sig"] = key.sign(cover_message(hashlib.sha256(contents["manifest.json"]).hexdigest(),
                                                   hashlib.sha256(contents["cover.pdf"]).hexdigest()))
    bomb = rezip(contents)
    assert len(bomb) < 1024 * 1024  # under a megabyte on disk
    (tmp_path / "bomb.zip").write_bytes(bomb)
    (tmp_path / "registry.pem").write_bytes(public_key_pem(key))
    # VmHWM: this process's own peak (ru_maxrss would carry the forking test process's peak over).
    script = ("import sys; sys.path.insert(0, '.'); import verify\n"
              "code = verify.main(['bomb.zip', '--public-key', 'registry.pem'])\n"
              "peak = [line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')][0]\n"
              "print('peak', peak)\n"
              "sys.exit(code)\n")
    shutil.copy(VERIFY_PY, tmp_path / "verify.py")
    run = subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    assert run.returncode == 1 and "langer dan" in run.stderr, run.stderr
    peak_kb = int(run.stdout.split("peak")[1])
    assert peak_kb < 100 * 1024, f"{peak_kb} kB"  # the 200 MB line is never held (867 MB before)


@pytest.mark.parametrize("order", [
    ("declarations.json", "declarations.csv", "manifest.json", "manifest.sig", "cover.pdf", "cover.sig",
     "registry-public-key.pem"),
    ("declarations.csv", "declarations.json", "manifest.sig", "manifest.json", "cover.pdf", "cover.sig",
     "registry-public-key.pem"),
    ("registry-public-key.pem", "declarations.csv", "declarations.json", "manifest.json", "manifest.sig",
     "cover.pdf", "cover.sig"),
])
def test_reordered_members_are_refused_by_both_verifiers(dossier, key, tmp_path, order):
    contents = members(dossier)
    reordered = rezip({name: contents[name] for name in order})
    assert reordered != dossier
    report = verifier.verify(io.BytesIO(reordered), public_key_pem(key))
    assert not report.ok and "volgorde" in (report.problem or "")
    (tmp_path / "reordered.zip").write_bytes(reordered)
    (tmp_path / "registry.pem").write_bytes(public_key_pem(key))
    alone = run_alone(tmp_path, "reordered.zip", "--public-key", "registry.pem")
    assert alone.returncode == 1 and "volgorde" in alone.stderr


def test_a_central_directory_in_another_order_than_the_members_is_refused(dossier, key):
    """The same members at the same offsets, only the directory entries swapped."""
    import struct

    data = bytearray(dossier)
    end = data.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<L", data, end + 16)[0]
    entries, position = [], cd_offset
    while position < end:
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, position + 28)
        size = 46 + name_length + extra_length + comment_length
        entries.append(bytes(data[position:position + size]))
        position += size
    entries[0], entries[1] = entries[1], entries[0]
    data[cd_offset:end] = b"".join(entries)
    report = verifier.verify(io.BytesIO(bytes(data)), public_key_pem(key))
    assert not report.ok and "volgorde" in (report.problem or ""), report.problem
