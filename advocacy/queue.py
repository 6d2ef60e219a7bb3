"""The dramatiq broker from settings, the Flask app-context middleware and the outbox acknowledgement.

The broker is chosen once per process from ``ADVOCACY_BROKER_URL`` before any actor is declared: unset means
the embedded mode, a StubBroker drained by a worker running inside the web process.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, Middleware, SkipMessage
from flask import Flask

from advocacy.logs import redacted_traceback

log = logging.getLogger(__name__)

_app: Flask | None = None


def bound_app() -> Flask:
    if _app is None:
        raise RuntimeError("queue.init_app(app) has not been called in this process")
    return _app


class AppContextMiddleware(Middleware):
    """Runs every actor inside the Flask application context and cleans the session up after it."""

    def __init__(self) -> None:
        self._local = threading.local()

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        ctx = bound_app().app_context()
        ctx.push()
        self._local.ctx = ctx

    def _pop(self) -> None:
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            return
        from advocacy.extensions import db

        try:
            db.session.remove()
        finally:
            ctx.pop()
            self._local.ctx = None

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        self._pop()

    def after_skip_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        self._pop()


class OutboxMiddleware(Middleware):
    """Ties broker messages to their outbox rows.

    A message runs only if it can claim its row (not done, not failed, and no other live message holds it), so
    a row sent twice (by the relay after a lost message, or by the broker redelivering) still runs once at a
    time and never again once done. Success marks the row done; a failed attempt is recorded on the row (what
    failed, when, whether the failure is our own) and keeps the claim until the retry is due; the final failure
    leaves a failure record an operator can see. Each step is one transaction, committed here.
    """

    @property
    def actor_options(self) -> set[str]:
        return {"outbox_id"}

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        outbox_id = message.options.get("outbox_id")
        if outbox_id is None:
            return
        from advocacy.extensions import db
        from advocacy.outbox import services as outbox

        with bound_app().app_context():
            claimed = outbox.claim(outbox_id, message.message_id)
            db.session.commit()
            if not claimed:
                raise SkipMessage()

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        if exception is not None:
            # dramatiq's Retries runs after this and stores a traceback in the message it re-enqueues: the one
            # ScrubTracebacks puts there instead has the frames and no exception text
            message.options["redacted_traceback"] = redacted_traceback(exception)[-4000:]
        outbox_id = message.options.get("outbox_id")
        if outbox_id is None:
            return
        from advocacy.extensions import db
        from advocacy.outbox import services as outbox

        with bound_app().app_context():
            if exception is None:
                outbox.mark_done(outbox_id)
                db.session.commit()
                return
            # only the kind of error: exception texts from libraries can hold personal data
            error = f"{type(exception).__name__}: {_safe_text(exception)}"
            system_error = bool(getattr(exception, "system_level", False))
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
        from advocacy.extensions import db
        from advocacy.outbox import services as outbox

        error = message.options.get("outbox_error") or "failed"
        retries = message.options.get("retries", 0)
        with bound_app().app_context():
            outbox.mark_failed(outbox_id, f"{error} (after {retries} retries)")
            db.session.commit()


class ScrubTracebacks(Middleware):
    """No exception text in a message that goes back to the broker.

    dramatiq's Retries keeps ``traceback.format_exc()`` in the options of a message it retries, and those are
    stored in Redis or RabbitMQ; the text of an exception can quote an address or a name. Every message is
    cleaned just before it is encoded: the traceback is replaced by its frames without exception text.
    """

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int | None) -> None:
        redacted = message.options.pop("redacted_traceback", None)
        if "traceback" in message.options:
            message.options["traceback"] = redacted or "[traceback removed]"


def _safe_text(exception: BaseException) -> str:
    from advocacy.mail import DeliveryError

    # our delivery errors are written never to name a recipient; for anything else keep the type alone
    return str(exception)[:300] if isinstance(exception, DeliveryError) else "see the worker log"


def build_broker(url: str | None) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if not url:
        broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url)
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    else:
        raise ValueError("ADVOCACY_BROKER_URL must start with redis://, rediss:// or amqp://")
    broker.add_middleware(ScrubTracebacks())
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(OutboxMiddleware())
    broker.add_middleware(AppContextMiddleware())
    return broker


broker = build_broker(os.environ.get("ADVOCACY_BROKER_URL"))
dramatiq.set_broker(broker)


def init_app(app: Flask) -> None:
    global _app
    _app = app
    # importing the actors declares them on the broker
    import advocacy.signatures.actors  # noqa: F401


class EmbeddedWorker:
    """The worker of the embedded mode, inside the web process: drains the stub broker, ticks the scheduler."""

    def __init__(self, app: Flask, *, threads: int = 2) -> None:
        from advocacy.periodic.services import Scheduler

        self.app = app
        self.worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
        self.scheduler = Scheduler(app)

    def start(self) -> None:
        from advocacy.dbtypes import utcnow
        from advocacy.extensions import db
        from advocacy.outbox import services as outbox

        self.worker.start()
        # the stub broker lives in memory: whatever a previous process left undone is sent again now
        with self.app.app_context():
            try:
                outbox.relay_stale(older_than=utcnow())
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("could not re-send the outbox at start-up")
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.worker.stop(timeout=5000)
