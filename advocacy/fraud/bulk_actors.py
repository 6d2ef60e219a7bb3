"""The worker's side of bulk actions: one job per action, its outbox lease extended after every batch."""

from __future__ import annotations

from dramatiq.middleware import CurrentMessage

from advocacy.extensions import db
from advocacy.fraud import bulk
from advocacy.outbox import services as outbox
from advocacy.queue import actor


# 100,000 signatures take well under a minute on PostgreSQL (see benchmarks/README.md); the time limit leaves
# room for a slow database and for millions. ``run`` commits per batch; the lease is extended after each.
@actor(bulk.RUN_ACTOR, queue_name="fraud", max_retries=5, min_backoff=30_000, max_backoff=3_600_000,
       time_limit=3_600_000)
def run_bulk_action(bulk_id: int) -> None:
    message = CurrentMessage.get_current_message()
    outbox_id = message.options.get("outbox_id") if message else None

    def keep_alive() -> None:
        if message is not None and outbox_id is not None:
            outbox.extend_lease(outbox_id, message.message_id)

    try:
        bulk.run(bulk_id, keep_alive=keep_alive)
    except Exception:
        db.session.rollback()
        bulk.mark_failed(bulk_id)
        db.session.commit()
        raise
    db.session.commit()
