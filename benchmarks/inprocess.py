"""Per-request CPU time of the public pages inside one process, without a server or a load generator.

    .venv/bin/python benchmarks/inprocess.py [--requests 3000] [--rounds 5]

Loads the demo data into a temporary embedded instance, then times anonymous GETs of the home page, a
petition page and its API answer through Flask's test client (cookies off, like wrk), and prints the best
round's microseconds per request. Comparing two commits this way shows what a change costs every reader,
free of the noise of a load test on two shared cores (where connections landing unevenly on gunicorn's
workers move figures by ±20 %). Its figures are not throughput: see run.py for that.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from flask import Flask

PATHS = {
    "home": "/",
    "petition page": "/p/free-ukrainian-civilians",
    "API petition": "/api/v1/petitions/free-ukrainian-civilians",
}


def embedded_demo_app(folder: str) -> Flask:
    """An app of the embedded default in ``folder`` (no database, broker or SMTP server from the environment),
    its database migrated and holding the demo data, with empty caches."""
    for name in ("ADVOCACY_DATABASE_URL", "ADVOCACY_BROKER_URL", "ADVOCACY_SMTP_URL"):
        os.environ.pop(name, None)
    os.environ["ADVOCACY_INSTANCE_PATH"] = folder
    os.environ["ADVOCACY_BASE_URL"] = "http://127.0.0.1:5000"
    from flask_migrate import upgrade

    from advocacy import cache, create_app
    from advocacy.demo import load_demo

    app = create_app()
    with app.app_context():
        upgrade()
        load_demo()
    cache.clear_all()
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        client = embedded_demo_app(folder).test_client(use_cookies=False)
        results: dict[str, float] = {}
        for label, path in PATHS.items():
            assert client.get(path).status_code == 200, path
            best = float("inf")
            for _ in range(args.rounds):
                started = time.process_time()
                for _ in range(args.requests):
                    client.get(path)
                best = min(best, (time.process_time() - started) / args.requests)
            results[label] = best * 1e6
            print(f"{label:15} {best * 1e6:8.1f} µs CPU per request (best of {args.rounds} × {args.requests})")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
