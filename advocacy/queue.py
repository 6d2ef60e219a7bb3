"""The dramatiq broker from settings, actor declaration and the Flask app-context middleware.

The broker is built once per process from ``Settings.broker_url`` when the first app is created: unset means
the embedded mode, a StubBroker drained by a worker running inside the web process. Features declare their
actors as :class:`ActorSpec` values and ``create_app`` binds them to the broker, so importing an actors module
never creates a broker. This module imports no feature.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, Middleware
from flask import Flask

from advocacy.logs import redacted_traceback

log = logging.getLogger(__name__)

_app: Flask | None = None
_broker: dramatiq.Broker | None = None
_broker_url: str | None = None


def bound_app() -> Flask:
    if _app is None:
        raise RuntimeError("queue.init_app(app) has not been called in this process")
    return _app


def get_broker() -> dramatiq.Broker:
    if _broker is None:
        raise RuntimeError("no broker yet: create_app() builds it from the settings")
    return _broker


@dataclass(frozen=True)
class ActorSpec:
    """An actor not yet bound to a broker: its function, its name and dramatiq's options."""

    fn: Callable[..., Any]
    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


def actor(name: str, **options: Any) -> Callable[[Callable[..., Any]], ActorSpec]:
    """Declare an actor; it runs when the outbox sends a row naming it."""

    def wrap(fn: Callable[..., Any]) -> ActorSpec:
        return ActorSpec(fn=fn, name=name, options=dict(options))

    return wrap


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


class ScrubTracebacks(Middleware):
    """No exception text in a message that goes back to the broker.

    dramatiq's Retries keeps ``traceback.format_exc()`` in the options of a message it retries, and those are
    stored in Redis or RabbitMQ; the text of an exception can quote an address or a name. Every message is
    cleaned just before it is encoded: the traceback is replaced by its frames without exception text.
    """

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy, *,
                              result: Any = None, exception: BaseException | None = None) -> None:
        # after_* hooks run in reverse order of adding, so this runs before dramatiq's Retries (added first)
        # copies the message to re-enqueue it with its traceback
        if exception is not None:
            message.options["redacted_traceback"] = redacted_traceback(exception)[-4000:]

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int | None) -> None:
        redacted = message.options.pop("redacted_traceback", None)
        if "traceback" in message.options:
            message.options["traceback"] = redacted or "[traceback removed]"


def build_broker(url: str | None, middleware: Iterable[Callable[[], Middleware]] = ()) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if not url:
        broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("redis://", "rediss://", "unix://")):
        from advocacy.redis_broker import BatchingRedisBroker

        broker = BatchingRedisBroker(url=url)
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    else:
        raise ValueError("ADVOCACY_BROKER_URL must start with redis://, rediss:// or amqp://")
    broker.add_middleware(ScrubTracebacks())
    broker.add_middleware(CurrentMessage())
    # before the features' middleware, whose hooks then run inside the message's app context: it is pushed
    # before their before_process_message and popped after their after_process_message
    broker.add_middleware(AppContextMiddleware())
    for make in middleware:
        broker.add_middleware(make())
    return broker


def init_app(app: Flask, broker_url: str | None, *, middleware: Iterable[Callable[[], Middleware]] = (),
             actors: Iterable[ActorSpec] = ()) -> None:
    """Bind this process's broker (built by the first call) to the app and declare the features' actors."""
    global _app, _broker, _broker_url
    if _broker is None:
        _broker = build_broker(broker_url, middleware)
        _broker_url = broker_url
        dramatiq.set_broker(_broker)
    elif broker_url != _broker_url:
        raise RuntimeError("one process has one broker: this app's broker URL differs from the first app's")
    _app = app
    for spec in actors:
        if spec.name not in _broker.actors:
            dramatiq.actor(broker=_broker, actor_name=spec.name, **spec.options)(spec.fn)
