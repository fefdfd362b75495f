#!/usr/bin/env python3
"""What one round of the transparency log's sealer costs, and whether that grows with the log.

    python bench/profile_sealer.py [--sizes 0,100000,300000] [--new 500] [--rounds 5] [--top 0]

Starts its own PostgreSQL like bench/run.py, bulk-loads declarations (bench/run.py's bulk_declarations),
seals them, then per log size times rounds of ``--new`` fresh declarations each, the sealer's usual round and
a full sweep: the wall time and this process's CPU time (the wall time minus that is mostly the database's).
``--top N`` prints a cProfile of all rounds.
A tool for finding where the time goes, not a benchmark.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH_DIR.parent), str(BENCH_DIR)]

import run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0,100000,300000")
    parser.add_argument("--new", type=int, default=500, help="declarations recorded between two rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="steunregister-sealer-"))
    bench = run.Bench(argparse.Namespace(fsync=True), run.QUICK, tmp)
    try:
        bench.brp_path = tmp / "brp.json"
        bench.bsns = run.write_brp_fixture(bench.brp_path, 10)
        url = bench.database("postgresql", "sealer")
        app = bench.app(url)
        from registry.db import db
        from registry.transparency import services as transparency

        with app.app_context():
            election, link, election_id = run._link(db.session)
            links = [(election_id, link.list_id, link.version_id, link.district_id)]
            db.session.remove()
        loaded, results, profiler = 0, [], cProfile.Profile()
        rounds_clock = [transparency.LOOK_BACK_SECONDS * 2]
        transparency.clock = lambda: rounds_clock[0]  # a round a second, however long the bulk loads take
        for size in (int(s) for s in args.sizes.split(",")):
            if size > loaded:  # the log grows to ``size`` leaves before the timed rounds
                _bulk(url, loaded, size - loaded, links)
                loaded = size
            with app.app_context():
                transparency.seal(db.session, run._link(db.session)[0], sweep=True)
                rounds_clock[0] += transparency.LOOK_BACK_SECONDS  # as if the sealer had been running a while
                for sweep in (False, True):  # the sealer's usual round, and a full sweep
                    walls, cpus = [], []
                    for _ in range(args.rounds):
                        _bulk(url, loaded, args.new, links)
                        loaded += args.new
                        election = run._link(db.session)[0]
                        rounds_clock[0] += 1.0  # the rounds of `flask log run --interval 1`
                        cpu, wall = time.process_time(), time.perf_counter()
                        profiler.enable()
                        result = transparency.seal(db.session, election, sweep=sweep)
                        profiler.disable()
                        walls.append(time.perf_counter() - wall)
                        cpus.append(time.process_time() - cpu)
                        assert result.appended == args.new, result
                    results.append({"log_size": size, "round": "full sweep" if sweep else "usual",
                                    "new_per_round": args.new,
                                    "round_wall_ms": round(statistics.median(walls) * 1000, 1),
                                    "round_cpu_ms": round(statistics.median(cpus) * 1000, 1),
                                    "cpu_us_per_leaf": round(statistics.median(cpus) / args.new * 1e6, 1)})
                    print(json.dumps(results[-1]), flush=True)
                db.session.remove()
        if args.top:
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    finally:
        bench.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _bulk(url: str, already: int, count: int, links: list[tuple[int, int, int, int]]) -> None:
    """``count`` more declarations, numbered on from ``already`` (their pseudonyms must be new)."""
    import psycopg

    with psycopg.connect(run._plain(url), autocommit=True) as connection:
        election, list_, version, district = links[0]
        connection.execute(run.BULK, {"election": election, "list": list_, "version": version, "district": district,
                                      "first": already + 1, "last": already + count})
        if count > 10_000:
            connection.execute("ANALYZE declarations")


if __name__ == "__main__":
    sys.exit(main())
