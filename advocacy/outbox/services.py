"""The transactional outbox: rows written with the change that caused them, sent to the broker after commit."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, delete, event, func, or_, select, update
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


def enqueue(actor_name: str, *args: Any) -> OutboxMessage:
    """Add work to the current transaction; it is sent to the broker only once the transaction commits."""
    row = OutboxMessage(actor_name=actor_name, args=list(args))
    db.session.add(row)
    return row


@event.listens_for(Session, "after_flush")
def _collect_new_rows(session: Session, flush_context: Any) -> None:
    new = [(obj.id, obj.actor_name, list(obj.args)) for obj in session.new if isinstance(obj, OutboxMessage)]
    if new:
        session.info.setdefault(_PENDING_KEY, []).extend(new)


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    failed = [outbox_id for outbox_id, actor_name, args in pending or () if not dispatch(outbox_id, actor_name, args)]
    if failed:
        # the session has committed: flag the rows on a connection of their own
        with db.engine.begin() as conn:
            conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(failed)).values(needs_dispatch=True))


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
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
    claimed and was last sent before ``older_than`` (by default ``resend_after()`` ago).
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
    sent = 0
    for outbox_id, actor_name, args in rows:
        if not dispatch(outbox_id, actor_name, list(args)):
            break
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id)
            .values(dispatched_at=utcnow(), dispatch_count=OutboxMessage.dispatch_count + 1, needs_dispatch=False)
        )
        db.session.commit()
        sent += 1
    if sent:
        log.info("outbox relay sent %d stale row(s) again", sent)
    return sent


def claim(outbox_id: int, message_id: str) -> bool:
    """Let one message run the row: a free or expired lease, or the message's own (its retries keep it)."""
    now = utcnow()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id, OutboxMessage.done_at.is_(None), OutboxMessage.failed_at.is_(None),
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now,
                OutboxMessage.lease_owner == message_id),
        )
        .values(lease_owner=message_id, lease_until=now + resend_after(), attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def hold_for_retry(outbox_id: int, message_id: str, wait: timedelta) -> None:
    """A failed attempt that dramatiq will retry: keep the lease until the retry is due, and a bit."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.lease_owner == message_id,
               OutboxMessage.done_at.is_(None))
        .values(lease_until=utcnow() + wait + resend_after())
    )
    db.session.commit()


def mark_done(outbox_id: int) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.done_at.is_(None))
        .values(done_at=utcnow(), lease_until=None)
    )
    db.session.commit()


def mark_failed(outbox_id: int, error: str) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.done_at.is_(None))
        .values(failed_at=utcnow(), last_error=error, lease_until=None)
    )
    db.session.commit()


def failures(limit: int = 100) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.failed_at.is_not(None))
            .order_by(OutboxMessage.failed_at.desc()).limit(limit)
        )
    )


def purge_finished(now: datetime | None = None) -> int:
    now = now or utcnow()
    result = db.session.execute(
        delete(OutboxMessage).where(
            or_(OutboxMessage.done_at < now - KEEP_DONE, OutboxMessage.failed_at < now - KEEP_FAILED)
        )
    )
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
