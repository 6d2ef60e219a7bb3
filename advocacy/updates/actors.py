"""Sending updates: one batch per update per minute, each recipient claimed and committed before the send."""

from __future__ import annotations

import logging

from flask import current_app

from advocacy.config import Settings
from advocacy.crypto import SealBroken
from advocacy.extensions import db
from advocacy.mail import DeliveryError, PermanentDeliveryError
from advocacy.queue import actor
from advocacy.updates import services
from advocacy.updates.services import SEND_BATCH_ACTOR

log = logging.getLogger(__name__)


def _per_minute() -> int:
    settings: Settings = current_app.extensions["advocacy.settings"]
    return max(int(current_app.config.get("UPDATES_PER_MINUTE") or settings.updates_per_minute), 1)


@actor(SEND_BATCH_ACTOR, queue_name="updates", max_retries=3, min_backoff=60_000, max_backoff=600_000)
def send_batch(update_id: int) -> None:
    """Send the next batch of an update. Safe to run any number of times, at once or after a crash: a batch
    starts at most once a minute per update, and each recipient is claimed (committed) before its mail goes,
    so a restart never sends anybody a second copy (at most once: a crash right after a claim loses that mail).
    The periodic job queues the next batch while recipients are left."""
    size = services.open_batch(update_id, _per_minute())
    db.session.commit()
    if not size:
        return
    for signature_id, locale in services.next_recipients(update_id, size):
        delivery_id = services.claim(update_id, signature_id, locale)
        db.session.commit()  # the claim is durable before anything is sent
        if delivery_id is None:
            continue
        try:
            services.deliver(delivery_id)
        except (PermanentDeliveryError, SealBroken):
            db.session.rollback()
            services.mark_failed(delivery_id, "refused")
        except DeliveryError as exc:
            # the server may or may not have taken it: at most once means it is not tried again; the rest of
            # the batch waits for the next minute, when the server may be back
            db.session.rollback()
            services.mark_failed(delivery_id, "error")
            db.session.commit()
            log.error("update %s: mail is failing (%s); the next batch tries again in a minute", update_id,
                      type(exc).__name__)
            return
        db.session.commit()
    services.finish_if_done(update_id)
    db.session.commit()
