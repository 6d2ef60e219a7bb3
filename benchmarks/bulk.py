"""Bulk actions (issue 9): invalidating every signature of a petition of N, then undoing it.

    .venv/bin/python benchmarks/bulk.py [--signatures 100000] [--database postgres|sqlite] [--batch 5000]
                                        [--json FILE]

Creates a fresh database (PostgreSQL on ADVOCACY_BENCH_PG_URL's server, dropped at the end, or SQLite in a
temporary instance), loads the demo and, in a process of its own, fills one petition with N signatures
through benchmarks/fill.py (90 % confirmed). Then it times, with the code the worker runs
(``advocacy.fraud.bulk.run``, one commit per batch): the preview of the whole petition, the invalidation of
all of it, and the restore that undoes it; after each it checks the tally against the signatures.
Target (issue 9): a batch of 100,000 finishes in minutes, not hours.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import demo_instance, machine

PETITION = "free-ukrainian-civilians"


def inner(count: int, batch: int) -> dict[str, Any]:
    """Runs in the child, inside the configured app: fill, preview, invalidate, undo; the figures."""
    from fill import fill
    from sqlalchemy import func, select

    from advocacy import create_app
    from advocacy.accounts.roles import SYSTEM
    from advocacy.extensions import db
    from advocacy.fraud import bulk
    from advocacy.fraud.filters import SignatureFilter
    from advocacy.petitions import services as petitions
    from advocacy.signatures.models import Signature, SignatureState
    from advocacy.tallies import services as tallies

    def counted(pid: int) -> dict[str, int]:
        rows = db.session.execute(
            select(Signature.country, func.count())
            .where(Signature.petition_id == pid, Signature.state == SignatureState.CONFIRMED,
                   Signature.suspect.is_(False))
            .group_by(Signature.country)).all()
        return dict(rows)

    def stored(pid: int) -> dict[str, int]:
        return {country: n for country, n in tallies._count(pid).by_country.items() if n}

    app = create_app()
    with app.app_context():
        pid = petitions.get_petition(PETITION, include_drafts=True).id
        began = time.perf_counter()
        fill(pid, count, batch=5000)
        fill_seconds = time.perf_counter() - began
        before = stored(pid)
        assert before == counted(pid), "the tally disagrees with the signatures before the run"
        whole = SignatureFilter(pid)

        began = time.perf_counter()
        counts = bulk.preview(whole, actor=SYSTEM)
        preview_seconds = time.perf_counter() - began

        row = bulk.start(whole, "invalidate", "benchmark", actor=SYSTEM, whole_petition=True)
        db.session.commit()
        began = time.perf_counter()
        bulk.run(row.id, batch=batch)
        invalidate_seconds = time.perf_counter() - began
        assert stored(pid) == counted(pid) == {}, "the tally is not empty after invalidating everything"
        db.session.refresh(row)
        invalidated = row.processed

        restore = bulk.undo(row.id, actor=SYSTEM)
        db.session.commit()
        began = time.perf_counter()
        bulk.run(restore.id, batch=batch)
        restore_seconds = time.perf_counter() - began
        assert stored(pid) == counted(pid) == before, "the restore did not give the tally back"
        db.session.refresh(restore)
        return {
            "signatures_in_petition": int(db.session.scalar(
                select(func.count()).select_from(Signature).where(Signature.petition_id == pid)) or 0),
            "preview": counts, "preview_seconds": round(preview_seconds, 2),
            "invalidated": invalidated, "invalidate_seconds": round(invalidate_seconds, 1),
            "restored": restore.processed, "restore_seconds": round(restore_seconds, 1),
            "tally_total": sum(before.values()), "tally_exact_after_each_step": True,
            "fill_seconds": round(fill_seconds),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatures", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--pg-url", default=os.environ.get("ADVOCACY_BENCH_PG_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(inner(args.signatures, args.batch)))
        return

    with demo_instance(args.database, args.pg_url) as (_workdir, env):
        done = subprocess.run([sys.executable, __file__, "--inner", "--signatures", str(args.signatures),
                               "--batch", str(args.batch)], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"the run failed:\n{done.stdout}\n{done.stderr[-3000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])

    print(f"[bulk] {args.database}: {figures['invalidated']:,} invalidated in {figures['invalidate_seconds']}s, "
          f"{figures['restored']:,} restored in {figures['restore_seconds']}s "
          f"(preview {figures['preview_seconds']}s, batch {args.batch}); tally exact after each step")
    result: dict[str, Any] = {
        "benchmark": "bulk", "database": args.database, "batch": args.batch, **figures,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(), "loadavg": os.getloadavg(),
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
