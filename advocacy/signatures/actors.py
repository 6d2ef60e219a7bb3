"""Background work for signatures; actors take ids, re-check state and are safe to run twice."""

import dramatiq

from advocacy.queue import broker
from advocacy.signatures import services
from advocacy.signatures.services import SEND_EMAIL_ACTOR, EmailKind


@dramatiq.actor(actor_name=SEND_EMAIL_ACTOR, broker=broker, queue_name="mail", max_retries=12,
                min_backoff=5_000, max_backoff=30 * 60_000)
def send_signature_email(signature_id: int, kind: str) -> None:
    services.deliver_email(signature_id, EmailKind(kind))
