"""Background work for signatures; actors take ids, re-check state and are safe to run twice."""

import logging

from dramatiq.middleware import CurrentMessage

from advocacy.crypto import SealBroken
from advocacy.extensions import db
from advocacy.mail import PermanentDeliveryError, SystemDeliveryError
from advocacy.queue import actor
from advocacy.signatures import services
from advocacy.signatures.services import SEND_EMAIL_ACTOR, EmailKind

log = logging.getLogger(__name__)


# Transient failures (4xx, and our own: SMTP login refused, sender refused, server unreachable) are retried
# with exponential backoff for about a day; a refused recipient (550 to 553) fails at once and leaves a failure
# record on the outbox row.
@actor(SEND_EMAIL_ACTOR, queue_name="mail", max_retries=14, min_backoff=5_000, max_backoff=2 * 3600_000,
       throws=(PermanentDeliveryError,))
def send_signature_email(signature_id: int, kind: str) -> None:
    message = CurrentMessage.get_current_message()
    outbox_id = message.options.get("outbox_id") if message else None
    key = f"outbox-{outbox_id}" if outbox_id is not None else None
    try:
        services.deliver_email(signature_id, EmailKind(kind), message_key=key)
    except SealBroken:
        # logged where it was found (table, column, row); retrying cannot repair it, so nothing is sent
        db.session.rollback()
        return
    except SystemDeliveryError as exc:
        # every email fails alike until someone fixes the settings or the server: say so loudly
        log.error("mail is failing: %s (outbox row %s is retried; see `advocacy outbox failures`)", exc, outbox_id)
        raise
    if db.session().in_transaction():  # a mail only reads, on the message's connection (outside the session)
        db.session.commit()
