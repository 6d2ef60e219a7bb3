"""The transactional outbox: rows written with the change that caused them, sent to the broker after commit."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, func, or_, select, update
from sqlalchemy.orm import Session

from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.outbox.models import OutboxMessage

log = logging.getLogger(__name__)

# a dispatched row not done after this long is sent again (its message was lost or its worker died);
# longer than a job's first retries take, shorter than anyone waits for a confirmation email
STALE_AFTER = timedelta(minutes=5)
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
    from advocacy.queue import broker

    try:
        actor = broker.get_actor(actor_name)
        actor.send_with_options(args=tuple(args), outbox_id=outbox_id)
    except Exception as exc:
        log.warning("outbox row %s not sent to the broker (%s); the relay will retry", outbox_id,
                    type(exc).__name__)
        return False
    return True


def relay_stale(*, older_than: datetime | None = None) -> int:
    """Send the rows the broker never took, and again those neither done nor failed since ``older_than``."""
    cutoff = older_than or utcnow() - STALE_AFTER
    last_sent = func.coalesce(OutboxMessage.dispatched_at, OutboxMessage.created_at)
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.actor_name, OutboxMessage.args)
        .where(OutboxMessage.done_at.is_(None), OutboxMessage.failed_at.is_(None),
               or_(OutboxMessage.needs_dispatch.is_(True), last_sent < cutoff))
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


def is_finished(outbox_id: int) -> bool:
    row = db.session.get(OutboxMessage, outbox_id)
    return row is None or row.done_at is not None or row.failed_at is not None


def mark_done(outbox_id: int) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.done_at.is_(None))
        .values(done_at=utcnow())
    )
    db.session.commit()


def mark_failed(outbox_id: int, error: str) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.done_at.is_(None))
        .values(failed_at=utcnow(), last_error=error)
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
