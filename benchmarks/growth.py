"""What the public requests and the periodic jobs cost as a petition grows (issue 12).

    .venv/bin/python benchmarks/growth.py [--sizes 10000,100000,1000000] [--json results.json]

On PostgreSQL (a fresh database on ADVOCACY_BENCH_PG_URL's server, named ADVOCACY_BENCH_DB_PREFIX + random,
dropped at the end), in this process: ``advocacy db upgrade`` and the demo, then for each size the demo's
petition is filled up to it with ``fill.py`` (90 % confirmed, creation times over 30 days, so about 8 % of
the rows are pending signatures whose link has expired), ``VACUUM ANALYZE`` is run (as autovacuum would),
and the following are timed with Flask's test client, every cache emptied before each request, so each
request reads the database:

- the petition page and its API answer (median of 20),
- signing (the form POST, each from another address; median of 200) and confirming (the confirm POST,
  median of 100),
- the periodic jobs once each: ``reconcile-tallies``, ``purge-expired-pending`` (its first run at a size
  deletes what fill.py left expired, the second, after a VACUUM as autovacuum would run in the hour between,
  is the steady state), ``erase-after-retention`` (nothing
  due: the demo's petition is open).

At the largest size the petition is then closed with a retention period that has run out, and the erasure
and its next hourly run (nothing left to erase) are timed: that is what a closed petition costs every hour
afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import machine, postgres_database, server_secrets

PETITION = "free-ukrainian-civilians"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def median_ms(samples: list[float]) -> float:
    return round(1000 * statistics.median(samples), 2)


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure(app: Any, petition_id: int, size: int, run: str) -> dict[str, Any]:
    from sqlalchemy import select

    from advocacy import cache
    from advocacy.extensions import db
    from advocacy.signatures.models import Signature, SignatureState

    client = app.test_client(use_cookies=False)
    page, api = f"/p/{PETITION}", f"/api/v1/petitions/{PETITION}"
    result: dict[str, Any] = {"signatures": size}

    def get(path: str) -> None:
        cache.clear_all()
        assert client.get(path).status_code == 200

    for _ in range(3):
        get(page)
        get(api)
    result["page_ms"] = median_ms([timed(lambda: get(page)) for _ in range(20)])
    result["api_ms"] = median_ms([timed(lambda: get(api)) for _ in range(20)])

    token = TOKEN.search(client.get(page).get_data(as_text=True))
    assert token
    sign_times = []
    for n in range(200):
        data = {"full_name": "Growth Signer", "email": f"growth.{run}.{size}.{n}@example.org", "country": "UA",
                "csrf_token": token.group(1)}
        environ = {"REMOTE_ADDR": f"10.{n % 200}.{size % 250}.{n % 250 + 1}"}
        sign_times.append(timed(lambda d=data, e=environ: client.post(page, data=d, environ_base=e)))
    result["sign_ms"] = median_ms(sign_times)

    with app.app_context():
        ids = list(db.session.scalars(
            select(Signature.id).where(Signature.petition_id == petition_id, Signature.state == SignatureState.PENDING)
            .order_by(Signature.id.desc()).limit(100)))
        db.session.remove()
    confirm_times = []
    for signature_id in ids:
        path = f"/confirm/{signatures_token(app, signature_id)}"
        with_cookies = app.test_client()
        form = TOKEN.search(with_cookies.get(path).get_data(as_text=True))
        assert form
        field = form.group(1)
        confirm_times.append(timed(lambda p=path, f=field, c=with_cookies: c.post(p, data={"csrf_token": f})))
    result["confirm_ms"] = median_ms(confirm_times)

    jobs: dict[str, float] = {}
    with app.app_context():
        by_name = {job.name: job for job in app.extensions["advocacy.periodic_jobs"]}
        for name in ("reconcile-tallies", "purge-expired-pending", "purge-expired-pending",
                     "erase-after-retention"):
            if name in jobs:
                # what the next hourly run meets: the deleted rows vacuumed away (autovacuum does it meanwhile)
                vacuum(str(db.engine.url.render_as_string(hide_password=False)))
            started = time.perf_counter()
            by_name[name].run()
            db.session.commit()
            label = name if name not in jobs else f"{name} (again)"
            jobs[label] = round(time.perf_counter() - started, 3)
        db.session.remove()
    result["jobs_s"] = jobs
    return result


def signatures_token(app: Any, signature_id: int) -> str:
    from advocacy.signatures import services as signatures

    with app.app_context():
        return signatures.confirm_token(signature_id)


def vacuum(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def retention(app: Any, petition_id: int) -> dict[str, float]:
    """Close the petition long ago with a retention period that has run out; time the erasure and the next run."""
    from sqlalchemy import update

    from advocacy.dbtypes import utcnow
    from advocacy.extensions import db
    from advocacy.petitions.models import Petition

    with app.app_context():
        db.session.execute(update(Petition).where(Petition.id == petition_id)
                           .values(closes_at=utcnow() - timedelta(days=400), retention_days=30))
        db.session.commit()
        job = {job.name: job for job in app.extensions["advocacy.periodic_jobs"]}["erase-after-retention"]
        times = {}
        for label in ("erase-after-retention (erasing)", "erase-after-retention (next hour)"):
            started = time.perf_counter()
            job.run()
            db.session.commit()
            times[label] = round(time.perf_counter() - started, 3)
        db.session.remove()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--pg-url", default=os.environ.get("ADVOCACY_BENCH_PG_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-retention", action="store_true", help="skip the erasure at the largest size")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))

    import tempfile

    results: dict[str, Any] = {"benchmark": "growth", "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                               "machine": machine(), "sizes": []}
    with tempfile.TemporaryDirectory() as folder, postgres_database(args.pg_url) as database_url:
        for name in [k for k in os.environ if k.startswith("ADVOCACY_")]:
            if name != "ADVOCACY_BENCH_DB_PREFIX":
                del os.environ[name]
        os.environ.update({"ADVOCACY_INSTANCE_PATH": folder, "ADVOCACY_BASE_URL": "http://127.0.0.1:5000",
                           "ADVOCACY_DATABASE_URL": database_url, "ADVOCACY_RATE_LIMITS": "off",
                           # no worker runs here: the mails stay queued in memory, nothing is sent
                           "ADVOCACY_SMTP_URL": "smtp://127.0.0.1:9",
                           **server_secrets()})
        from fill import fill
        from flask_migrate import upgrade

        from advocacy import cache, create_app
        from advocacy.demo import load_demo
        from advocacy.extensions import db
        from advocacy.petitions import services as petitions

        app = create_app()
        with app.app_context():
            upgrade()
            load_demo()
            petition_id = petitions.get_petition(PETITION).id
            db.session.remove()
        cache.clear_all()
        for run, size in enumerate(sizes):
            with app.app_context():
                from sqlalchemy import func, select

                from advocacy.signatures.models import Signature

                have = db.session.scalar(select(func.count()).select_from(Signature)
                                         .where(Signature.petition_id == petition_id)) or 0
                began = time.perf_counter()
                # a seed of its own per size: the purge deleted some earlier rows, so counting does not number on
                added = fill(petition_id, max(size - have, 0), seed=run + 2, progress=False)
                fill_seconds = time.perf_counter() - began
                db.session.remove()
            vacuum(database_url)
            print(f"[fill] {added:,} signatures in {fill_seconds:.1f}s ({added / max(fill_seconds, 1e-9):,.0f}/s)",
                  flush=True)
            measured = measure(app, petition_id, size, str(run))
            measured["fill_seconds"] = round(fill_seconds, 1)
            measured["filled"] = added
            print(f"[{size:,}] {json.dumps(measured)}", flush=True)
            results["sizes"].append(measured)
        if not args.no_retention:
            results["retention_at_largest"] = retention(app, petition_id)
            print(f"[retention] {results['retention_at_largest']}", flush=True)
    results["loadavg_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
