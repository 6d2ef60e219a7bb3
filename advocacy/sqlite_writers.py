"""SQLite writers of one process take turns on a lock of the process instead of on SQLite's busy handler.

SQLite lets one transaction write at a time. A connection that finds the database locked waits in SQLite's
busy handler, which sleeps 1, 2, 5, 10, 25, 50 and then 100 ms between tries, however soon the lock is
freed. Under a burst of signatures the request threads and the embedded worker of one process kept
finding each other's write transactions and slept, which added idle time and tail latency (the sign POST's
p99 at 32 clients). Here a connection takes the process's writer lock before its first write and gives it
back as soon as its transaction ends (commit, rollback, close, or an autocommit statement that finished),
so the next writer of the process starts at once. Writers of other processes still meet in SQLite. Each
database file has its own turn; an in-memory database needs none.

A thread that already holds the lock through one connection and writes through another is not stopped:
SQLite decides between the two as before (the lock adds no wait that SQLite would not have had).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

# what makes pysqlite open a write transaction, or writes at once in autocommit mode
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


class Turn:
    """The writers' turn on one database file in this process."""

    def __init__(self) -> None:
        self.lock: Any = threading.Lock()
        self.owner: int | None = None  # the thread whose connection holds the lock


_turns: dict[str, Turn] = {}
_turns_guard = threading.Lock()


def turn_of(database: str) -> Turn | None:
    """The turn of a database file (by its absolute path); None for an in-memory database, which no other
    connection shares."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = os.path.abspath(database)
    with _turns_guard:
        turn = _turns.get(path)
        if turn is None:
            turn = _turns[path] = Turn()
        return turn


def _starts_write(statement: str) -> bool:
    return statement.lstrip()[:16].upper().startswith(_WRITES)


class WriterConnection(sqlite3.Connection):
    """A pysqlite connection (``sqlite3.connect(factory=WriterConnection)``) whose writes take turns with
    the other connections of the process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._holds = False
        database = kwargs.get("database", args[0] if args else "")
        self._turn = turn_of(os.fsdecode(database))
        # as long as SQLite's own busy timeout (sqlite3.connect's ``timeout``, 5 s unless given)
        self._wait = float(kwargs.get("timeout", args[1] if len(args) > 1 else 5.0))

    def _before(self, statement: str) -> None:
        turn = self._turn
        if turn is None or self._holds or not _starts_write(statement):
            return
        me = threading.get_ident()
        if turn.owner == me:
            return  # this thread writes through another connection too: SQLite decides, as before
        if not turn.lock.acquire(timeout=self._wait):
            raise sqlite3.OperationalError("database is locked")
        turn.owner = me
        self._holds = True

    def _after(self) -> None:
        if self._holds and not self.in_transaction:
            self._release()

    def _release(self) -> None:
        if self._holds and self._turn is not None:
            self._holds = False
            self._turn.owner = None
            self._turn.lock.release()

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or WriterCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        cursor = self.cursor()
        return cursor.execute(sql, parameters)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._after()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._after()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()


class WriterCursor(sqlite3.Cursor):
    def _in_turn(self, run: Callable[[str, Any], Any], sql: str, parameters: Any) -> WriterCursor:
        connection: WriterConnection = self.connection  # type: ignore[assignment]
        connection._before(sql)
        try:
            run(sql, parameters)
        finally:
            connection._after()
        return self

    def execute(self, sql: str, parameters: Any = (), /) -> WriterCursor:
        return self._in_turn(super().execute, sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> WriterCursor:
        return self._in_turn(super().executemany, sql, seq_of_parameters)
