"""A real deployment in miniature: gunicorn, `advocacy worker`, a private redis-server, PostgreSQL, SMTP.

Every process is real, so the tests can stop the broker, refuse mail or kill a worker mid-job and watch what
users would see. The Redis here is our own (on a free port), so stopping it disturbs nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_BASE = os.environ.get("ADVOCACY_TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PETITION = "free-ukrainian-civilians"
# the stack's ADVOCACY_OUTBOX_RESEND_AFTER: a row unclaimed, or leased, this long is the relay's to send again
RESEND_AFTER = 4
# the stack's ADVOCACY_RELAY_EVERY: the relay is due at every scheduler tick (5 s), not every 15 s
RELAY_EVERY = 1
RABBITMQ = ("127.0.0.1", 5672)



@pytest.fixture(autouse=True)
def _clean_tables() -> None:
    """These tests run against their own database, not the session app's."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class Sink:
    """An SMTP server that accepts a message only once it has answered 250 to DATA.

    ``delay`` holds the answer; a client that dies meanwhile cancels the handler, so nothing is recorded,
    as with a real mail server that never acknowledged the message.
    """

    def __init__(self) -> None:
        self.accepted: list[bytes] = []
        self.delay = 0.0
        self.data_started = threading.Event()
        # set when a client went away while DATA waited for its answer: that message was never accepted
        self.data_abandoned = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_started.set()
        if self.delay:
            try:
                await asyncio.sleep(self.delay)
            except asyncio.CancelledError:
                self.data_abandoned.set()
                raise
        self.accepted.append(envelope.content)
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.sink = Sink()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@dataclass
class Process:
    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@dataclass
class Stack:
    tmp: Path
    env: dict[str, str]
    web_url: str
    db: Engine
    redis: Process
    web: Process
    smtp: SmtpServer
    workers: list[Process] = field(default_factory=list)

    def start_worker(self) -> Process:
        worker = Process([str(BIN / "advocacy"), "worker", "--processes", "1", "--threads", "2"], self.env,
                         self.tmp / f"worker-{len(self.workers)}.log")
        worker.start()
        self.workers.append(worker)
        return worker

    def start_redis(self) -> None:
        self.redis.start()
        port = int(self.redis.args[self.redis.args.index("--port") + 1])
        wait_for(lambda: _port_open(port), 20, "redis-server")

    def logs(self) -> str:
        logs = sorted(self.tmp.glob("*.log"))
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in logs)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.db.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def db_now(self, plus: float = 0) -> datetime:
        """The database's clock (the one the worker's relay compares with), ``plus`` seconds on."""
        return self.scalar("SELECT clock_timestamp() + make_interval(secs => :plus)", plus=plus)

    def wait_for_relay_run(self, after: datetime, timeout: float = 60) -> None:
        """Until a worker's periodic relay has started a run later than ``after`` and finished it without error.

        What the relay would send again in that run (rows unclaimed or leased for longer than the resend window
        before ``after``), it has sent by the time this returns: the relay flushes its bookkeeping with the run.
        """
        def ran() -> bool:
            with self.db.connect() as conn:
                row = conn.execute(text(
                    "SELECT last_started_at > :after AND last_finished_at >= last_started_at, last_result "
                    "FROM periodic_jobs WHERE name = 'relay-outbox'"), {"after": after}).one_or_none()
            if row is None or not row[0]:
                return False
            assert str(row[1]).startswith("ok"), f"the relay run failed: {row[1]}"
            return True

        wait_for(ran, timeout, f"a relay run started after {after:%H:%M:%S.%f}")

    # --- a person with a browser -------------------------------------------------------------------
    def browser(self) -> Browser:
        return Browser(self.web_url)


class Browser:
    """Cookies kept, forms posted as a browser does (urllib follows the 303 with a GET)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        try:
            request = urllib.request.Request(self.base + path, data=body)  # noqa: S310 (our loopback server)
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def sign(self, email: str, country: str = "UA") -> tuple[int, str]:
        status, page = self.get(f"/p/{PETITION}")
        assert status == 200
        token = TOKEN_RE.search(page)
        assert token
        return self.post(f"/p/{PETITION}", {"full_name": "Iryna Test", "email": email, "country": country,
                                            "csrf_token": token.group(1)})

    def confirm_page(self, link: str) -> str:
        status, page = self.get(link.removeprefix(self.base))
        assert status == 200, page
        token = TOKEN_RE.search(page)
        assert token
        return token.group(1)


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def confirm_link(raw: bytes) -> str:
    import email
    import email.policy

    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(r"https?://\S+/confirm/\S+", str(body.get_content()))  # type: ignore[union-attr]
    assert match
    return match.group(0)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    redis_server = shutil.which("redis-server")
    assert redis_server, "redis-server is needed for the resilience tests (Debian package redis-server)"
    broker_kind = getattr(request, "param", "redis")
    if broker_kind == "amqp" and not _port_open(RABBITMQ[1], RABBITMQ[0]):
        pytest.fail(f"RabbitMQ is not reachable at {RABBITMQ[0]}:{RABBITMQ[1]}: this test needs a running RabbitMQ "
                    "with the default guest account (Debian package rabbitmq-server; "
                    "start it with: service rabbitmq-server start)", pytrace=False)
    db_name = f"advocacy_resilience_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    db_url = make_url(PG_BASE).set(database=db_name).render_as_string(hide_password=False)
    redis_port, web_port, smtp_port = free_port(), free_port(), free_port()
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVOCACY_")}
    env.update({
        "ADVOCACY_INSTANCE_PATH": str(tmp_path / "instance"),
        "ADVOCACY_DATABASE_URL": db_url,
        "ADVOCACY_BROKER_URL": (f"redis://127.0.0.1:{redis_port}/0" if broker_kind == "redis"
                                else "amqp://guest:guest@127.0.0.1:5672/%2F"),
        "ADVOCACY_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=10",
        "ADVOCACY_BASE_URL": f"http://127.0.0.1:{web_port}",
        "ADVOCACY_SECRET_KEY": "resilience-secret-" + base64.urlsafe_b64encode(os.urandom(24)).decode(),
        "ADVOCACY_DATA_KEYS": f"r1:{key}",
        "ADVOCACY_BLIND_INDEX_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "ADVOCACY_PACKET_SIGNING_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "ADVOCACY_OUTBOX_RESEND_AFTER": str(RESEND_AFTER),
        "ADVOCACY_RELAY_EVERY": str(RELAY_EVERY),
        "ADVOCACY_RATE_LIMITS": "off",
    })
    for command in (["db", "upgrade"], ["demo"]):
        done = subprocess.run([str(BIN / "advocacy"), *command], cwd=ROOT, env=env, capture_output=True,
                              timeout=120)
        if done.returncode:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()
            pytest.fail(f"advocacy {' '.join(command)} failed:\n{(done.stdout + done.stderr).decode()}", pytrace=False)
    redis = Process([redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no"], env, tmp_path / "redis.log")
    web = Process([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{web_port}", "--graceful-timeout", "5",
                   "wsgi:app"], env, tmp_path / "web.log")
    engine = create_engine(db_url)
    smtp = SmtpServer(smtp_port)
    result = Stack(tmp_path, env, f"http://127.0.0.1:{web_port}", engine, redis, web, smtp)
    try:
        result.start_redis()
        web.start()
        wait_for(lambda: _port_open(web_port), 60, "gunicorn")
        yield result
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            sys.stderr.write(result.logs())
        for worker in result.workers:
            worker.stop()
        web.stop()
        redis.stop()
        smtp.stop()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()
