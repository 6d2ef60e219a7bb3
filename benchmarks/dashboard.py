"""The dashboard (issue 9) with a petition of 100,000 and then 1,000,000 signatures: the rollup job and the
pages.

    .venv/bin/python benchmarks/dashboard.py [--sizes 100000,1000000] [--database postgres|sqlite] [--json FILE]

Creates a fresh database (PostgreSQL on ADVOCACY_BENCH_PG_URL's server, dropped at the end, or SQLite in a
temporary instance), loads the demo and fills one petition through benchmarks/fill.py up to each size
(creation times spread over 30 days, 90 % confirmed). At each size, in a process of its own:

- the rollup job from nothing (its first run: every hour of every petition), then again after 1,000 new
  signatures in the last quarter of an hour (an incremental run, what the job does every 5 minutes);
- the median and the slowest of REPEAT requests (Flask test client, caches emptied before each, so every
  request reads the tallies and the rollup) to the console dashboard, its hourly and daily SVGs and map,
  as an admin, and to the public petition page and its map.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import demo_instance, machine

PETITION = "free-ukrainian-civilians"
REPEAT = 15


def measure() -> dict[str, Any]:
    """Runs inside the child: the job's two runs and the pages' timings, as JSON on stdout."""
    import uuid

    from fill import fill
    from sqlalchemy import delete

    from advocacy import cache, create_app
    from advocacy.accounts import services as accounts
    from advocacy.accounts.models import User
    from advocacy.accounts.roles import Role
    from advocacy.dashboard import services
    from advocacy.dashboard.models import HourlyCount, RollupProgress, StateSnapshot
    from advocacy.dbtypes import utcnow
    from advocacy.extensions import db
    from advocacy.petitions import services as petitions

    app = create_app()
    out: dict[str, Any] = {}
    with app.app_context():
        petition = petitions.get_petition(PETITION, include_drafts=True)
        for table in (HourlyCount, StateSnapshot, RollupProgress):
            db.session.execute(delete(table))
        db.session.commit()
        began = time.perf_counter()
        out["rollup_hours_written"] = services.refresh()
        db.session.commit()
        out["rollup_first_seconds"] = round(time.perf_counter() - began, 3)
        fill(petition.id, 1000, days=0.01, seed=int(time.time()))
        began = time.perf_counter()
        out["rollup_incremental_hours_written"] = services.refresh()
        db.session.commit()
        out["rollup_incremental_seconds"] = round(time.perf_counter() - began, 3)
        out["signatures"] = services.totals(petition.id).signed

        address = f"bench-{uuid.uuid4().hex[:8]}@coalition.test"
        user = User(email=address, email_index=accounts.email_index(address), enrolled_at=utcnow())
        db.session.add(user)
        db.session.flush()
        accounts.add_grant(user, Role.ADMIN)
        db.session.commit()
        session_id, petition_id, slug = user.get_id(), petition.id, petition.slug
        db.session.remove()

    admin, public = app.test_client(), app.test_client()
    now = time.time()
    with admin.session_transaction("/console/") as session:
        session.update({"_user_id": session_id, "_fresh": True, "sid": uuid.uuid4().hex,
                        "started_at": now, "seen_at": now})
    pages = {
        "dashboard_page": (admin, f"/console/petitions/{petition_id}/dashboard"),
        "hourly_svg": (admin, f"/console/petitions/{petition_id}/dashboard/hourly.svg"),
        "daily_svg": (admin, f"/console/petitions/{petition_id}/dashboard/daily.svg"),
        "console_map_svg": (admin, f"/console/petitions/{petition_id}/dashboard/map.svg"),
        "public_page": (public, f"/p/{slug}"),
        "public_map_svg": (public, f"/p/{slug}/map.svg"),
    }
    for name, (client, path) in pages.items():
        timings = []
        for _ in range(REPEAT):
            cache.clear_all()
            began = time.perf_counter()
            answer = client.get(path, headers={"Accept-Language": "uk"})
            timings.append((time.perf_counter() - began) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"{path}: HTTP {answer.status_code}")
        out[f"{name}_median_ms"] = round(statistics.median(timings), 1)
        out[f"{name}_max_ms"] = round(max(timings), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--pg-url", default=os.environ.get("ADVOCACY_BENCH_PG_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure()))
        return

    sizes = [int(size) for size in args.sizes.split(",")]
    results: list[dict[str, Any]] = []
    with demo_instance(args.database, args.pg_url) as (_workdir, env):
        filled = 0
        for size in sizes:
            began = time.perf_counter()
            subprocess.run([sys.executable, str(Path(__file__).parent / "fill.py"), PETITION, str(size - filled)],
                           env=env, check=True, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            print(f"[fill] {size - filled:,} signatures in {time.perf_counter() - began:.0f}s", flush=True)
            filled = size
            done = subprocess.run([sys.executable, __file__, "--measure"], env=env, capture_output=True,
                                  text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"measuring failed:\n{done.stdout}\n{done.stderr[-3000:]}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            figures["size"] = size
            print(json.dumps(figures), flush=True)
            results.append(figures)
            filled += 1000  # the incremental run's signatures

    result: dict[str, Any] = {
        "benchmark": "dashboard", "database": args.database, "repeat": REPEAT, "results": results,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(), "loadavg": os.getloadavg(),
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
