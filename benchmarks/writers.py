"""Sign POSTs from several threads of one process on the embedded default, with and without the SQLite
writers' turns (advocacy.sqlite_writers), to see what the turns do to throughput and to the tail.

    .venv/bin/python benchmarks/writers.py [--threads 4] [--requests 500] [--rounds 3] [--json results.json]

Each round runs twice in fresh processes, once with the turns and once with pysqlite's plain connection
(SQLite's own busy handler, which sleeps 1, 2, 5, 10 … 100 ms between tries): ``--threads`` request
threads post ``--requests`` new signatures each through Flask's test client, while the embedded worker
sends their mails (to .eml files) in the same process, as under gunicorn. Printed per run: signatures a
second, CPU per request, and the p50, p99 and longest request. No network and no load generator: the
figures move less than a load test's on two shared cores, but they are one process, not the whole server.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inprocess import embedded_demo_app
from run import csrf_token, sign_form

PETITION = "free-ukrainian-civilians"


def one_run(threads: int, requests: int, turns: bool) -> dict[str, Any]:
    """In this process: the demo instance, the worker, and the timed burst."""
    os.environ["ADVOCACY_RATE_LIMITS"] = "off"
    import advocacy

    if not turns:
        with_turns = advocacy.engine_options

        def plain(url: str) -> dict[str, Any]:
            options = with_turns(url)
            options.get("connect_args", {}).pop("factory", None)
            return options

        advocacy.engine_options = plain  # type: ignore[assignment]
    from advocacy.worker import EmbeddedWorker

    app = embedded_demo_app(tempfile.mkdtemp())
    token = csrf_token(app.test_client(use_cookies=False).get(f"/p/{PETITION}").get_data(as_text=True))
    assert token is not None, "no form token on the petition page"
    latencies: list[float] = []
    failures: list[int] = []

    def post(thread: int) -> None:
        client = app.test_client(use_cookies=False)
        for i in range(requests):
            started = time.perf_counter()
            response = client.post(f"/p/{PETITION}", data=sign_form(token, f"Writer {thread} {i}", f"{thread}.{i}"),
                                   environ_base={"REMOTE_ADDR": f"10.{thread}.{i % 200}.{i % 250}"})
            latencies.append(time.perf_counter() - started)
            if response.status_code != 303:
                failures.append(response.status_code)

    EmbeddedWorker(app).start()
    workers = [threading.Thread(target=post, args=(t,)) for t in range(threads)]
    wall, cpu = time.perf_counter(), time.process_time()
    for each in workers:
        each.start()
    for each in workers:
        each.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    latencies.sort()
    total = threads * requests
    return {
        "turns": turns, "per_second": total / wall, "cpu_ms_per_request": cpu / total * 1e3,
        "p50_ms": latencies[len(latencies) // 2] * 1e3, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1e3,
        "max_ms": latencies[-1] * 1e3, "failures": len(failures),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--one", choices=["turns", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        result = one_run(args.threads, args.requests, args.one == "turns")
        print(json.dumps(result), flush=True)
        os._exit(0)  # the embedded worker's threads are not waited for
    results = []
    for _ in range(args.rounds):
        for kind in ("turns", "plain"):
            ran = subprocess.run([sys.executable, __file__, "--one", kind, "--threads", str(args.threads),
                                  "--requests", str(args.requests)], capture_output=True, text=True, check=True)
            result = json.loads(ran.stdout.strip().splitlines()[-1])
            results.append(result)
            print(f"{kind:6} {result['per_second']:6.0f}/s  CPU {result['cpu_ms_per_request']:.2f} ms/request  "
                  f"p50 {result['p50_ms']:5.1f}  p99 {result['p99_ms']:6.1f}  longest {result['max_ms']:7.1f} ms  "
                  f"failures {result['failures']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
