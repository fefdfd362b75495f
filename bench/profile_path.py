#!/usr/bin/env python3
"""In-process profile of the declaration API path (no HTTP server, no load generator).

    python bench/profile_path.py [--backend postgresql|sqlite] [-n 2000] [--top 40]

Starts its own PostgreSQL like bench/run.py, records ``n`` declarations through the Flask test client
with a clerk's bearer token and an Idempotency-Key each, and prints the CPU per declaration and the
functions that cost most (cProfile, cumulative). A tool for finding where the time goes, not a benchmark.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import json
import pstats
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

BENCH_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH_DIR.parent), str(BENCH_DIR)]

import run  # noqa: E402


def _token(client: object, hint: str) -> str:
    """The mock issuer's code flow with PKCE, as bench/run.py's bearer_token, through the test client."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    redirect = "http://127.0.0.1:8765/callback"
    params = {"client_id": "steunregister-cli", "redirect_uri": redirect, "response_type": "code", "scope": "openid",
              "state": "s", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256",
              "login_hint": hint, "resource": "steunregister-api"}
    answer = client.get("/mock-idp/authorize?" + urlencode(params))  # type: ignore[attr-defined]
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = client.post("/mock-idp/token", data={  # type: ignore[attr-defined]
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "client_id": "steunregister-cli", "code_verifier": verifier})
    return str(token.get_json()["access_token"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--wall", action="store_true", help="profile wall time (default: this process's CPU time)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="steunregister-profile-"))
    bench = run.Bench(argparse.Namespace(fsync=True), run.QUICK, tmp)
    try:
        bench.brp_path = tmp / "brp.json"
        bench.bsns = run.write_brp_fixture(bench.brp_path, args.n + 200)
        url = bench.database(args.backend, "profile")
        volt = run.list_id(url)
        app = bench.app(url)
        client = app.test_client()
        token = _token(client, "clerk:GM0392")
        headers = {"Authorization": f"Bearer {token}"}

        def declare(i: int) -> None:
            body = {"list": volt, "bsn": bench.bsns[i], "identity_document": run.PASSPORT}
            answer = client.post("/api/v1/elections/TK2025/declarations", json=body,
                                 headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
            assert answer.status_code == 201, answer.get_data(as_text=True)

        for i in range(100):  # warm caches and pools
            declare(i)
        profiler = cProfile.Profile() if args.wall else cProfile.Profile(time.process_time)
        cpu, wall = time.process_time(), time.perf_counter()
        profiler.enable()
        for i in range(100, 100 + args.n):
            declare(i)
        profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(json.dumps({"declarations": args.n, "cpu_ms_each": round(cpu / args.n * 1000, 2),
                          "wall_ms_each": round(wall / args.n * 1000, 2)}))
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    finally:
        bench.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
