"""Periodic jobs that run exactly once per period, however many worker processes are up.

Every worker process ticks a scheduler. For each job that is due, each of them tries the same conditional
UPDATE that moves ``next_run_at`` one period forward; the database lets exactly one of them change the row,
and that one runs the job. A process that dies mid-job costs one period, never a double run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.periodic.models import PeriodicJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], object]


def _relay_outbox() -> object:
    from advocacy.outbox import services as outbox

    return outbox.relay_stale()


def _purge_expired_pending() -> object:
    from advocacy.signatures import services as signatures

    return signatures.purge_expired_pending()


def _purge_finished_outbox() -> object:
    from advocacy.outbox import services as outbox

    return outbox.purge_finished()


def _purge_mail_files() -> object:
    from advocacy.mail import purge_old_mail_files

    return purge_old_mail_files(utcnow())


def _reconcile_tallies() -> object:
    from advocacy.tallies import services as tallies

    return tallies.reconcile_all()


JOBS: tuple[Job, ...] = (
    Job("relay-outbox", timedelta(seconds=15), _relay_outbox),
    Job("reconcile-tallies", timedelta(minutes=10), _reconcile_tallies),
    Job("purge-expired-pending", timedelta(hours=1), _purge_expired_pending),
    Job("purge-finished-outbox", timedelta(hours=6), _purge_finished_outbox),
    Job("purge-mail-files", timedelta(hours=6), _purge_mail_files),
)


def claim(job: Job, now: datetime | None = None) -> bool:
    """True for exactly one caller per period."""
    now = now or utcnow()
    if db.session.get(PeriodicJob, job.name) is None:
        try:
            db.session.add(PeriodicJob(name=job.name, next_run_at=now))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # another process created it first
    result = db.session.execute(
        update(PeriodicJob)
        .where(PeriodicJob.name == job.name, PeriodicJob.next_run_at <= now)
        .values(next_run_at=now + job.every, last_started_at=now, runs=PeriodicJob.runs + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def run_due(now: datetime | None = None, jobs: tuple[Job, ...] = JOBS) -> list[str]:
    """Run every job this process wins for the current period; returns their names."""
    ran = []
    for job in jobs:
        if not claim(job, now):
            continue
        try:
            outcome = job.run()
            db.session.commit()
            summary = f"ok: {outcome}"
        except Exception as exc:
            db.session.rollback()
            log.exception("periodic job %s failed", job.name)
            summary = f"failed: {type(exc).__name__}"
        db.session.execute(
            update(PeriodicJob).where(PeriodicJob.name == job.name)
            .values(last_finished_at=utcnow(), last_result=summary[:500])
        )
        db.session.commit()
        ran.append(job.name)
    return ran


def status() -> list[PeriodicJob]:
    return list(db.session.scalars(select(PeriodicJob).order_by(PeriodicJob.name)))


class Scheduler:
    """A daemon thread that ticks ``run_due`` every few seconds inside the app context."""

    def __init__(self, app: Flask, *, tick: float = 5.0) -> None:
        self.app = app
        self.tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="advocacy-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with self.app.app_context():
                    run_due()
                    db.session.remove()
            except Exception:
                log.exception("scheduler tick failed")
            self._stop.wait(self.tick)
