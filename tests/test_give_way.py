"""The embedded worker gives way to the web process's requests: its messages wait for a moment with no request
in flight, at most ``ADVOCACY_EMBEDDED_GIVE_WAY`` seconds after they were sent, and never past the worker's stop.

Each test runs a broker and worker of its own, so the suite's shared worker is not touched."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from advocacy.config import ConfigError, load_settings
from advocacy.outbox.middleware import OutboxMiddleware
from advocacy.queue import AppContextMiddleware, get_broker
from advocacy.worker import EmbeddedWorker, GiveWay, RequestsInFlight
from tests.conftest import wait_for


class WatchedRequests(RequestsInFlight):
    """Tells the test when a message has begun to wait."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait_until_idle(self, deadline: float) -> None:
        self.waiting.set()
        super().wait_until_idle(deadline)


class HeldRequest:
    """A request that the wrapped WSGI app answers only when the test lets it go."""

    def __init__(self, requests: RequestsInFlight) -> None:
        self.answered = threading.Event()
        self._go = threading.Event()
        self._requests = requests

        def slow_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            self._go.wait(60)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]

        app = requests.wrap(slow_app)
        self._thread = threading.Thread(target=lambda: (app({}, lambda *a: None), self.answered.set()), daemon=True)

    def __enter__(self) -> HeldRequest:
        self._thread.start()
        wait_for(lambda: len(self._requests) == 1)
        return self

    def finish(self) -> None:
        self._go.set()
        self.answered.wait(10)

    def __exit__(self, *exc: object) -> None:
        self.finish()


@pytest.fixture
def running() -> Iterator[Callable[[float], tuple[WatchedRequests, dramatiq.Actor[Any, Any], list[float],
                                                    dramatiq.Worker]]]:
    workers: list[dramatiq.Worker] = []

    def start(max_lag: float) -> tuple[WatchedRequests, dramatiq.Actor[Any, Any], list[float], dramatiq.Worker]:
        broker = StubBroker()
        broker.emit_after("process_boot")
        requests = WatchedRequests()
        broker.add_middleware(GiveWay(requests, max_lag))
        ran: list[float] = []
        actor = dramatiq.actor(broker=broker, actor_name="give_way_probe", max_retries=0)(
            lambda: ran.append(time.time()))
        worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=20)
        worker.start()
        workers.append(worker)
        return requests, actor, ran, worker

    yield start
    for worker in workers:
        worker.stop()


def test_a_message_waits_while_a_request_is_answered_and_runs_as_soon_as_it_is(running):
    requests, actor, ran, _ = running(60.0)
    with HeldRequest(requests) as request:
        actor.send()
        wait_for(requests.waiting.is_set)
        answered_at = time.time()
        request.finish()
        assert len(requests) == 0
        # woken by the quiet moment, not by the 60 s bound
        wait_for(lambda: ran, timeout=10)
    assert len(ran) == 1
    assert ran[0] >= answered_at  # it waited for the request


def test_with_no_request_in_flight_a_message_runs_at_once(running):
    _, actor, ran, _ = running(60.0)
    actor.send()
    wait_for(lambda: ran, timeout=10)


def test_under_a_load_that_never_lets_up_a_message_runs_once_it_is_max_lag_old(running):
    requests, actor, ran, _ = running(0.5)
    with HeldRequest(requests) as request:
        message = actor.send()
        wait_for(lambda: ran, timeout=10)
        assert not request.answered.is_set()  # the request was still in flight when the message ran
        assert ran[0] >= message.message_timestamp / 1000 + 0.5


def test_a_stopping_worker_no_longer_waits(running):
    requests, actor, ran, worker = running(60.0)
    with HeldRequest(requests) as request:
        actor.send()
        wait_for(requests.waiting.is_set)
        worker.stop(timeout=10_000)
        # released by the stop, not by the request (still in flight) or the 60 s bound
        assert len(ran) == 1
        assert not request.answered.is_set()
        requests.waiting.clear()
        requests.wait_until_idle(time.time() + 60)  # and later waits return at once too


def test_a_failing_request_is_no_longer_counted():
    requests = RequestsInFlight()

    def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise RuntimeError("the view failed")

    with pytest.raises(RuntimeError):
        requests.wrap(broken)({}, lambda *a: None)
    assert len(requests) == 0


def test_the_setting_is_read_and_checked(tmp_path):
    assert load_settings({}, instance_path=tmp_path).embedded_give_way == 30.0
    assert load_settings({"ADVOCACY_EMBEDDED_GIVE_WAY": "0"}, instance_path=tmp_path).embedded_give_way == 0.0
    with pytest.raises(ConfigError, match="ADVOCACY_EMBEDDED_GIVE_WAY"):
        load_settings({"ADVOCACY_EMBEDDED_GIVE_WAY": "-1"}, instance_path=tmp_path)
    with pytest.raises(ConfigError, match="ADVOCACY_EMBEDDED_GIVE_WAY"):
        load_settings({"ADVOCACY_EMBEDDED_GIVE_WAY": "soon"}, instance_path=tmp_path)


@pytest.fixture
def restored_broker(app):
    broker = get_broker()
    middleware, wsgi_app, lag = list(broker.middleware), app.wsgi_app, app.config["EMBEDDED_GIVE_WAY"]
    yield broker
    broker.middleware[:] = middleware
    app.wsgi_app = wsgi_app
    app.config["EMBEDDED_GIVE_WAY"] = lag


def test_the_embedded_worker_waits_before_the_message_claims_its_outbox_row(app, restored_broker):
    app.config["EMBEDDED_GIVE_WAY"] = 30.0
    EmbeddedWorker(app)  # not started: only how it is set up
    kinds = [type(m) for m in restored_broker.middleware]
    assert kinds.index(GiveWay) < kinds.index(AppContextMiddleware) < kinds.index(OutboxMiddleware)
    give_way = next(m for m in restored_broker.middleware if isinstance(m, GiveWay))
    assert give_way.max_lag == 30.0
    seen = []
    app.before_request_funcs.setdefault(None, []).append(lambda: seen.append(len(give_way.requests)))
    try:
        assert app.test_client().get("/healthz").status_code in {200, 503}
    finally:
        app.before_request_funcs[None].pop()
    assert seen == [1]  # the app's requests are the ones counted
    assert len(give_way.requests) == 0


def test_with_give_way_0_the_embedded_worker_sends_at_once(app, restored_broker):
    app.config["EMBEDDED_GIVE_WAY"] = 0.0
    wsgi_app = app.wsgi_app
    EmbeddedWorker(app)
    assert not any(isinstance(m, GiveWay) for m in restored_broker.middleware)
    assert app.wsgi_app is wsgi_app
