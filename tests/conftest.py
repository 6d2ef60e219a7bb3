"""Test set-up: one app per session on a real database, every test starting from empty tables.

SQLite in a temporary folder by default; PostgreSQL when ADVOCACY_TEST_DATABASE_URL is set. The broker is
whatever ADVOCACY_BROKER_URL says (the stub broker when unset, Redis or RabbitMQ otherwise), drained by a
real dramatiq worker.
"""

from __future__ import annotations

import base64
import email
import email.policy
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from advocacy import cache, create_app, queue
from advocacy.audit import models as audit_models
from advocacy.config import Settings
from advocacy.extensions import db, limiter
from advocacy.outbox import services as outbox
from advocacy.queue import get_broker

TEST_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
BASE_URL = "https://petitions.test"


def settings_for_tests(instance: Path, database_url: str | None = None) -> Settings:
    return Settings(
        instance_path=instance,
        database_url=database_url or f"sqlite:///{instance / 'test.sqlite3'}",
        broker_url=os.environ.get("ADVOCACY_BROKER_URL") or None,
        smtp_url=None,
        base_url=BASE_URL,
        secret_key="test-secret-key",
        data_keys={"t1": b"k" * 32},
        blind_index_key=b"b" * 32,
        packet_signing_key=b"p" * 32,
        # the Flask test client asks for Host: localhost; the base URL's host is petitions.test
        extra_hosts=("localhost",),
    )


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    settings = settings_for_tests(instance, os.environ.get("ADVOCACY_TEST_DATABASE_URL"))
    app = create_app({"TESTING": True, "TALLY_CACHE_SECONDS": 0, "PAGE_CACHE_SECONDS": 0}, settings=settings)
    # limits are set up, then switched off: tests sign many times from one address; one test turns them on
    limiter.enabled = False
    with app.app_context():
        db.drop_all()
        _drop_alembic_version()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    base = os.environ.get("ADVOCACY_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    name = f"advocacy_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def statements_of_this_thread(engine: Any) -> Iterator[list[str]]:
    """The SQL statements this thread sends to ``engine`` inside the block (not those of the test session's
    in-process worker, which sends the queued mails on threads of its own)."""
    statements: list[str] = []
    thread = threading.get_ident()

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if threading.get_ident() == thread:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def wait_for(check: Any, timeout: float = 60.0) -> Any:
    """Poll ``check`` until it returns something true, and return that; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


@pytest.fixture
def rebind_worker_app(app: Flask) -> Iterator[None]:
    """For tests that create a second app: it binds the worker to itself and switches the shared limiter back
    on; give both back to the session's app afterwards."""
    yield
    queue.init_app(app, app.config["BROKER_URL"])
    limiter.enabled = False


def _drop_alembic_version() -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


_running_worker: list[dramatiq.Worker] = []


@pytest.fixture(autouse=True)
def _clean_tables(app: Flask) -> None:
    """Empty every table before each test; the mail folder too.

    Jobs a previous test queued but did not wait for are dropped, and the worker finishes what it holds,
    so none of them runs against this test's rows.
    """
    broker = get_broker()
    for _ in range(2):  # a job finishing during the first pass may have queued another
        assert outbox.handed_over(), "outbox rows of an earlier test still waiting for the broker"
        broker.flush_all()
        for worker in _running_worker:
            worker.join()
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(t.name for t in db.metadata.sorted_tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                # the audit log refuses DELETE (a trigger): lift it while the tables are emptied, then put back
                # the same triggers the migration creates
                for statement in audit_models.drop_statements("sqlite"):
                    conn.execute(text(statement))
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
                for statement in audit_models.append_only_statements("sqlite"):
                    conn.execute(text(statement))
    cache.clear_all()
    for path in app.config["MAIL_DIR"].glob("*.eml"):
        path.unlink()
    return


@pytest.fixture(autouse=True)
def _one_person_per_request(app: Flask) -> Iterator[None]:
    """Tests often keep an app context open (``ctx``) while test clients make requests: those requests then
    share its ``g``, where Flask-Login keeps the account, the console its principal and Flask-WTF the CSRF
    token. Forget them when each request starts, so two clients logged in as two people are two people (in
    production every request has an app context of its own)."""

    def forget(sender: Any, **extra: Any) -> None:
        for name in ("_login_user", "principal", "csrf_token"):
            g.pop(name, None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def _worker(app: Flask) -> Iterator[dramatiq.Worker]:
    worker = dramatiq.Worker(get_broker(), worker_threads=2, worker_timeout=50)
    worker.start()
    _running_worker.append(worker)
    yield worker
    _running_worker.remove(worker)
    worker.stop()


@pytest.fixture
def drain(_worker: dramatiq.Worker) -> Callable[[], None]:
    """Wait until every queued job, and every job those jobs queued, has run."""

    broker = get_broker()

    def run() -> None:
        for _ in range(5):
            # committed rows reach a network broker from a thread of their own (advocacy.outbox.services)
            assert outbox.handed_over(), "outbox rows still waiting for the broker"
            for queue_name in sorted(broker.get_declared_queues()):
                if isinstance(broker, StubBroker):
                    # a job that fails is a test's subject, not an error of the drain
                    broker.join(queue_name, timeout=30_000, fail_fast=False)
                else:
                    broker.join(queue_name, timeout=30_000)
            _worker.join()
            if outbox.handed_over(0) and all(broker_queue_empty(q) for q in broker.get_declared_queues()):
                return

    return run


def broker_queue_empty(queue: str) -> bool:
    queues = getattr(get_broker(), "queues", None)
    if isinstance(queues, dict):  # the stub broker
        return all(q.empty() for name, q in queues.items() if name.startswith(queue))
    return True


@dataclass
class SentMail:
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[union-attr]

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())  # type: ignore[union-attr]

    def link(self, path_fragment: str) -> str:
        links = re.findall(r"https?://[^\s\"<>]+", self.text)
        matches = [url for url in links if path_fragment in url]
        assert matches, f"no link with {path_fragment!r} in the email"
        return matches[0]


def parse_mail(raw: bytes) -> SentMail:
    return SentMail(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]


@pytest.fixture
def mailbox(app: Flask) -> Callable[[], list[SentMail]]:
    """The .eml files the embedded mode wrote, oldest first."""

    def read() -> list[SentMail]:
        files = sorted(app.config["MAIL_DIR"].glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        return [parse_mail(p.read_bytes()) for p in files]

    return read


def published_campaign_and_target() -> tuple[Any, Any]:
    """The People First campaign and the Bundestag as a target, created and published once."""
    from advocacy.accounts.roles import SYSTEM
    from advocacy.petitions import services

    campaign = services.find_campaign("people-first") or services.create_campaign(
        "people-first", name={"en": "People First", "uk": "Люди передусім"}, description={"en": "Free them all"},
        languages=["en", "uk", "ru"], actor=SYSTEM)
    target = services.find_target("bundestag") or services.create_target(
        "bundestag", name={"en": "German Bundestag", "uk": "Бундестаг Німеччини"}, country="DE", languages=["de"],
        actor=SYSTEM)
    return services.publish_campaign(campaign.id, actor=SYSTEM), services.publish_target(target.id, actor=SYSTEM)


@pytest.fixture
def make_petition(ctx: None) -> Callable[..., Any]:
    """A factory: a petition with one target, in a campaign, published (or as ``status`` says), committed."""
    from advocacy.accounts.roles import SYSTEM
    from advocacy.petitions import services
    from advocacy.petitions.models import PetitionStatus

    counter = {"n": 0}

    def create(**overrides: Any) -> Any:
        counter["n"] += 1
        n = counter["n"]
        campaign, target = published_campaign_and_target()
        status = overrides.pop("status", PetitionStatus.OPEN)
        closes_at = overrides.pop("closes_at", None)
        values: dict[str, Any] = {
            "campaign_id": campaign.id,
            "title": {"en": f"Free them all {n}", "uk": f"Звільніть усіх {n}", "ru": f"Освободите всех {n}"},
            "summary": {"en": "Release every captive."},
            "body": {"en": "First paragraph.\n\nSecond paragraph.", "uk": "Перший абзац."},
            "target_ids": [target.id],
            "goal": 100,
            "country_goals": {"UA": 50},
        }
        slug = overrides.pop("slug", f"petition-{n}")
        try:  # asked for by slug again: the one made before
            return services.get_petition(slug, include_drafts=True)
        except services.PetitionNotFound:
            pass
        values.update(overrides)
        petition = services.create_petition(slug, actor=SYSTEM, **values)
        if status != PetitionStatus.DRAFT:
            services.publish_petition(petition.id, actor=SYSTEM)
        if closes_at is not None:  # a date already passed closes the petition by date
            services.update_petition(petition.id, actor=SYSTEM, version=petition.version, closes_at=closes_at)
        if status == PetitionStatus.CLOSED:
            services.close_petition(petition.id, actor=SYSTEM)
        db.session.commit()
        return petition

    return create


@pytest.fixture
def login_as(app: Flask) -> Callable[..., Any]:
    """Log a test client into the console as a new enrolled account with the given roles.

    ``login_as(client, admin=True)``, ``login_as(client, organiser_of=[campaign_id])``,
    ``login_as(client, liaison_of=[target_id])``; returns the account's id. The session is the one a login
    with both factors starts (the login itself is tested in tests/accounts).
    """
    from advocacy.accounts import services as accounts
    from advocacy.accounts.models import User
    from advocacy.accounts.roles import Role
    from advocacy.dbtypes import utcnow

    counter = {"n": 0}

    def login(client: FlaskClient, *, admin: bool = False, organiser_of: tuple[int, ...] | list[int] = (),
              liaison_of: tuple[int, ...] | list[int] = (), email: str | None = None) -> int:
        counter["n"] += 1
        address = email or f"person{counter['n']}-{uuid.uuid4().hex[:6]}@coalition.test"
        with app.app_context():
            user = User(email=address, email_index=accounts.email_index(address), enrolled_at=utcnow())
            db.session.add(user)
            db.session.flush()
            if admin:
                accounts.add_grant(user, Role.ADMIN)
            for campaign_id in organiser_of:
                accounts.add_grant(user, Role.ORGANISER, campaign_id=campaign_id)
            for target_id in liaison_of:
                accounts.add_grant(user, Role.LIAISON, target_id=target_id)
            db.session.commit()
            user_id, session_id = user.id, user.get_id()
            db.session.remove()
        now = time.time()
        with client.session_transaction("/console/") as session:
            session.clear()
            session.update({"_user_id": session_id, "_fresh": True, "sid": uuid.uuid4().hex,
                            "started_at": now, "seen_at": now})
        return user_id

    return login
