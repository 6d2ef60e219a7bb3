"""Nothing lost when the broker is away; nothing sent twice when it comes back."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from advocacy import cache
from advocacy.dbtypes import utcnow
from advocacy.extensions import autocommit_connection, db, reading_connection
from advocacy.outbox import services as outbox
from advocacy.outbox.models import OutboxMessage
from advocacy.queue import get_broker
from advocacy.signatures.models import Signature, SignatureState
from tests.signatures.test_views import sign


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(get_broker(), "enqueue", refuse)
    return monkeypatch


def test_signing_works_while_the_broker_is_down_and_mail_follows_once(app, client, make_petition, drain, mailbox,
                                                                      broker_down):
    petition = make_petition()
    response = sign(client, petition.slug)
    assert response.status_code == 303
    drain()
    assert mailbox() == []
    with app.app_context():
        row = db.session.scalar(select(OutboxMessage))
        assert row.done_at is None
        assert db.session.scalar(select(Signature.state)) == SignatureState.PENDING
        # still down: the relay tries, fails quietly and keeps the row
        assert outbox.relay_stale(older_than=utcnow() + timedelta(seconds=1)) == 0

    assert outbox.handed_over()  # the refused hand-over is over before the broker comes back
    broker_down.undo()
    with app.app_context():
        assert outbox.relay_stale(older_than=utcnow() + timedelta(seconds=1)) == 1
        db.session.commit()
    drain()
    assert len(mailbox()) == 1
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.done_at)) is not None
        # a second relay pass finds nothing to do: the email is not sent again
        assert outbox.relay_stale(older_than=utcnow() + timedelta(seconds=1)) == 0
    drain()
    assert len(mailbox()) == 1


def test_a_message_delivered_twice_runs_once(app, client, make_petition, drain, mailbox):
    petition = make_petition()
    sign(client, petition.slug)
    drain()
    assert len(mailbox()) == 1
    with app.app_context():
        row = db.session.scalar(select(OutboxMessage))
        # the broker redelivers the same message (at-least-once): the done row is skipped
        outbox.dispatch(row.id, row.actor_name, row.args)
    drain()
    assert len(mailbox()) == 1


def test_rows_hold_ids_not_personal_data(app, client, make_petition):
    petition = make_petition()
    sign(client, petition.slug, email="private.person@example.org")
    with app.app_context():
        row = db.session.scalar(select(OutboxMessage))
        assert row.actor_name == "send_signature_email"
        assert all(isinstance(arg, int | str) for arg in row.args)
        assert "private" not in repr(row.args)


def test_rows_wait_for_the_outer_commit_not_a_savepoint(ctx, monkeypatch):
    """A service that survives a race inside a savepoint must not send work its caller may still roll back."""
    sent: list[int] = []
    monkeypatch.setattr(outbox, "dispatch", lambda outbox_id, actor_name, args: sent.append(outbox_id) or True)
    with db.session.begin_nested():
        first = outbox.enqueue("send_signature_email", 1, "confirm")
    db.session.flush()
    assert outbox.handed_over()
    assert sent == []  # the savepoint was released, nothing is committed yet
    db.session.commit()
    assert outbox.handed_over()
    assert sent == [first.id]
    sent.clear()
    kept = outbox.enqueue("send_signature_email", 2, "confirm")
    db.session.flush()
    try:
        with db.session.begin_nested():
            outbox.enqueue("send_signature_email", 3, "confirm")
            raise RuntimeError("the race was lost")
    except RuntimeError:
        pass
    db.session.commit()
    assert outbox.handed_over()
    # the row flushed before the savepoint still goes out once its transaction commits
    assert kept.id in sent


@pytest.fixture
def network_broker(monkeypatch):
    """The hand-over of a broker across the network (Redis, RabbitMQ), whichever broker the tests run with."""
    monkeypatch.setattr(outbox, "_broker_in_process", lambda: False)


def test_a_commit_does_not_wait_for_the_broker_and_rows_leave_in_commit_order(ctx, monkeypatch, network_broker):
    broker_answers = threading.Event()
    sent: list[tuple[int, str]] = []

    def slow_broker(outbox_id, actor_name, args):
        assert broker_answers.wait(30)
        sent.append((outbox_id, threading.current_thread().name))
        return True

    monkeypatch.setattr(outbox, "dispatch", slow_broker)
    try:
        first = outbox.enqueue("send_signature_email", 1, "confirm")
        db.session.commit()
        second = outbox.enqueue("send_signature_email", 2, "confirm")
        db.session.commit()
        # both commits are over while the broker has not answered the first hand-over
        assert not outbox.handed_over(0)
        assert sent == []
    finally:
        broker_answers.set()
    assert outbox.handed_over()
    assert sent == [(first.id, "outbox-handover"), (second.id, "outbox-handover")]


def test_a_row_the_broker_refuses_after_the_commit_is_flagged_for_the_relay(ctx, monkeypatch, network_broker):
    monkeypatch.setattr(get_broker(), "enqueue", lambda *args, **kwargs: (_ for _ in ()).throw(ConnectionError()))
    refused = outbox.enqueue("send_signature_email", 1, "confirm")
    db.session.commit()
    assert outbox.handed_over()
    db.session.expire_all()
    row = db.session.get(OutboxMessage, refused.id)
    assert row.needs_dispatch is True
    assert row.done_at is None
    monkeypatch.undo()
    assert outbox.relay_stale() == 1  # flagged rows go again at the relay's next run, whatever their age


def test_a_message_claims_reads_and_marks_its_row_done_on_one_checkout_of_the_pool(app, client, make_petition,
                                                                                   drain, mailbox, monkeypatch):
    """The worker's bookkeeping around a mail (claim the row, read the signature, mark the row done) borrows one
    connection from the pool for the message, not one per statement."""
    # the petition's mail facts come from their cache, as in a burst (the first mail reads them)
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 60)
    petition = make_petition()
    assert sign(client, petition.slug, email="first@example.org").status_code == 303
    drain()
    engine = db.engine
    test_thread = threading.get_ident()
    checkouts: Counter[int] = Counter()
    statements: defaultdict[int, list[str]] = defaultdict(list)

    def on_checkout(*args):
        if threading.get_ident() != test_thread:
            checkouts[threading.get_ident()] += 1

    def on_statement(conn, cursor, statement, *rest):
        if threading.get_ident() != test_thread:
            statements[threading.get_ident()].append(" ".join(statement.split()).lower())

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        assert sign(client, petition.slug, email="second@example.org").status_code == 303
        drain()
    finally:
        event.remove(engine, "checkout", on_checkout)
        event.remove(engine, "before_cursor_execute", on_statement)
        cache.clear_all()
    assert len(mailbox()) == 2
    (worker_thread,) = [thread for thread, sent in statements.items() if any("outbox" in s for s in sent)]
    claim, read, done = statements[worker_thread]
    assert claim.startswith("update outbox set lease_owner=")
    assert read.startswith("select signatures.id")
    assert "from signatures where" in read
    assert done.startswith("update outbox set lease_until=")
    assert "done_at=" in done
    assert checkouts[worker_thread] == 1


def test_a_thread_holds_one_connection_when_the_session_takes_its_own(ctx):
    """The app context's autocommit connection goes back to the pool when the session takes a connection, so a
    thread (a request, a message) holds one at a time and the pool's size is its threads'."""
    engine = db.engine
    held: set[int] = set()

    def on_checkout(dbapi_connection, record, proxy):
        held.add(id(record))

    def on_checkin(dbapi_connection, record):
        held.discard(id(record))

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    try:
        with autocommit_connection() as connection:
            connection.execute(select(1))
        with reading_connection() as connection:  # outside any transaction: the same connection, kept
            connection.execute(select(1))
        assert len(held) == 1
        db.session.execute(select(OutboxMessage.id).limit(1))
        assert len(held) == 1  # the session's, the autocommit one went back
        db.session.commit()
        with autocommit_connection() as connection:
            connection.execute(select(1))
        assert len(held) == 1
        # a block that raises gives it back, unless an outer block still uses it
        def fail_in_a_block(expected=None):
            with autocommit_connection() as connection:
                assert expected is None or connection is expected
                raise RuntimeError("the block failed")

        with autocommit_connection() as outer:
            with pytest.raises(RuntimeError):
                fail_in_a_block(outer)
            assert outer.execute(select(1)).scalar() == 1
        with pytest.raises(RuntimeError):
            fail_in_a_block()
        assert held == set()
    finally:
        event.remove(engine, "checkout", on_checkout)
        event.remove(engine, "checkin", on_checkin)
