"""Pooled PostgreSQL connections are pinged only after sitting idle, and one the server dropped while idle is
replaced without the caller seeing an error (advocacy.pool_ping). PostgreSQL runs on every machine the tests
run on (as for the resilience tests), so these run in the embedded pass too."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from advocacy import configure_engine, engine_options, pool_ping
from advocacy.pool_ping import ping_after_idle

PG_URL = os.environ.get("ADVOCACY_TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
if not PG_URL.startswith("postgresql"):  # pragma: no cover - the suite's PostgreSQL pass sets a PostgreSQL URL
    PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def make_engine() -> Iterator[Callable[[float | None], sa.Engine]]:
    """Engines with the app's options and a pool of one connection, disposed after the test: with
    ``ping_after_idle(idle_seconds)``, or with ``None`` as the app sets itself up (``configure_engine``)."""
    made: list[sa.Engine] = []

    def make(idle_seconds: float | None) -> sa.Engine:
        options = engine_options(PG_URL)
        assert "pool_pre_ping" not in options
        engine = sa.create_engine(PG_URL, **{**options, "pool_size": 1, "max_overflow": 0})
        if idle_seconds is None:
            configure_engine(engine)
        else:
            ping_after_idle(engine, idle_seconds=idle_seconds)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The pings the dialect sends (each a round trip to the server)."""
    sent: list[Any] = []
    dialect_class = sa.create_engine(PG_URL).dialect.__class__
    real = dialect_class.do_ping

    def counting(self: Any, dbapi_connection: Any) -> bool:
        sent.append(dbapi_connection)
        return bool(real(self, dbapi_connection))

    monkeypatch.setattr(dialect_class, "do_ping", counting)
    return sent


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        # wait until the server has really let it go
        for _ in range(1000):
            gone = conn.execute(sa.text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"),
                                {"pid": pid}).scalar_one()
            if gone:
                break
        assert gone
    admin.dispose()


@pytest.mark.parametrize(("window", "expected_pings"), [(3600, 0), (0, 2)])
def test_the_app_engine_pings_only_idle_connections(monkeypatch: pytest.MonkeyPatch, pings: list[Any], window: float,
                                                    expected_pings: int, make_engine: Any) -> None:
    """The app's engine (its options, then configure_engine) has no pre-ping, only the idle check."""
    monkeypatch.setattr(pool_ping, "IDLE_BEFORE_PING", window)
    engine = make_engine(None)
    first = _backend_pid(engine)
    assert _backend_pid(engine) == _backend_pid(engine) == first
    assert len(pings) == expected_pings


def test_a_connection_used_again_at_once_is_not_pinged(pings: list[Any], make_engine: Any) -> None:
    engine = make_engine(3600)
    first = _backend_pid(engine)
    for _ in range(5):
        assert _backend_pid(engine) == first  # the same pooled connection, taken again
    assert pings == []


def test_an_idle_connection_is_pinged_once_per_checkout(pings: list[Any], make_engine: Any) -> None:
    engine = make_engine(0)
    first = _backend_pid(engine)  # newly opened: no ping
    assert pings == []
    assert _backend_pid(engine) == first
    assert _backend_pid(engine) == first
    assert len(pings) == 2


def test_a_connection_the_server_dropped_while_idle_is_replaced_unseen(pings: list[Any], make_engine: Any) -> None:
    engine = make_engine(0)
    first = _backend_pid(engine)
    _terminate(first)  # a server restart or an idle timeout while the connection sat in the pool
    second = _backend_pid(engine)  # no error: the ping found it gone and the pool connected afresh
    assert second != first
    assert len(pings) == 1


def test_without_the_idle_ping_the_dropped_connection_fails_the_statement(pings: list[Any], make_engine: Any) -> None:
    """What the window trades: a connection dropped within it is found by the statement that uses it, which
    fails once; the pool is then invalidated and the next checkout connects afresh."""
    engine = make_engine(3600)
    first = _backend_pid(engine)
    _terminate(first)
    with pytest.raises(sa.exc.OperationalError) as failed:
        _backend_pid(engine)
    assert failed.value.connection_invalidated
    assert _backend_pid(engine) != first
    assert pings == []
