"""Mails per second that one `advocacy worker` process sends to a local SMTP server.

    .venv/bin/python benchmarks/mail.py [--mails 3000] [--threads 8] [--reuse 100] [--json results.json]

On PostgreSQL (a fresh database on ADVOCACY_BENCH_PG_URL's server, dropped at the end) with a Redis broker:
signs ``--mails`` people to a demo petition while no worker runs, so their confirmation mails wait in the
broker's queue; then starts one ``advocacy worker --processes 1 --threads N`` and times the sink receiving
them, from the first mail to the last (the worker's start-up is not counted). ``--reuse`` is how many
messages a worker thread sends over one SMTP connection (ADVOCACY_SMTP_URL's ``reuse``); ``--reuse 1`` gives
the old behaviour of one connection per message, for comparison. The mails are rendered, built and sent by
the same actor as in production (templates, sealed values opened, outbox claimed and acknowledged).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BIN, CpuMeter, Processes, Sink, flush_redis, machine, postgres_database, run_checked, server_secrets

PETITION = "free-ukrainian-civilians"


def sign_many(env: dict[str, str], count: int) -> None:
    """Sign ``count`` people in this process; each commit hands its confirmation mail to the broker."""
    os.environ.update(env)
    from advocacy import create_app
    from advocacy.extensions import db
    from advocacy.petitions import services as petitions
    from advocacy.signatures import services as signatures

    app = create_app()
    with app.app_context():
        petition = petitions.get_petition(PETITION)
        for number in range(count):
            signatures.sign(petition.id, signatures.Signer(
                full_name=f"Mail Bench {number}", email=f"mail-bench-{number}@example.org", country="UA",
                locale=("en", "uk", "ru")[number % 3]))
            if number % 100 == 99 or number == count - 1:
                db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--reuse", type=int, default=100, help="messages per SMTP connection")
    parser.add_argument("--pg-url", default=os.environ.get("ADVOCACY_BENCH_PG_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432"))
    parser.add_argument("--redis-url", default=os.environ.get("ADVOCACY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="record the worker with py-spy (collapsed stacks, for profile_summary.py)")
    args = parser.parse_args()

    processes = Processes()
    with tempfile.TemporaryDirectory() as folder, postgres_database(args.pg_url) as database_url:
        workdir = Path(folder)
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("ADVOCACY_")}
            env["PYTHONUNBUFFERED"] = "1"
            sink = Sink(processes, workdir, env)
            env.update({
                "ADVOCACY_INSTANCE_PATH": str(workdir / "instance"),
                "ADVOCACY_BASE_URL": "http://127.0.0.1:5000",
                "ADVOCACY_DATABASE_URL": database_url,
                "ADVOCACY_BROKER_URL": args.redis_url,
                "ADVOCACY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}?reuse={args.reuse}",
                **server_secrets(),
            })
            flush_redis(args.redis_url)
            advocacy = str(BIN / "advocacy")
            run_checked([advocacy, "db", "upgrade"], env=env, log_path=workdir / "setup.log", what="db upgrade")
            run_checked([advocacy, "demo"], env=env, log_path=workdir / "setup.log", what="advocacy demo")
            began = time.monotonic()
            sign_many(env, args.mails)
            print(f"[setup] {args.mails} signatures stored and their mails queued in {time.monotonic() - began:.1f}s")

            worker = processes.start("advocacy worker", [advocacy, "worker", "--processes", "1", "--threads",
                                                         str(args.threads)], env=env, log_path=workdir / "worker.log")
            spy = None
            if args.profile:
                py_spy_bin = shutil.which("py-spy") or str(BIN / "py-spy")
                spy = subprocess.Popen([py_spy_bin, "record", "--pid", str(worker.proc.pid), "--subprocesses",
                                        "--format", "raw", "--rate", "200", "--gil", "--output", str(args.profile)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + args.timeout
            first = None
            meter = None
            while time.monotonic() < deadline:
                received = len(sink.lines())
                if received and first is None:
                    first = (time.monotonic(), received)
                    meter = CpuMeter({"advocacy worker": worker.proc.pid, "smtp sink": sink.child.proc.pid})
                if received >= args.mails:
                    break
                time.sleep(0.05)
            last = time.monotonic()
            received = len(sink.lines())
            cpu = meter.result() if meter is not None else None
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
                spy.wait(30)
            if first is None or received < args.mails:
                raise SystemExit(f"only {received} of {args.mails} mails arrived within {args.timeout:.0f}s")
            elapsed = max(last - first[0], 1e-9)
            rate = (received - first[1]) / elapsed
        finally:
            processes.stop_all()
    result: dict[str, Any] = {
        "benchmark": "mail", "mails": args.mails, "threads": args.threads, "reuse": args.reuse,
        "seconds": round(elapsed, 2), "mails_per_second": round(rate, 1), "cpu": cpu,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(), "loadavg": os.getloadavg(),
    }
    print(f"[mail] one worker process, {args.threads} threads, {args.reuse} per connection: "
          f"{received} mails in {elapsed:.1f}s = {rate:.0f}/s")
    if cpu is not None:
        sent = max(received - first[1], 1)
        parts = ", ".join(f"{name} {seconds:.1f} s ({1000 * seconds / sent:.2f} ms a mail)"
                          for name, seconds in sorted(cpu["cpu_seconds"].items(), key=lambda item: -item[1]))
        print(f"[cpu] {parts}; all CPUs {100 * cpu['all_cpus_busy']:.0f}% busy")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
