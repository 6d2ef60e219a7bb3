"""The SQLite writers of one process take turns on the process's lock (advocacy.sqlite_writers): a second
writer waits for the first transaction and goes on as soon as it ends, and every way a transaction ends
gives the turn back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from advocacy import apply_sqlite_pragmas, engine_options, sqlite_writers

NOTES = sa.table("notes", sa.column("body", sa.String))


class WatchedLock:
    """The process's writer lock, telling the test when a thread starts waiting for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting = threading.Event()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self.lock.acquire(blocking=False):
            return True
        self.waiting.set()
        return self.lock.acquire(blocking, timeout)

    def release(self) -> None:
        self.lock.release()

    def locked(self) -> bool:
        return self.lock.locked()


@pytest.fixture
def database(tmp_path) -> str:
    return str(tmp_path / "writers.sqlite3")


@pytest.fixture
def lock(database: str) -> WatchedLock:
    turn = sqlite_writers.turn_of(database)
    assert turn is not None
    turn.lock = WatchedLock()
    return turn.lock


@pytest.fixture
def engine(database: str, lock: WatchedLock) -> Iterator[sa.Engine]:
    url = f"sqlite:///{database}"
    options = engine_options(url)
    options["connect_args"]["timeout"] = 5  # a turn never given back fails the test in seconds, not 30
    made = sa.create_engine(url, **options)
    apply_sqlite_pragmas(made)
    with made.begin() as conn:
        conn.execute(sa.text("CREATE TABLE notes (body TEXT NOT NULL UNIQUE)"))
    yield made
    made.dispose()


def bodies(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(NOTES.c.body)).scalars())


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def write(engine: sa.Engine, body: str) -> Callable[[], None]:
    def work() -> None:
        with engine.begin() as conn:
            conn.execute(NOTES.insert().values(body=body))

    return work


def test_a_second_writer_waits_for_the_first_transaction_and_goes_on_when_it_commits(engine, lock):
    with engine.connect() as first:
        first.begin()
        first.execute(NOTES.insert().values(body="first"))
        second, errors = in_thread(write(engine, "second"))
        assert lock.waiting.wait(10), "the second writer never asked for the turn"
        assert second.is_alive()
        assert bodies(engine) == []  # readers go on meanwhile (WAL) and see nothing uncommitted
        first.commit()
        second.join(10)
    assert not second.is_alive()
    assert errors == []
    assert bodies(engine) == ["first", "second"]


@pytest.mark.parametrize("end", ["rollback", "close", "failed statement then rollback"])
def test_every_end_of_a_write_transaction_gives_the_turn_back(engine, lock, end):
    conn = engine.connect()
    conn.begin()
    conn.execute(NOTES.insert().values(body="kept or not"))
    if end == "rollback":
        conn.rollback()
    elif end == "close":
        conn.close()
    else:
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(NOTES.insert().values(body="kept or not"))
        conn.rollback()
    assert not lock.locked()
    other, errors = in_thread(write(engine, "after"))
    other.join(10)
    assert errors == []
    assert bodies(engine) == ["after"]
    conn.close()


def test_an_autocommit_write_gives_the_turn_back_at_once(engine, lock):
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(NOTES.insert().values(body="autocommitted"))
        assert not lock.locked()
        other, errors = in_thread(write(engine, "after"))
        other.join(10)
    assert errors == []
    assert bodies(engine) == ["after", "autocommitted"]


def test_a_thread_writing_through_two_connections_is_left_to_sqlite(engine, lock):
    """The lock adds no wait of its own: a thread holding the turn and writing through a second connection
    gets SQLite's answer (busy, after SQLite's own timeout), not a wait on itself."""
    with engine.connect() as first, engine.connect() as second:
        second.exec_driver_sql("PRAGMA busy_timeout = 200")  # the app's 30 s, shortened for the test
        second.rollback()  # the PRAGMA began SQLAlchemy's transaction; nothing was written
        first.begin()
        first.execute(NOTES.insert().values(body="first"))
        second.begin()
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            second.execute(NOTES.insert().values(body="second"))
        assert not lock.waiting.is_set()
        second.rollback()
        first.commit()
    assert bodies(engine) == ["first"]


def test_writers_of_another_database_file_do_not_wait(engine, lock, tmp_path):
    other_url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    other = sa.create_engine(other_url, **engine_options(other_url))
    apply_sqlite_pragmas(other)
    with other.begin() as conn:
        conn.execute(sa.text("CREATE TABLE notes (body TEXT NOT NULL UNIQUE)"))
    with engine.connect() as first:
        first.begin()
        first.execute(NOTES.insert().values(body="first"))
        elsewhere, errors = in_thread(write(other, "elsewhere"))
        elsewhere.join(10)
        assert not elsewhere.is_alive()
        first.commit()
    assert errors == []
    assert not lock.waiting.is_set()
    assert bodies(other) == ["elsewhere"]
    other.dispose()
