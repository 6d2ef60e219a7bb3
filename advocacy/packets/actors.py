"""The worker's side of packets: building one (its outbox lease kept alive while it works), delivering it, and
telling the organisers when a delivery failed for good."""

from __future__ import annotations

from dramatiq.middleware import CurrentMessage

from advocacy.extensions import db
from advocacy.mail import PermanentDeliveryError
from advocacy.outbox import services as outbox
from advocacy.packets import delivery, services
from advocacy.queue import actor

DELIVERY_RETRIES = 8  # with backoff from 1 minute to 2 hours: about half a day of tries


# A million signatures take a minute or two; the time limit leaves room for a slow database. The lease is
# extended after every batch, so the relay never hands a build in progress to a second worker.
@actor(services.BUILD_ACTOR, queue_name="packets", max_retries=5, min_backoff=30_000, max_backoff=3_600_000,
       time_limit=3_600_000)
def build_packet(packet_id: int) -> None:
    message = CurrentMessage.get_current_message()
    outbox_id = message.options.get("outbox_id") if message else None

    def keep_alive() -> None:
        if message is not None and outbox_id is not None:
            outbox.extend_lease(outbox_id, message.message_id)

    if services.build_stored(packet_id, keep_alive=keep_alive):
        delivery.packet_built(packet_id)
    db.session.commit()


# a failed attempt raises DeliveryFailed, so dramatiq retries with backoff; the last attempt returns instead
@actor(delivery.DELIVER_ACTOR, queue_name="packets", max_retries=DELIVERY_RETRIES, min_backoff=60_000,
       max_backoff=2 * 3600_000)
def deliver(delivery_id: int) -> None:
    message = CurrentMessage.get_current_message()
    retries = int(message.options.get("retries", 0)) if message else DELIVERY_RETRIES
    try:
        delivery.attempt(delivery_id, final=retries >= DELIVERY_RETRIES)
    except delivery.DeliveryFailed:
        db.session.commit()  # the attempt is recorded; dramatiq tries again after its backoff
        raise
    db.session.commit()


@actor(delivery.ALERT_ACTOR, queue_name="mail", max_retries=14, min_backoff=5_000, max_backoff=2 * 3600_000,
       throws=(PermanentDeliveryError,))
def alert_organisers(delivery_id: int) -> None:
    delivery.alert_organisers(delivery_id)
    db.session.commit()
