"""Worker processes: dramatiq threads draining the broker and a scheduler ticking the periodic jobs.

``advocacy worker`` runs one or more of them beside the web processes; in the embedded mode
:class:`EmbeddedWorker` runs inside the web process and drains the in-memory stub broker.
"""

from __future__ import annotations

import logging
import os
import signal
import time

import dramatiq
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


class EmbeddedWorker:
    """The worker of the embedded mode, inside the web process: drains the stub broker, ticks the scheduler."""

    def __init__(self, app: Flask, *, threads: int = 2) -> None:
        self.app = app
        self.worker = dramatiq.Worker(queue.get_broker(), worker_threads=threads, worker_timeout=100)
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
