"""The worker's side of packets: building one, with its outbox lease kept alive while it works."""

from __future__ import annotations

from dramatiq.middleware import CurrentMessage

from advocacy.extensions import db
from advocacy.outbox import services as outbox
from advocacy.packets import services
from advocacy.queue import actor


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

    services.build_stored(packet_id, keep_alive=keep_alive)
    db.session.commit()
