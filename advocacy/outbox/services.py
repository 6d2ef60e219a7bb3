"""The transactional outbox: rows written with the change that caused them, sent to the broker after commit.

Every function here works in the caller's unit of work: it flushes, and the caller (the queue middleware,
a CLI command, the periodic job runner) commits. Rows are dispatched to the broker only after that commit.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from datetime import datetime, timedelta
from typing import Any

from dramatiq.brokers.stub import StubBroker
from flask import Flask, current_app
from sqlalchemy import (
    CTE,
    ColumnElement,
    Insert,
    String,
    and_,
    bindparam,
    delete,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.outbox.models import OutboxMessage

log = logging.getLogger(__name__)

# done rows are kept this long for operators, failed ones longer
KEEP_DONE = timedelta(days=7)
KEEP_FAILED = timedelta(days=60)
RELAY_BATCH = 500
_PENDING_KEY = "advocacy.outbox.pending"


class OutboxRowNotFound(LookupError):
    """No outbox row has this id."""


class NotRetryable(ValueError):
    """The row is done, or neither failed nor failing: there is nothing to retry."""


def enqueue(actor_name: str, *args: Any) -> OutboxMessage:
    """Add work to the current transaction; it is sent to the broker only once the transaction commits."""
    row = OutboxMessage(actor_name=actor_name, args=list(args))
    db.session.add(row)
    return row


def enqueue_row(actor_name: str, *args: Any) -> int:
    """``enqueue`` for a hot path (signing): one Core INSERT and no ORM object to flush; the row is handed to
    the broker after the caller's commit exactly like ``enqueue``'s. Returns the row's id."""
    statement = _OUTBOX_INSERTS.get("insert")
    if statement is None:
        table = OutboxMessage.__table__
        statement = _OUTBOX_INSERTS["insert"] = insert(table).returning(table.c.id)
    row_id = int(db.session.connection().execute(statement, {"actor_name": actor_name, "args": list(args),
                                                "created_at": utcnow()}).scalar_one())
    note_enqueued(row_id, actor_name, list(args))
    return row_id


_OUTBOX_INSERTS: dict[str, Any] = {}


def insert_for_each(source: CTE, actor_name: str, *args: ColumnElement[Any]) -> Insert:
    """PostgreSQL: ``INSERT … SELECT`` one outbox row per row that ``source`` returns, ``args`` being SQL
    expressions over ``source``; ``RETURNING id``.

    ``source`` is a data-modifying ``WITH`` (an ``INSERT … RETURNING``), so the change and the row of the work
    it calls for are written by one statement, atomic by itself. The row's creation time is the statement's
    ``outbox_created_at`` parameter. The caller passes each returned id to ``note_enqueued``.
    """
    table = OutboxMessage.__table__
    rows = select(literal(actor_name, String), func.json_build_array(*args),
                  bindparam("outbox_created_at", type_=table.c.created_at.type)).select_from(source)
    return insert(table).from_select(["actor_name", "args", "created_at"], rows).returning(table.c.id)


def note_enqueued(row_id: int, actor_name: str, args: list[Any]) -> None:
    """A row written by a statement of the caller's (``enqueue_row``, ``insert_for_each``) is handed to the
    broker after the session's next commit, as ``enqueue``'s are; if that commit never comes, the relay sends
    it once it is committed (a row written outside the session is, at once)."""
    db.session.info.setdefault(_PENDING_KEY, []).append((row_id, actor_name, args))


@event.listens_for(Session, "after_flush")
def _collect_new_rows(session: Session, flush_context: Any) -> None:
    new = [(obj.id, obj.actor_name, list(obj.args)) for obj in session.new if isinstance(obj, OutboxMessage)]
    if new:
        session.info.setdefault(_PENDING_KEY, []).extend(new)


_Row = tuple[int, str, list[Any]]


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: nothing is committed until the outer transaction is
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    if _broker_in_process():
        _hand_over(pending)  # nothing to wait for
    else:
        _handover.submit(current_app._get_current_object(), pending)  # type: ignore[attr-defined]


def _broker_in_process() -> bool:
    """The embedded mode's broker: a queue in this process's memory, not a server across the network."""
    from advocacy.queue import get_broker

    return isinstance(get_broker(), StubBroker)


def _hand_over(rows: list[_Row]) -> None:
    """Send committed rows to the broker; the ones it did not take are flagged for the relay."""
    failed = [outbox_id for outbox_id, actor_name, args in rows if not dispatch(outbox_id, actor_name, args)]
    if failed:
        # the rows are committed: flag them on a connection of their own
        with db.engine.begin() as conn:
            conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(failed)).values(needs_dispatch=True))


class _Handover:
    """Hands committed rows to a broker across the network (Redis, RabbitMQ) from a thread of the process, so
    that the request or job that committed them does not wait for the broker's answer: on PostgreSQL + Redis
    that answer was 28-30 % of a sign POST's time in its thread (benchmarks/README.md, issue 12).

    Nothing can be lost by it: the rows are committed before they are queued here, and a row the thread never
    hands over (the process killed first) is sent by the relay after ``OUTBOX_RESEND_AFTER`` like any row whose
    hand-over was lost. Rows leave in the order they were committed. At the process's exit the queue is
    drained (``wait``); a forked child starts its own thread on its first commit."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._done = threading.Condition(threading.Lock())
        self._queue: queue.SimpleQueue[tuple[Flask, list[_Row]]] = queue.SimpleQueue()
        self._unfinished = 0
        self._thread: threading.Thread | None = None

    def submit(self, app: Flask, rows: list[_Row]) -> None:
        with self._done:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="outbox-handover", daemon=True)
                self._thread.start()
            self._unfinished += 1
        self._queue.put((app, rows))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every row queued so far has been handed over (or flagged); False if time ran out."""
        with self._done:
            return self._done.wait_for(lambda: self._unfinished == 0, timeout)

    def _run(self) -> None:
        while True:
            app, rows = self._queue.get()
            try:
                with app.app_context():
                    _hand_over(rows)
            except Exception as exc:
                # the database refused the flag: the rows are still committed, unsent, and the relay finds
                # them once their resend time has passed
                log.warning("outbox rows %s not flagged for the relay (%s)", [row[0] for row in rows],
                            type(exc).__name__)
            finally:
                with self._done:
                    self._unfinished -= 1
                    if self._unfinished == 0:
                        self._done.notify_all()


_handover = _Handover()
atexit.register(_handover.wait, 10.0)


def handed_over(timeout: float | None = 30.0) -> bool:
    """Wait until every row this process has committed is in the broker's hands (or flagged for the relay);
    False if ``timeout`` seconds were not enough. With the embedded mode's broker that is so at every commit."""
    return _handover.wait(timeout)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    # a savepoint rolled back keeps the rows flushed before it; a row it undid is dispatched for nothing and
    # skipped by the worker, which cannot claim a row that does not exist
    if not session.in_nested_transaction():
        session.info.pop(_PENDING_KEY, None)


def dispatch(outbox_id: int, actor_name: str, args: list[Any]) -> bool:
    """Hand one row to the broker. A broker that is down costs nothing: the relay sends the row later."""
    from advocacy.queue import get_broker

    try:
        actor = get_broker().get_actor(actor_name)
        actor.send_with_options(args=tuple(args), outbox_id=outbox_id)
    except Exception as exc:
        log.warning("outbox row %s not sent to the broker (%s); the relay will retry", outbox_id,
                    type(exc).__name__)
        return False
    return True


def resend_after() -> timedelta:
    """How long a sent row may go unclaimed, or a claimed one stay unfinished, before it is sent again."""
    return timedelta(seconds=float(current_app.config["OUTBOX_RESEND_AFTER"]))


def relay_stale(*, older_than: datetime | None = None) -> int:
    """Send the rows the broker never took, and again those whose message was lost or whose worker died.

    A row is sent again when it is neither done nor failed, and either its lease has run out or it was never
    claimed and was last sent before ``older_than`` (by default ``resend_after()`` ago). Rows are sent at once
    (a message that runs before the caller commits finds the row as it was), their bookkeeping is flushed.
    """
    now = utcnow()
    cutoff = older_than or now - resend_after()
    last_sent = func.coalesce(OutboxMessage.dispatched_at, OutboxMessage.created_at)
    lost = or_(
        OutboxMessage.needs_dispatch.is_(True),
        and_(OutboxMessage.lease_until.is_(None), last_sent < cutoff),
        OutboxMessage.lease_until < now,
    )
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.actor_name, OutboxMessage.args)
        .where(OutboxMessage.done_at.is_(None), OutboxMessage.failed_at.is_(None), lost)
        .order_by(OutboxMessage.id)
        .limit(RELAY_BATCH)
    ).all()
    sent = []
    for outbox_id, actor_name, args in rows:
        if not dispatch(outbox_id, actor_name, list(args)):
            break
        sent.append(outbox_id)
    if sent:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(sent))
            .values(dispatched_at=utcnow(), dispatch_count=OutboxMessage.dispatch_count + 1, needs_dispatch=False)
            .execution_options(synchronize_session=False)
        )
        db.session.flush()
        log.info("outbox relay sent %d stale row(s) again", len(sent))
    return len(sent)


def claim(outbox_id: int, message_id: str, *, connection: Connection | None = None) -> bool:
    """Let one message run the row: a free or expired lease, or the message's own (its retries keep it).

    On the session's transaction, or on ``connection`` (the worker's: in autocommit, the one statement is its
    own transaction, with no BEGIN and COMMIT around it)."""
    now = utcnow()
    result = (connection or db.session.connection()).execute(_statement("claim"), {
        "row": outbox_id, "now": now, "owner": message_id, "new_owner": message_id,
        "until": now + resend_after(),
    })
    return result.rowcount == 1


_STATEMENTS: dict[str, Any] = {}


def _statement(name: str) -> Any:
    """The worker's per-message statements (claim, done), built once: every mail runs both."""
    statement = _STATEMENTS.get(name)
    if statement is not None:
        return statement
    table = OutboxMessage.__table__
    row = table.c.id == bindparam("row")
    if name == "claim":
        statement = (
            update(table)
            .where(row, table.c.done_at.is_(None), table.c.failed_at.is_(None),
                   or_(table.c.lease_until.is_(None), table.c.lease_until < bindparam("now"),
                       table.c.lease_owner == bindparam("owner")))
            .values(lease_owner=bindparam("new_owner"), lease_until=bindparam("until"),
                    attempts=table.c.attempts + 1)
        )
    elif name == "done":
        statement = update(table).where(row, table.c.done_at.is_(None)).values(done_at=bindparam("at"),
                                                                              lease_until=None)
    else:  # pragma: no cover
        raise KeyError(name)
    _STATEMENTS[name] = statement
    return statement


def record_attempt_failure(outbox_id: int, message_id: str, wait: timedelta, error: str, *,
                           system_error: bool = False) -> None:
    """A failed attempt that dramatiq may retry: note what failed, and keep the lease until the retry is due.

    ``error`` must not name anyone: it is shown to operators. ``system_error`` says the failure is ours
    (SMTP login, sender refused, server unreachable): mail is failing until someone fixes it.
    """
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.lease_owner == message_id,
               OutboxMessage.done_at.is_(None))
        .values(lease_until=utcnow() + wait + resend_after(), last_error=error[:1000], last_error_at=utcnow(),
                system_error=system_error)
        .execution_options(synchronize_session=False)
    )


def mark_done(outbox_id: int, *, connection: Connection | None = None) -> None:
    """The row's work is done (on the session's transaction, or on ``connection`` as for ``claim``)."""
    (connection or db.session.connection()).execute(_statement("done"), {"row": outbox_id, "at": utcnow()})


def mark_failed(outbox_id: int, error: str, *, system_error: bool | None = None) -> None:
    """The row will not be tried again by itself; ``system_error`` None keeps what the last attempt said."""
    values: dict[str, Any] = {"failed_at": utcnow(), "last_error": error[:1000], "lease_until": None}
    if system_error is not None:
        values["system_error"] = system_error
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.done_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _failing() -> Any:
    """Rows an operator should look at: failed for good, or still retrying after a failure of our own."""
    return and_(
        OutboxMessage.done_at.is_(None),
        or_(OutboxMessage.failed_at.is_not(None), OutboxMessage.system_error.is_(True)),
    )


def failures(limit: int = 100) -> list[OutboxMessage]:
    """Failed rows and rows retrying after a system-level error, the most recent failure first."""
    last = func.coalesce(OutboxMessage.failed_at, OutboxMessage.last_error_at, OutboxMessage.created_at)
    return list(
        db.session.scalars(select(OutboxMessage).where(_failing()).order_by(last.desc(), OutboxMessage.id.desc())
                           .limit(limit))
    )


def mail_failing() -> bool:
    """True while a row not done last failed with a system-level error (a failed one that was not retried too)."""
    return db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.done_at.is_(None), OutboxMessage.system_error.is_(True))
        .limit(1)
    ) is not None


def retry(outbox_id: int | None = None, *, flag_for_relay: bool = False) -> int:
    """Send failed rows again (one, or all of them with ``outbox_id`` None), once their cause is fixed.

    Rows still waiting for a retry after a system-level error are sent at once too. Each goes to the broker
    as a new message after the caller commits, so dramatiq starts again with its full retries; a message of
    the old series that still arrives finds the row leased or done and is skipped. ``flag_for_relay`` also
    leaves the rows to the relay of whichever process runs it: for a command beside an embedded-mode site,
    whose in-memory broker is not the command's (a second message is harmless: it finds the row done or leased).
    """
    condition = _failing()
    if outbox_id is not None:
        if db.session.get(OutboxMessage, outbox_id) is None:
            raise OutboxRowNotFound(outbox_id)
        condition = and_(condition, OutboxMessage.id == outbox_id)
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.actor_name, OutboxMessage.args).where(condition)
        .order_by(OutboxMessage.id)
    ).all()
    if not rows:
        if outbox_id is not None:
            raise NotRetryable(outbox_id)
        return 0
    ids = [row_id for row_id, _, _ in rows]
    values: dict[str, Any] = {"failed_at": None, "system_error": False, "lease_owner": None, "lease_until": None,
                              "needs_dispatch": flag_for_relay, "dispatched_at": utcnow(),
                              "dispatch_count": OutboxMessage.dispatch_count + 1}
    for start in range(0, len(ids), RELAY_BATCH):
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids[start:start + RELAY_BATCH])).values(**values)
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    # dispatched after the caller's commit, like new rows; a broker that is down flags them for the relay
    db.session.info.setdefault(_PENDING_KEY, []).extend(
        (row_id, actor_name, list(args)) for row_id, actor_name, args in rows
    )
    return len(rows)


def purge_finished(now: datetime | None = None) -> int:
    now = now or utcnow()
    result = db.session.execute(
        delete(OutboxMessage).where(
            or_(OutboxMessage.done_at < now - KEEP_DONE, OutboxMessage.failed_at < now - KEEP_FAILED)
        )
    )
    db.session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


def extend_lease(outbox_id: int, message_id: str) -> bool:
    """A long job keeps its row: push the lease of the message that holds it ``resend_after()`` further.

    Written on a connection of its own and committed at once, so the job's own transaction (and the snapshot
    it reads from) is untouched. False if the message no longer holds the row.
    """
    with db.engine.begin() as connection:
        result = connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.lease_owner == message_id,
                   OutboxMessage.done_at.is_(None), OutboxMessage.failed_at.is_(None))
            .values(lease_until=utcnow() + resend_after())
        )
    return result.rowcount == 1
