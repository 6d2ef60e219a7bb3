"""The dramatiq middleware that ties broker messages to their outbox rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware, SkipMessage

from advocacy.extensions import autocommit_connection, db
from advocacy.mail import DeliveryError, SystemDeliveryError
from advocacy.outbox import services as outbox
from advocacy.queue import bound_app


class OutboxMiddleware(Middleware):
    """Ties broker messages to their outbox rows.

    A message runs only if it can claim its row (not done, not failed, and no other live message holds it), so
    a row sent twice (by the relay after a lost message, or by the broker redelivering) still runs once at a
    time and never again once done. Success marks the row done; a failed attempt is recorded on the row (what
    failed, when, whether the failure is our own) and keeps the claim until the retry is due; the final failure
    leaves a failure record an operator can see. Each step is one transaction, committed here, in the message's
    app context (``AppContextMiddleware`` is added before this one); ``after_nack`` comes after that context is
    gone and pushes its own.
    """

    @property
    def actor_options(self) -> set[str]:
        return {"outbox_id"}

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        outbox_id = message.options.get("outbox_id")
        if outbox_id is None:
            return
        # in the message's app context (AppContextMiddleware), whose autocommit connection the actor's reads
        # and the done mark use too: one checkout for the message
        with autocommit_connection() as connection:
            claimed = outbox.claim(outbox_id, message.message_id, connection=connection)
        if not claimed:
            raise SkipMessage()

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        outbox_id = message.options.get("outbox_id")
        if outbox_id is None:
            return
        if exception is None:
            with autocommit_connection() as connection:
                outbox.mark_done(outbox_id, connection=connection)
            return
        db.session.rollback()  # whatever the failed actor left in the session
        # only the kind of error: exception texts from libraries can hold personal data
        error = f"{type(exception).__name__}: {_safe_text(exception)}"
        system_error = isinstance(exception, SystemDeliveryError)
        message.options["outbox_error"] = error
        max_backoff = broker.get_actor(message.actor_name).options.get("max_backoff", 3_600_000)
        outbox.record_attempt_failure(outbox_id, message.message_id, timedelta(milliseconds=max_backoff),
                                      error, system_error=system_error)
        db.session.commit()

    def after_nack(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        """A nacked message has used up its retries: keep a failure record an operator can see."""
        outbox_id = message.options.get("outbox_id")
        if outbox_id is None:
            return
        error = message.options.get("outbox_error") or "failed"
        retries = message.options.get("retries", 0)
        with bound_app().app_context():
            outbox.mark_failed(outbox_id, f"{error} (after {retries} retries)")
            db.session.commit()


def _safe_text(exception: BaseException) -> str:
    # our delivery errors are written never to name a recipient; for anything else keep the type alone
    return str(exception)[:300] if isinstance(exception, DeliveryError) else "see the worker log"
