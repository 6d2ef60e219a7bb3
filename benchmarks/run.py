"""Load benchmark of the signing flow, the petition page and the API, against a bare-Flask baseline.

    .venv/bin/python benchmarks/run.py --mode embedded|postgres [--clients 32] [--seconds 20]
                                       [--gunicorn-workers 2] [--threads 4] [--json results.json]

One run:

1. sets up a temporary instance folder (and, in postgres mode, a fresh database and a Redis db for the
   broker plus one ``advocacy worker``), an SMTP sink (``smtp_sink.py``), ``advocacy db upgrade`` and
   ``advocacy demo``, then starts ``gunicorn wsgi:app`` on loopback;
2. sign: ``--clients`` clients, each with its own cookie jar, loop for ``--seconds``: GET the petition page,
   POST the form with its CSRF token and a unique email (a 303 counts as an accepted signature);
3. waits (bounded) until the sink has received a confirmation mail for every accepted signature;
4. confirm: the clients take the links from the mails: GET the confirm page, POST its form;
5. GET the petition page and the API with ``wrk`` at ``--clients`` connections;
6. stops the app and starts ``baseline_app.py`` under the same gunicorn settings and on the same database:
   ``POST /insert`` with the same Python driver and concurrency as step 2, ``GET /hello`` with ``wrk``;
7. prints a table of each figure, its baseline, the ratio and the targets, and writes ``--json``.

Everything it starts is stopped at the end, on errors and on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import html
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
BIN = Path(sys.executable).parent  # the venv's bin: run this script with .venv/bin/python

TARGET_SIGN_POST_RATIO = 0.4  # the sign POST alone against the bare INSERT POST (issue 12)
TARGET_SIGN_RATIO = 0.3       # the whole flow (page GET + POST, its mail sent on the same cores)
TARGET_READ_RATIO = 0.8       # the petition page against the bare hello
TARGET_API_RATIO = 0.9        # the API answer against the bare hello
TARGET_P99_MS = 250.0
TALLY_CACHE_SECONDS = 3.0  # advocacy/__init__.py: TALLY_CACHE_SECONDS
COUNTRIES = ("UA", "PL", "DE", "GB", "FR", "NL", "LT", "CZ")

CSRF_INPUT = re.compile(r"<input[^>]*\bname=\"csrf_token\"[^>]*>")
VALUE_ATTR = re.compile(r"\bvalue=\"([^\"]*)\"")
POST_FORM_ACTION = re.compile(r"<form[^>]*\bmethod=\"post\"[^>]*\baction=\"([^\"]*)\"", re.IGNORECASE)


class BenchmarkError(RuntimeError):
    pass


# --- processes --------------------------------------------------------------------------------------

@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path


class Processes:
    """Children in sessions of their own, stopped (SIGTERM, then SIGKILL) in reverse order of start."""

    def __init__(self) -> None:
        self.children: list[Child] = []

    def start(self, name: str, argv: list[str], *, env: dict[str, str], log_path: Path,
              cwd: Path = ROOT, stdout_pipe: bool = False) -> Child:
        log = open(log_path, "ab")  # noqa: SIM115 (kept open for the child's life)
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE if stdout_pipe else log, stderr=log,
                                    start_new_session=True)
        finally:
            log.close()
        child = Child(name, proc, log_path)
        self.children.append(child)
        return child

    def stop(self, child: Child, timeout: float = 15.0) -> None:
        if child in self.children:
            self.children.remove(child)
        proc = child.proc
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        # a gunicorn worker or a dramatiq child left behind in the session: make sure it is gone
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.stdout is not None:
            proc.stdout.close()

    def stop_all(self) -> None:
        for child in reversed(list(self.children)):
            try:
                self.stop(child)
            except Exception as exc:  # keep stopping the others
                print(f"could not stop {child.name}: {exc}", file=sys.stderr)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_checked(argv: list[str], *, env: dict[str, str], log_path: Path, what: str) -> None:
    with open(log_path, "ab") as log:
        result = subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                check=False)
    if result.returncode != 0:
        raise BenchmarkError(f"{what} failed (exit {result.returncode}); log {log_path}:\n{log_tail(log_path)}")


def wait_http(url: str, child: Child, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            raise BenchmarkError(f"{child.name} exited with {child.proc.returncode}; log {child.log_path}:\n"
                                 f"{log_tail(child.log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own loopback URL)
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise BenchmarkError(f"{child.name} did not answer {url} within {timeout:.0f}s; log {child.log_path}:\n"
                         f"{log_tail(child.log_path)}")


def gunicorn_argv(app: str, port: int, args: argparse.Namespace) -> list[str]:
    workers, threads = args.gunicorn_workers, args.threads
    argv = [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
            "--graceful-timeout", "5", "--timeout", "60", "--log-level", "warning"]
    if args.reuse_port:
        # each worker its own listening socket (SO_REUSEPORT): the kernel spreads new connections over them,
        # instead of letting whichever worker accepts first take most of the keep-alive connections
        argv.append("--reuse-port")
    if threads > 1:
        argv += ["-k", "gthread", "--threads", str(threads)]
        # a gthread worker accepts every connection it can: without a cap one process can take all 32
        # keep-alive connections of the load tool and leave the other core idle
        connections = args.worker_connections
        if connections is None:
            # with --reuse-port the kernel spreads the connections, and a cap would leave the ones a busy
            # worker cannot take waiting in its queue for the whole phase
            connections = 0 if args.reuse_port else -(-args.clients // workers)
        if connections > 0:
            argv += ["--worker-connections", str(connections)]
    return [*argv, app]


def gunicorn_worker_pids(master_pid: int) -> list[int]:
    return sorted(pid for pid, ppid, _pgrp, _comm, _cpu in _process_table() if ppid == master_pid)


# --- CPU accounting -----------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_table() -> list[tuple[int, int, int, str, float]]:
    """(pid, parent pid, process group, command name, CPU seconds) of every process we can read."""
    table = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split at the last ')'
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        # fields[0] is the state (field 3 of proc(5)): ppid is field 4, pgrp 5, utime 14, stime 15
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        table.append((int(entry.name), int(fields[1]), int(fields[2]), comm, cpu))
    return table


def _system_busy() -> tuple[float, float]:
    """(busy, total) jiffies over all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


class CpuMeter:
    """CPU seconds spent during a phase by the server, the background worker, the database, the mail sink and
    the load generator (this process and wrk), and how busy all CPUs were."""

    def __init__(self, groups: dict[str, int]) -> None:
        self.groups = groups  # name -> process group id of a child we started
        self.before = self._sample()
        self.started = time.monotonic()
        self.busy_before = _system_busy()

    def _sample(self) -> dict[str, dict[int, float]]:
        by_name: dict[str, dict[int, float]] = collections.defaultdict(dict)
        names = {pgid: name for name, pgid in self.groups.items()}
        for pid, _ppid, pgid, comm, cpu in _process_table():
            if pgid in names:
                by_name[names[pgid]][pid] = cpu
            elif comm.startswith("postgres"):
                by_name["postgres"][pid] = cpu
            elif comm.startswith("redis-server"):
                by_name["redis"][pid] = cpu
        times = os.times()
        by_name["load generator"][os.getpid()] = times.user + times.system + times.children_user + times.children_system
        return by_name

    def result(self) -> dict[str, Any]:
        after = self._sample()
        wall = time.monotonic() - self.started
        busy, total = _system_busy()
        cpu = {}
        for name, pids in after.items():
            used = sum(value - self.before.get(name, {}).get(pid, 0.0) for pid, value in pids.items())
            if used > 0.005:
                cpu[name] = round(used, 2)
        share = (busy - self.busy_before[0]) / max(1.0, total - self.busy_before[1])
        # per process of the server: shows whether the load is spread over the gunicorn workers
        per_process = {}
        for name in ("app server", "baseline server"):
            for pid, value in after.get(name, {}).items():
                used = value - self.before.get(name, {}).get(pid, 0.0)
                if used > 0.005:
                    per_process[str(pid)] = round(used, 2)
        return {"wall_seconds": round(wall, 2), "cpu_seconds": cpu, "all_cpus_busy": round(share, 3),
                "server_cpu_per_process": per_process}


# --- statistics -------------------------------------------------------------------------------------

def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), int(-(-pct * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


@dataclass
class Kind:
    """One kind of request in a driver phase: latencies (seconds) of every answered request, and failures."""

    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    errors: collections.Counter[str] = field(default_factory=collections.Counter)  # non-2xx/3xx, socket errors
    unexpected: collections.Counter[str] = field(default_factory=collections.Counter)  # 2xx/3xx but not success

    def summary(self, elapsed: float) -> dict[str, Any]:
        values = sorted(self.latencies)
        return {
            "requests": len(values) + sum(v for k, v in self.errors.items() if not k.isdigit()),
            "ok": self.ok,
            "per_second": self.ok / elapsed if elapsed else 0.0,
            "p50_ms": _ms(percentile(values, 50)),
            "p90_ms": _ms(percentile(values, 90)),
            "p99_ms": _ms(percentile(values, 99)),
            "max_ms": _ms(values[-1] if values else None),
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "unexpected": dict(self.unexpected),
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


@dataclass
class Phase:
    kinds: dict[str, Kind] = field(default_factory=lambda: collections.defaultdict(Kind))
    elapsed: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {"seconds": round(self.elapsed, 3), **{name: k.summary(self.elapsed) for name, k in self.kinds.items()}}


# --- the Python driver (stateful flows) -------------------------------------------------------------

def _aiohttp() -> Any:
    try:
        import aiohttp
    except ImportError as exc:  # pragma: no cover
        raise BenchmarkError("aiohttp is missing: .venv/bin/pip install aiohttp") from exc
    return aiohttp


async def fetch(session: Any, phase: Phase, kind: str, method: str, url: str, *, ok_status: int,
                data: dict[str, str] | None = None) -> str | None:
    """One request; returns the body when the status is ``ok_status``, records latency and failures."""
    aiohttp = _aiohttp()
    record = phase.kinds[kind]
    started = time.perf_counter()
    try:
        async with session.request(method, url, data=data, allow_redirects=False) as response:
            body = await response.text()
            status = response.status
    except (TimeoutError, aiohttp.ClientError) as exc:
        record.errors[type(exc).__name__] += 1
        return None
    record.latencies.append(time.perf_counter() - started)
    if not 200 <= status < 400:
        record.errors[str(status)] += 1
        return None
    if status != ok_status:
        record.unexpected[str(status)] += 1
        return None
    return str(body)


def csrf_token(page: str) -> str | None:
    tag = CSRF_INPUT.search(page)
    value = VALUE_ATTR.search(tag.group(0)) if tag else None
    return html.unescape(value.group(1)) if value else None


SIGN_KINDS = ("page", "sign")
CONFIRM_KINDS = ("confirm_page", "confirm")
Step = Callable[[Any, int, int, Phase], Awaitable[bool]]


async def drive(clients: int, seconds: float, step: Step, phase: Phase) -> None:
    """``clients`` concurrent loops of ``step(session, client, iteration, phase)`` until the time is up or a
    step returns False; each client has one keep-alive connection and its own cookie jar."""
    aiohttp = _aiohttp()
    deadline = time.perf_counter() + seconds

    async def client(index: int) -> None:
        connector = aiohttp.TCPConnector(limit=1, force_close=False)
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address host
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, cookie_jar=jar, timeout=timeout) as session:
            iteration = 0
            while time.perf_counter() < deadline:
                if not await step(session, index, iteration, phase):
                    break
                iteration += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    phase.elapsed = time.perf_counter() - started


def sign_form(token: str, full_name: str, unique: str) -> dict[str, str]:
    """The sign form as a reader fills it in, with an address no other request of the run uses."""
    return {"csrf_token": token, "full_name": full_name, "email": f"bench.{unique}@example.org",
            "country": random.choice(COUNTRIES), "postcode": "", "consent_share_name": "y"}


def sign_step(base: str, slug: str, run_id: str, tag: str) -> Step:
    page_url = f"{base}/p/{slug}"

    async def step(session: Any, client: int, iteration: int, phase: Phase) -> bool:
        page = await fetch(session, phase, "page", "GET", page_url, ok_status=200)
        token = csrf_token(page) if page is not None else None
        if token is None:
            if page is not None:
                phase.kinds["page"].unexpected["no csrf token"] += 1
            return True
        phase.kinds["page"].ok += 1
        form = sign_form(token, f"Bench Signer {client} {iteration}", f"{run_id}.{tag}.{client}.{iteration}")
        if await fetch(session, phase, "sign", "POST", page_url, ok_status=303, data=form) is not None:
            phase.kinds["sign"].ok += 1
        return True

    return step


def sign_post_step(base: str, slug: str, run_id: str, tag: str) -> Step:
    """The sign POST alone: each client reads the page once for its form token (stateless, valid for hours and
    for any number of signatures), then only POSTs the form, each time with a new address."""
    page_url = f"{base}/p/{slug}"
    tokens: dict[int, str] = {}

    async def step(session: Any, client: int, iteration: int, phase: Phase) -> bool:
        token = tokens.get(client)
        if token is None:
            page = await fetch(session, phase, "token_page", "GET", page_url, ok_status=200)
            token = csrf_token(page) if page is not None else None
            if token is None:
                return True
            tokens[client] = token
        form = sign_form(token, f"Bench Poster {client} {iteration}", f"{run_id}.{tag}.{client}.{iteration}")
        if await fetch(session, phase, "sign_post", "POST", page_url, ok_status=303, data=form) is not None:
            phase.kinds["sign_post"].ok += 1
        return True

    return step


def confirm_step(base: str, links: collections.deque[str]) -> Step:
    async def step(session: Any, client: int, iteration: int, phase: Phase) -> bool:
        try:
            link = links.popleft()
        except IndexError:
            return False
        page = await fetch(session, phase, "confirm_page", "GET", link, ok_status=200)
        token = csrf_token(page) if page is not None else None
        action = POST_FORM_ACTION.search(page) if page is not None else None
        if token is None or action is None:
            if page is not None:
                phase.kinds["confirm_page"].unexpected["no confirm form"] += 1
            return True
        phase.kinds["confirm_page"].ok += 1
        url = urljoin(link, html.unescape(action.group(1)))
        answer = await fetch(session, phase, "confirm", "POST", url, ok_status=200, data={"csrf_token": token})
        if answer is not None:
            if "/withdraw/" in answer:  # the thank-you page offers the withdraw link only once confirmed
                phase.kinds["confirm"].ok += 1
            else:
                phase.kinds["confirm"].unexpected["not confirmed"] += 1
        return True

    return step


def insert_step(base: str) -> Step:
    url = f"{base}/insert"

    async def step(session: Any, client: int, iteration: int, phase: Phase) -> bool:
        payload = {"payload": f"client {client} row {iteration}"}
        if await fetch(session, phase, "insert", "POST", url, ok_status=201, data=payload) is not None:
            phase.kinds["insert"].ok += 1
        return True

    return step


def run_driver(clients: int, seconds: float, step: Step, kinds: tuple[str, ...]) -> Phase:
    phase = Phase()
    for kind in kinds:
        phase.kinds[kind] = Kind()
    asyncio.run(drive(clients, seconds, step, phase))
    return phase


# --- wrk ----------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return round(float(match.group(1)) * _UNITS[match.group(2)], 3)


def parse_wrk(output: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    match = re.search(r"Requests/sec:\s*([\d.]+)", output)
    if not match:
        raise BenchmarkError(f"could not read wrk's output:\n{output}")
    result["per_second"] = float(match.group(1))
    match = re.search(r"(\d+) requests in ([\d.]+\w+)", output)
    if match:
        result["requests"] = int(match.group(1))
        result["seconds"] = _duration_ms(match.group(2)) / 1000
    for pct in ("50", "75", "90", "99"):
        match = re.search(rf"^\s*{pct}(?:\.0+)?%\s+([\d.]+\w+)", output, re.MULTILINE)
        result[f"p{pct}_ms"] = _duration_ms(match.group(1)) if match else None
    match = re.search(r"Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+\w+)", output)
    result["max_ms"] = _duration_ms(match.group(1)) if match else None
    errors: dict[str, int] = {}
    match = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    if match:
        errors["non-2xx/3xx"] = int(match.group(1))
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if match:
        for name, value in zip(("connect", "read", "write", "timeout"), match.groups(), strict=True):
            if int(value):
                errors[f"socket {name}"] = int(value)
    result["errors"] = sum(errors.values())
    result["error_kinds"] = errors
    return result


def run_wrk(url: str, connections: int, seconds: float, threads: int) -> dict[str, Any]:
    argv = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s", "--latency", url]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchmarkError(f"wrk failed ({result.returncode}): {result.stderr}{result.stdout}")
    parsed = parse_wrk(result.stdout)
    parsed["command"] = " ".join(argv)
    parsed["output"] = result.stdout
    return parsed


# --- the SMTP sink ------------------------------------------------------------------------------------

class Sink:
    def __init__(self, processes: Processes, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.path = workdir / "mail-links.txt"
        self.path.touch()
        self.child = processes.start("smtp sink", [sys.executable, str(BENCH_DIR / "smtp_sink.py"), "--port",
                                                   str(self.port), "--out", str(self.path)],
                                     env=env, log_path=workdir / "smtp-sink.log", stdout_pipe=True)
        assert self.child.proc.stdout is not None
        line = self.child.proc.stdout.readline().decode().strip()
        if line != "ready":
            raise BenchmarkError(f"the SMTP sink did not start:\n{log_tail(self.child.log_path)}")
        self.taken = 0

    def lines(self) -> list[str]:
        return self.path.read_text().splitlines()

    def links(self) -> list[str]:
        return [line for line in self.lines() if line != "-"]

    def take_new_links(self) -> list[str]:
        links = self.links()
        new, self.taken = links[self.taken:], len(links)
        return new


# --- the run ------------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version(),
                            "kernel": platform.release()}
    with contextlib.suppress(OSError):
        meminfo = Path("/proc/meminfo").read_text()
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
        if match:
            info["memory_gib"] = round(int(match.group(1)) / 1024 / 1024, 1)
    with contextlib.suppress(OSError):
        match = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        if match:
            info["cpu"] = match.group(1).strip()
    return info


@contextlib.contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A fresh database for the run, dropped at the end."""
    import psycopg

    name = f"{os.environ.get('ADVOCACY_BENCH_DB_PREFIX', 'advocacy_bench_')}{secrets.token_hex(4)}"
    admin = base_url.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base_url.rstrip("/") + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def demo_instance(kind: str, pg_url: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """A work folder and the environment of an advocacy instance holding the demo data: on SQLite in that
    folder (``kind`` "sqlite") or on a fresh PostgreSQL database under ``pg_url``, dropped at the end, with
    keys of its own. Nothing is mailed."""
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        workdir = Path(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ADVOCACY_")}
        env.update({"ADVOCACY_INSTANCE_PATH": str(workdir / "instance"), "PYTHONUNBUFFERED": "1"})
        if kind == "postgres":
            env.update({
                "ADVOCACY_DATABASE_URL": stack.enter_context(postgres_database(pg_url)),
                "ADVOCACY_SMTP_URL": "smtp://127.0.0.1:1",  # nothing is mailed here
                **server_secrets(),
            })
        for step in (["db", "upgrade"], ["demo"]):
            ran = subprocess.run([str(BIN / "advocacy"), *step], env=env, capture_output=True, text=True,
                                 check=False)
            if ran.returncode != 0:
                raise SystemExit(f"advocacy {' '.join(step)} failed:\n{ran.stderr[-3000:]}")
        yield workdir, env


def server_secrets() -> dict[str, str]:
    """Fresh keys for a run outside the embedded mode, the same in every process of the run."""
    def key() -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

    return {"ADVOCACY_SECRET_KEY": secrets.token_urlsafe(48), "ADVOCACY_DATA_KEYS": f"b1:{key()}",
            "ADVOCACY_BLIND_INDEX_KEY": key(), "ADVOCACY_PACKET_SIGNING_KEY": key()}


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


@contextlib.contextmanager
def py_spy(args: argparse.Namespace, master_pid: int, name: str, seconds: float) -> Iterator[None]:
    """With --profile DIR: sample the gunicorn workers during a phase (collapsed stacks, for profile summary)."""
    if not args.profile:
        yield
        return
    py_spy_bin = shutil.which("py-spy") or str(BIN / "py-spy")
    out = Path(args.profile) / f"{args.mode}-{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [py_spy_bin, "record", "--pid", str(master_pid), "--subprocesses", "--format", "raw", "--rate", "200",
            "--duration", str(int(seconds) + 1), "--output", str(out)]
    if not args.profile_wall:
        argv.append("--gil")  # only the thread holding the GIL: where the Python CPU time goes
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(5)
        print(f"  profile: {out}")


def benchmark(args: argparse.Namespace, workdir: Path, processes: Processes,
              database_url: str | None) -> dict[str, Any]:
    run_id = secrets.token_hex(3)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADVOCACY_", "BASELINE_"))}
    env["PYTHONUNBUFFERED"] = "1"
    sink = Sink(processes, workdir, env)
    instance = workdir / "instance"
    env.update({
        "ADVOCACY_INSTANCE_PATH": str(instance),
        "ADVOCACY_BASE_URL": base,
        "ADVOCACY_RATE_LIMITS": "off",
        "ADVOCACY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
    })
    if database_url:
        env["ADVOCACY_DATABASE_URL"] = database_url
        # outside the embedded mode the app takes its keys from the environment, the same in every process
        env.update({
            **server_secrets(),
        })
    if args.mode == "postgres":
        env["ADVOCACY_BROKER_URL"] = args.redis_url
        flush_redis(args.redis_url)
    elif args.give_way is not None:
        env["ADVOCACY_EMBEDDED_GIVE_WAY"] = str(args.give_way)

    results: dict[str, Any] = {"mode": args.mode, "run_id": run_id, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                               "machine": machine(), "loadavg_start": os.getloadavg(),
                               "settings": {"clients": args.clients, "seconds": args.seconds,
                                            "gunicorn_workers": args.gunicorn_workers, "threads": args.threads,
                                            "gunicorn_app_command": " ".join(gunicorn_argv("wsgi:app", port, args)),
                                            "petition": args.petition, "wrk_threads": args.wrk_threads,
                                            "database": "sqlite (WAL)" if args.mode == "embedded" else "postgresql",
                                            "broker": args.redis_url if args.mode == "postgres" else "embedded",
                                            "worker_nice": args.worker_nice if args.mode == "postgres" else None,
                                            # None: the app's default (ADVOCACY_EMBEDDED_GIVE_WAY unset)
                                            "give_way": args.give_way if args.mode == "embedded" else None}}
    print(f"[setup] {args.mode}: instance {instance}, app on {base}, smtp sink on {sink.port}")
    busy_before = _system_busy()
    time.sleep(1.0)
    busy_after = _system_busy()
    results["busy_before_start"] = round((busy_after[0] - busy_before[0]) / max(1.0, busy_after[1] - busy_before[1]), 3)
    if results["busy_before_start"] > 0.15:
        print(f"[setup] WARNING: the CPUs were {100 * results['busy_before_start']:.0f}% busy before the run started:"
              " other work on the machine makes the figures noisy")
    advocacy = str(BIN / "advocacy")
    run_checked([advocacy, "db", "upgrade"], env=env, log_path=workdir / "setup.log", what="advocacy db upgrade")
    run_checked([advocacy, "demo"], env=env, log_path=workdir / "setup.log", what="advocacy demo")
    if args.fill:
        # the petition holds this many signatures before the run (fill.py: sealed and indexed like signing's)
        began = time.monotonic()
        run_checked([sys.executable, str(BENCH_DIR / "fill.py"), args.petition, str(args.fill)], env=env,
                    log_path=workdir / "setup.log", what="fill.py")
        results["fill"] = {"signatures": args.fill, "seconds": round(time.monotonic() - began, 1)}
        print(f"[setup] {args.fill:,} signatures filled in {results['fill']['seconds']}s")

    worker = None
    if args.mode == "postgres":
        worker = processes.start("advocacy worker", [advocacy, "worker", "--processes", "1", "--threads", "8",
                                                     "--nice", str(args.worker_nice)],
                                 env=env, log_path=workdir / "worker.log")
    app = processes.start("gunicorn (app)", gunicorn_argv("wsgi:app", port, args),
                          env=env, log_path=workdir / "gunicorn-app.log")
    page_url = f"{base}/p/{args.petition}"
    api_url = f"{base}/api/v1/petitions/{args.petition}"
    wait_http(page_url, app)
    wait_http(api_url, app)
    print(f"[setup] gunicorn pid {app.proc.pid}, workers {gunicorn_worker_pids(app.proc.pid)}")
    groups = {"app server": app.proc.pid, "smtp sink": sink.child.proc.pid}
    if worker is not None:
        groups["advocacy worker"] = worker.proc.pid

    # warm-up: every worker process imports, compiles templates and fills its pools (not counted)
    warm = run_driver(args.clients, args.warmup, sign_step(base, args.petition, run_id, "w"), SIGN_KINDS)
    warm_accepted = warm.kinds["sign"].ok
    print(f"[warm-up] {warm_accepted} signatures in {warm.elapsed:.1f}s")

    # (1) sign
    print(f"[sign] {args.clients} clients for {args.seconds}s: GET page + POST form")
    lines_before = len(sink.lines())
    meter = CpuMeter(groups)
    with py_spy(args, app.proc.pid, "sign", args.seconds):
        sign = run_driver(args.clients, args.seconds, sign_step(base, args.petition, run_id, "s"), SIGN_KINDS)
    sign_cpu = meter.result()
    mails_during_sign = len(sink.lines()) - lines_before
    accepted = sign.kinds["sign"].ok
    results["sign"] = sign.summary()
    results["sign"]["mails_received_during_phase"] = mails_during_sign
    results["sign"]["cpu"] = sign_cpu
    print(f"[sign] {accepted} accepted in {sign.elapsed:.1f}s = {accepted / sign.elapsed:.1f}/s; "
          f"{mails_during_sign} mails reached the sink meanwhile")

    # (1b) the sign POST alone (one page read per client for its token, not counted)
    print(f"[sign POST] {args.clients} clients for {args.seconds}s: POST form only")
    lines_before = len(sink.lines())
    meter = CpuMeter(groups)
    with py_spy(args, app.proc.pid, "sign-post", args.seconds):
        posts = run_driver(args.clients, args.seconds, sign_post_step(base, args.petition, run_id, "p"),
                           ("sign_post",))
    posted = posts.kinds["sign_post"].ok
    results["sign_post"] = posts.summary()
    results["sign_post"]["cpu"] = meter.result()
    results["sign_post"]["mails_received_during_phase"] = len(sink.lines()) - lines_before
    print(f"[sign POST] {posted} accepted in {posts.elapsed:.1f}s = {posted / posts.elapsed:.1f}/s")

    # (2) wait for the confirmation mails
    expected = warm_accepted + accepted + posted
    started = time.monotonic()
    while len(sink.links()) < expected and time.monotonic() - started < args.mail_timeout:
        time.sleep(0.25)
    mail_wait = time.monotonic() - started
    links = sink.take_new_links()
    results["mail"] = {"expected": expected, "received_links": len(links), "wait_seconds": round(mail_wait, 2)}
    print(f"[mail] {len(links)}/{expected} confirmation links after waiting {mail_wait:.1f}s more")
    if len(links) < expected:
        print(f"[mail] WARNING: {expected - len(links)} confirmation mails missing after {args.mail_timeout}s")

    # (3) confirm
    before = api_total(api_url)
    queue = collections.deque(links)
    print(f"[confirm] {args.clients} clients, up to {args.seconds}s or {len(queue)} links: GET page + POST")
    other_mails_before = len(sink.lines()) - len(sink.links())
    meter = CpuMeter(groups)
    with py_spy(args, app.proc.pid, "confirm", args.seconds):
        confirm = run_driver(args.clients, args.seconds, confirm_step(base, queue), CONFIRM_KINDS)
    confirmed = confirm.kinds["confirm"].ok
    results["confirm"] = confirm.summary()
    results["confirm"]["cpu"] = meter.result()
    results["confirm"]["links_left"] = len(queue)
    print(f"[confirm] {confirmed} confirmed in {confirm.elapsed:.1f}s = {confirmed / confirm.elapsed:.1f}/s"
          f" ({len(queue)} links left)")
    # the "your signature counts" mails: let the worker send them before the reads are measured
    started = time.monotonic()
    while (len(sink.lines()) - len(sink.links()) - other_mails_before < confirmed
           and time.monotonic() - started < args.mail_timeout):
        time.sleep(0.25)
    sent = len(sink.lines()) - len(sink.links()) - other_mails_before
    results["mail"]["confirmed_mails"] = sent
    results["mail"]["confirmed_mails_wait_seconds"] = round(time.monotonic() - started, 2)
    print(f"[mail] {sent}/{confirmed} 'confirmed' mails after waiting {time.monotonic() - started:.1f}s")
    time.sleep(TALLY_CACHE_SECONDS + 0.5)
    after = api_total(api_url)
    # Every client signs from 127.0.0.1: past the petition's fraud thresholds (10 an hour from one address)
    # new signatures are quietly held back and count once cleared. So the check is the tally's rule itself:
    # the API's total equals the confirmed signatures that are not held back, counted in the database.
    counting = counted_signatures(database_url or f"sqlite:///{instance / 'advocacy.sqlite3'}", args.petition)
    results["tally_check"] = {"before": before, "after": after, "confirmed": confirmed, "counting": counting,
                              "ok": after == counting}
    print(f"[tally] API total {before} -> {after} (+{after - before}), {confirmed} confirmed; "
          f"{counting} confirmed and not held back in the database: "
          f"{'ok' if after == counting else 'MISMATCH'}")

    # (4) reads with wrk
    run_wrk(page_url, args.clients, 1, args.wrk_threads)  # warm-up
    meter = CpuMeter(groups)
    with py_spy(args, app.proc.pid, "page", args.seconds):
        results["page"] = run_wrk(page_url, args.clients, args.seconds, args.wrk_threads)
    results["page"]["cpu"] = meter.result()
    print(f"[page] {results['page']['per_second']:.1f}/s p99 {results['page']['p99_ms']} ms")
    meter = CpuMeter(groups)
    with py_spy(args, app.proc.pid, "api", args.seconds):
        results["api"] = run_wrk(api_url, args.clients, args.seconds, args.wrk_threads)
    results["api"]["cpu"] = meter.result()
    print(f"[api] {results['api']['per_second']:.1f}/s p99 {results['api']['p99_ms']} ms")
    processes.stop(app)
    if worker is not None:
        processes.stop(worker)
    results["app_log_errors"] = count_log_errors(workdir / "gunicorn-app.log")
    if worker is not None:
        results["worker_log_errors"] = count_log_errors(workdir / "worker.log")

    # (5) the baseline, alone on the machine
    results["baseline"] = baseline(args, workdir, processes, env, database_url)
    results["loadavg_end"] = os.getloadavg()
    return results


def api_total(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own loopback URL)
        return int(json.load(response)["signature_count"])


def counted_signatures(database_url: str, slug: str) -> int:
    """The petition's signatures that count in its tally: confirmed and not held back (not suspect)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FROM signatures s JOIN petitions p ON p.id = s.petition_id "
                "WHERE p.slug = :slug AND s.state = 'confirmed' AND NOT s.suspect"), {"slug": slug}).scalar_one())
    finally:
        engine.dispose()


def count_log_errors(path: Path) -> dict[str, int]:
    text = path.read_text(errors="replace") if path.exists() else ""
    return {"error_lines": len(re.findall(r"\b(?:ERROR|CRITICAL)\b", text)),
            "tracebacks": text.count("Traceback (most recent call last)")}


def baseline(args: argparse.Namespace, workdir: Path, processes: Processes, env: dict[str, str],
             database_url: str | None) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH_DIR))
    from baseline_app import create_table

    url = database_url or f"sqlite:///{workdir / 'baseline.sqlite3'}"
    create_table(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    base_env = {**{k: v for k, v in env.items() if not k.startswith("ADVOCACY_")}, "BASELINE_DATABASE_URL": url}
    argv = gunicorn_argv("baseline_app:app", port, args)
    argv[1:1] = ["--pythonpath", str(BENCH_DIR)]
    server = processes.start("gunicorn (baseline)", argv, env=base_env, log_path=workdir / "gunicorn-baseline.log")
    try:
        wait_http(f"{base}/hello", server)
        run_driver(args.clients, args.warmup, insert_step(base), ("insert",))
        print(f"[baseline insert] {args.clients} clients for {args.seconds}s: POST /insert")
        meter = CpuMeter({"baseline server": server.proc.pid})
        inserts = run_driver(args.clients, args.seconds, insert_step(base), ("insert",))
        result: dict[str, Any] = {"insert": inserts.summary()}
        result["insert"]["cpu"] = meter.result()
        print(f"[baseline insert] {inserts.kinds['insert'].ok / inserts.elapsed:.1f}/s")
        run_wrk(f"{base}/hello", args.clients, 1, args.wrk_threads)
        meter = CpuMeter({"baseline server": server.proc.pid})
        result["hello"] = run_wrk(f"{base}/hello", args.clients, args.seconds, args.wrk_threads)
        result["hello"]["cpu"] = meter.result()
        print(f"[baseline hello] {result['hello']['per_second']:.1f}/s")
    finally:
        processes.stop(server)
    return result


# --- the report ---------------------------------------------------------------------------------------

def figures(results: dict[str, Any]) -> list[dict[str, Any]]:
    insert = results["baseline"]["insert"]["insert"]
    hello = results["baseline"]["hello"]
    rows = []

    def row(name: str, value: dict[str, Any], base: dict[str, Any] | None, base_name: str,
            ratio_target: float | None, latency_target: bool = True) -> None:
        ratio = value["per_second"] / base["per_second"] if base and base["per_second"] else None
        checks = []
        if ratio_target is not None:
            checks.append(ratio is not None and ratio >= ratio_target)
        if latency_target:
            checks.append(value["p99_ms"] is not None and value["p99_ms"] < TARGET_P99_MS)
        checks.append(value["errors"] == 0)
        target = []
        if ratio_target is not None:
            target.append(f">={ratio_target:.2f}x")
        if latency_target:
            target.append(f"p99<{TARGET_P99_MS:.0f}ms")
        target.append("0 err")
        rows.append({"figure": name, "per_second": round(value["per_second"], 1), "p50_ms": value["p50_ms"],
                     "p99_ms": value["p99_ms"], "errors": value["errors"], "baseline": base_name,
                     "baseline_per_second": round(base["per_second"], 1) if base else None,
                     "ratio": round(ratio, 3) if ratio is not None else None, "target": ", ".join(target),
                     "pass": all(checks)})

    row("sign POST alone", results["sign_post"]["sign_post"], insert, "bare INSERT", TARGET_SIGN_POST_RATIO)
    row("signing flow (GET page + POST)", results["sign"]["sign"], insert, "bare INSERT", TARGET_SIGN_RATIO)
    row("  petition page in sign flow (GET)", results["sign"]["page"], None, "", None)
    row("confirmations (POST)", results["confirm"]["confirm"], insert, "bare INSERT", None)
    row("  confirm page (GET)", results["confirm"]["confirm_page"], None, "", None)
    row("petition page (wrk GET)", results["page"], hello, "bare hello", TARGET_READ_RATIO)
    row("API petition (wrk GET)", results["api"], hello, "bare hello", TARGET_API_RATIO)
    row("baseline: bare INSERT (POST)", insert, None, "", None)
    row("baseline: bare hello (wrk GET)", hello, None, "", None)
    return rows


def print_table(results: dict[str, Any]) -> None:
    settings = results["settings"]
    print()
    print(f"mode {results['mode']}: gunicorn -w {settings['gunicorn_workers']} --threads {settings['threads']}, "
          f"{settings['clients']} clients, {settings['seconds']}s per phase, machine {results['machine']}")
    header = ("figure", "req/s", "p50 ms", "p99 ms", "err", "baseline", "base/s", "ratio", "target", "result")
    lines = [header]
    for r in results["figures"]:
        lines.append((r["figure"], f"{r['per_second']:.1f}", _fmt(r["p50_ms"]), _fmt(r["p99_ms"]), str(r["errors"]),
                      r["baseline"], _fmt(r["baseline_per_second"]), _fmt(r["ratio"], 2), r["target"],
                      "pass" if r["pass"] else "FAIL"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for index, line in enumerate(lines):
        print("  ".join(cell.ljust(widths[i]) if i in (0, 5, 8) else cell.rjust(widths[i])
                        for i, cell in enumerate(line)))
        if index == 0:
            print("  ".join("-" * w for w in widths))
    print("\nCPU seconds per phase (server CPU per request in brackets):")
    for name, phase, count in (
        ("sign", results["sign"], results["sign"]["sign"]["ok"]),
        ("sign POST alone", results["sign_post"], results["sign_post"]["sign_post"]["ok"]),
        ("confirm", results["confirm"], results["confirm"]["confirm"]["ok"]),
        ("page (wrk)", results["page"], results["page"].get("requests", 0)),
        ("API (wrk)", results["api"], results["api"].get("requests", 0)),
        ("baseline insert", results["baseline"]["insert"], results["baseline"]["insert"]["insert"]["ok"]),
        ("baseline hello (wrk)", results["baseline"]["hello"], results["baseline"]["hello"].get("requests", 0)),
    ):
        cpu = phase.get("cpu")
        if not cpu:
            continue
        server = cpu["cpu_seconds"].get("app server", cpu["cpu_seconds"].get("baseline server", 0.0))
        unit = "signature" if name.startswith("sign") else "request"
        per = f" [{1000 * server / count:.1f} ms per {unit}]" if count else ""
        parts = ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu["cpu_seconds"].items(), key=lambda kv: -kv[1]))
        spread = "/".join(f"{v:.1f}" for v in cpu.get("server_cpu_per_process", {}).values())
        print(f"  {name:21} {parts}{per}; all CPUs {100 * cpu['all_cpus_busy']:.0f}% busy over "
              f"{cpu['wall_seconds']:.1f}s; server processes {spread}")
    tally = results["tally_check"]
    print(f"\nmail: {results['mail']['received_links']}/{results['mail']['expected']} confirmation links, "
          f"{results['sign']['mails_received_during_phase']} arrived during the sign phase, the rest within "
          f"{results['mail']['wait_seconds']}s after it; {results['mail']['confirmed_mails']} 'confirmed' mails; "
          f"tally check {'ok' if tally['ok'] else 'MISMATCH'} "
          f"({tally['before']} -> {tally['after']}, {tally['confirmed']} confirmed)")
    print(f"log errors: app {results['app_log_errors']}"
          + (f", worker {results['worker_log_errors']}" if "worker_log_errors" in results else ""))
    print(f"load average at start {results['loadavg_start']}, at end {results['loadavg_end']}")
    print("all targets met" if all(r["pass"] for r in results["figures"]) else "some targets missed")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--mode", choices=("embedded", "postgres"), default="embedded")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients / wrk connections")
    parser.add_argument("--seconds", type=float, default=20, help="length of each measured phase")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before the sign and insert phases")
    parser.add_argument("--gunicorn-workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread when > 1)")
    parser.add_argument("--worker-connections", type=int, default=None,
                        help="gunicorn --worker-connections for gthread (default: clients / workers, rounded up, "
                             "so the load spreads over the workers; 0: gunicorn's default of 1000)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--reuse-port", action=argparse.BooleanOptionalAction, default=True,
                        help="gunicorn --reuse-port for both servers (one listening socket per worker)")
    parser.add_argument("--petition", default="free-ukrainian-civilians", help="slug of a demo petition")
    parser.add_argument("--mail-timeout", type=float, default=120, help="seconds to wait for confirmation mails")
    parser.add_argument("--fill", type=int, default=0, metavar="N",
                        help="fill the petition with N signatures (fill.py) before the run")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/",
                        help="server where the run creates (and drops) its database")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12",
                        help="broker for postgres mode; this Redis db is flushed before and after the run")
    parser.add_argument("--worker-nice", type=int, default=0, choices=range(20), metavar="N",
                        help="postgres mode: `advocacy worker --nice N` (the worker gives way to the web processes on "
                             "the CPU; default 0, the same priority)")
    parser.add_argument("--give-way", type=float, metavar="SECONDS",
                        help="embedded mode: ADVOCACY_EMBEDDED_GIVE_WAY, how long at most the in-process worker's "
                             "mail waits for a moment with no request in flight (default: the app's, 30; 0: at once)")
    parser.add_argument("--json", help="write the results as JSON to this file")
    parser.add_argument("--profile", metavar="DIR", help="record py-spy profiles of the app phases into DIR")
    parser.add_argument("--profile-wall", action="store_true",
                        help="sample every thread (waits included), not only the one holding the GIL")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, SQLite files)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: install it with `apt-get install -y wrk`", file=sys.stderr)
        return 2
    _aiohttp()
    if args.clients < 1 or args.seconds <= 0:
        print("--clients and --seconds must be positive", file=sys.stderr)
        return 2

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix=f"advocacy-bench-{args.mode}-"))
    processes = Processes()
    try:
        with contextlib.ExitStack() as stack:
            database_url = None
            if args.mode == "postgres":
                database_url = stack.enter_context(postgres_database(args.postgres_url))
                stack.callback(flush_redis, args.redis_url)
            stack.callback(processes.stop_all)  # runs before the database is dropped
            results = benchmark(args, workdir, processes, database_url)
        results["figures"] = figures(results)
        print_table(results)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
            print(f"results written to {args.json}")
        return 0 if all(r["pass"] for r in results["figures"]) else 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    finally:
        processes.stop_all()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
