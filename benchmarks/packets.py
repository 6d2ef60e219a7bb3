"""A signature packet of N signatures: the time to build it and the builder's peak memory.

    .venv/bin/python benchmarks/packets.py [--signatures 1000000] [--database postgres|sqlite] [--json FILE]

Creates a fresh database (PostgreSQL on ADVOCACY_BENCH_PG_URL's server, dropped at the end, or SQLite in a
temporary instance), loads the demo, fills one petition with N signatures through benchmarks/fill.py (same
sealing and blind index as signing; 90 % confirmed, 80 % of those agreeing to pass their name on), then
runs ``advocacy packets build`` in a process of its own, the code path the worker uses, and reports its
wall time and peak resident memory (the child's ru_maxrss), then ``advocacy packets verify`` on the result.
Target (issue 10): under 2 minutes and under 200 MB for a million signatures on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BIN, demo_instance, machine

PETITION, TARGET = "free-ukrainian-civilians", "un-hrc"


# runs the command as its only child and prints the child's peak RSS (kB) last: a fresh account per command
MEASURE = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)")


def timed_child(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a command; its wall seconds, its peak RSS in MB and its output."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, *argv], env=env, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    *said, peak_kb = done.stdout.strip().splitlines()
    return elapsed, int(peak_kb) / 1024, "\n".join(said)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatures", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--pg-url", default=os.environ.get("ADVOCACY_BENCH_PG_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with demo_instance(args.database, args.pg_url) as (workdir, env):
        advocacy = str(BIN / "advocacy")
        began = time.perf_counter()
        subprocess.run([sys.executable, str(Path(__file__).parent / "fill.py"), PETITION, str(args.signatures)],
                       env=env, check=True, stderr=subprocess.DEVNULL)
        fill_seconds = time.perf_counter() - began
        print(f"[fill] {args.signatures:,} signatures in {fill_seconds:.0f}s")

        out = workdir / "packet.zip"
        cutoff = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        build_seconds, build_mb, said = timed_child(
            [advocacy, "packets", "build", PETITION, TARGET, "--out", str(out), "--cutoff", cutoff], env)
        print(f"[build] {said}\n[build] {build_seconds:.1f}s, peak RSS {build_mb:.0f} MB, "
              f"zip {out.stat().st_size / 1e6:.1f} MB")
        verify_seconds, verify_mb, said = timed_child([advocacy, "packets", "verify", str(out)], env)
        print(f"[verify] {verify_seconds:.1f}s, peak RSS {verify_mb:.0f} MB: {said[:80]}")
        zip_mb = out.stat().st_size / 1e6

    result: dict[str, Any] = {
        "benchmark": "packets", "database": args.database, "signatures_in_petition": args.signatures,
        "build_seconds": round(build_seconds, 1), "build_peak_rss_mb": round(build_mb),
        "verify_seconds": round(verify_seconds, 1), "verify_peak_rss_mb": round(verify_mb),
        "zip_mb": round(zip_mb, 1),
        "fill_seconds": round(fill_seconds), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(), "loadavg": os.getloadavg(),
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
