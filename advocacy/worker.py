"""Worker processes: dramatiq threads draining the broker and a scheduler ticking the periodic jobs.

``advocacy worker`` runs one or more of them beside the web processes; in the embedded mode
:class:`EmbeddedWorker` runs inside the web process and drains the in-memory stub broker.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware
from flask import Flask

from advocacy import queue
from advocacy.extensions import db
from advocacy.periodic.services import Scheduler

log = logging.getLogger(__name__)


def _on_embedded_start(app: Flask) -> None:
    with app.app_context():
        for hook in app.extensions["advocacy.embedded_start_hooks"]:
            try:
                hook()
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("worker start-up step %s failed", getattr(hook, "__name__", hook))


class RequestsInFlight:
    """How many requests this process is answering, for a worker inside it that gives way to them."""

    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition()
        self._released = False

    def wrap(self, wsgi_app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        """The WSGI app counted while it answers (the body the server writes afterwards is not counted)."""

        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            with self._changed:
                self._count += 1
            try:
                return wsgi_app(environ, start_response)
            finally:
                with self._changed:
                    self._count -= 1
                    if not self._count:
                        self._changed.notify_all()

        return counted

    def __len__(self) -> int:
        return self._count

    def wait_until_idle(self, deadline: float) -> None:
        """Return when no request is in flight, at ``deadline`` (``time.time()``), or once released."""
        with self._changed:
            self._changed.wait_for(lambda: not self._count or self._released, deadline - time.time())

    def release(self) -> None:
        """No more waiting, now or later (the worker is stopping)."""
        with self._changed:
            self._released = True
            self._changed.notify_all()


class GiveWay(Middleware):
    """The embedded worker's messages wait until the process answers no request, at most ``max_lag`` seconds
    after they were sent.

    In the embedded mode the worker threads share the web process's CPU and interpreter lock with its request
    threads, and on a small server a signature's confirmation mail costs as much CPU as the signature itself.
    During a burst the signers are answered first and the mail follows as soon as the process has a quiet
    moment, or once it is ``max_lag`` seconds old: under a load that never lets up, the mail stops waiting at
    that age and is sent as fast as the worker can beside the requests, as it is without giving way. This is
    the embedded counterpart of ``advocacy worker --nice``. The wait comes before the message's app context
    and its outbox claim, so a waiting message holds no row and no connection.
    """

    def __init__(self, requests: RequestsInFlight, max_lag: float) -> None:
        self.requests = requests
        self.max_lag = max_lag

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        self.requests.wait_until_idle(message.message_timestamp / 1000 + self.max_lag)

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.requests.release()


class EmbeddedWorker:
    """The worker of the embedded mode, inside the web process: drains the stub broker, ticks the scheduler,
    and gives way to the process's requests (:class:`GiveWay`, ``ADVOCACY_EMBEDDED_GIVE_WAY`` seconds at
    most; 0 sends at once)."""

    def __init__(self, app: Flask, *, threads: int = 2) -> None:
        self.app = app
        broker = queue.get_broker()
        max_lag = float(app.config["EMBEDDED_GIVE_WAY"])
        if max_lag > 0:
            requests = RequestsInFlight()
            app.wsgi_app = requests.wrap(app.wsgi_app)  # type: ignore[method-assign]
            broker.add_middleware(GiveWay(requests, max_lag), before=queue.AppContextMiddleware)
        self.worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=threads)
        self.scheduler = Scheduler(app)

    def start(self) -> None:
        self.worker.start()
        # the stub broker lives in memory: whatever a previous process left undone is sent again now
        _on_embedded_start(self.app)
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.worker.stop(timeout=5000)


def lower_cpu_priority(step: int) -> None:
    """Lower this process's CPU priority by ``step`` (its nice value, inherited by the processes it starts).

    Linux first shares the CPU between sessions (autogroups) and only then by nice value within each one, so a
    worker that leads a session of its own (started by a service manager or apart from the web processes)
    also lowers its session's autogroup: otherwise it would keep the share of a whole session, as much as all
    the web processes together, whatever its nice value. Under systemd with the CPU controller each service is
    a cgroup: there ``CPUWeight=`` in the worker's unit does this (docs/scaling.md)."""
    if step <= 0:
        return
    os.nice(step)
    if os.getsid(0) != os.getpid():
        return  # a session shared with others (a shell's): the nice value is what counts there
    try:
        with open("/proc/self/autogroup", "w") as autogroup:
            autogroup.write(str(step))
    except OSError:
        pass  # not Linux, or autogroups are off: the nice value is all there is


def run_worker(app: Flask, threads: int) -> None:
    """One worker process until SIGTERM or SIGINT: dramatiq threads, and a scheduler whose jobs run once per
    period across processes."""
    broker = queue.get_broker()
    stop = StopSignals()
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_threads=threads)
    worker.start()
    scheduler = Scheduler(app)
    scheduler.start()
    log.info("worker started with %d thread(s)", threads)
    try:
        while not stop.wait(1.0):
            pass
        log.info("worker stopping")
    finally:
        scheduler.stop()
        worker.stop(timeout=10_000)
        broker.close()


class StopSignals:
    """SIGTERM or SIGINT sets a flag that the main thread polls.

    The handler does nothing but set the flag: anything that takes a lock there could deadlock with the
    main thread it interrupts (an Event.set() inside Event.wait(), say).
    """

    def __init__(self) -> None:
        self.received = False
        signal.signal(signal.SIGTERM, self._receive)
        signal.signal(signal.SIGINT, self._receive)

    def _receive(self, signum: int, frame: object) -> None:
        self.received = True

    def wait(self, seconds: float) -> bool:
        if not self.received:
            time.sleep(seconds)  # a signal cuts the sleep short and runs the handler first
        return self.received
