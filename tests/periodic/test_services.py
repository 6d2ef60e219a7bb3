"""Periodic jobs run once per period whatever the number of workers, and do their work."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.outbox.models import OutboxMessage
from advocacy.periodic import services as periodic
from advocacy.periodic.models import PeriodicJob
from advocacy.signatures import services as signatures
from advocacy.signatures.models import Signature
from advocacy.signatures.services import Signer
from advocacy.tallies import services as tallies
from advocacy.tallies.models import TallyShard


def test_many_workers_one_run_per_period(app, ctx):
    calls: list[str] = []
    job = periodic.Job("count-me", timedelta(minutes=1), lambda: calls.append("ran"))
    now = utcnow()
    db.session.remove()
    barrier = threading.Barrier(6)

    def worker_tick() -> None:
        with app.app_context():
            barrier.wait()
            periodic.run_due(now, jobs=(job,))
            db.session.remove()

    threads = [threading.Thread(target=worker_tick) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert calls == ["ran"]
    # later in the same period: nothing; in the next period: once more
    periodic.run_due(now + timedelta(seconds=30), jobs=(job,))
    assert calls == ["ran"]
    periodic.run_due(now + timedelta(minutes=1, seconds=1), jobs=(job,))
    assert calls == ["ran", "ran"]
    row = db.session.get(PeriodicJob, "count-me")
    assert row.runs == 2
    assert row.last_result == "ok: None"


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(ctx):
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    jobs = (periodic.Job("broken", timedelta(minutes=1), broken),
            periodic.Job("fine", timedelta(minutes=1), lambda: ran.append("fine")))
    assert periodic.run_due(jobs=jobs) == ["broken", "fine"]
    assert ran == ["fine"]
    assert db.session.get(PeriodicJob, "broken").last_result == "failed: RuntimeError"


def test_reconcile_repairs_drift(make_petition):
    petition = make_petition()
    for n, country in enumerate(["UA", "UA", "PL"]):
        signatures.sign(petition.id, Signer(full_name="Anna Nowak", email=f"a{n}@example.org", country=country,
                                            locale="en"))
        signatures.confirm(db.session.scalar(select(Signature.id).order_by(Signature.id.desc())))
    # a lost increment, a counted-twice country and a country that has no signature at all
    db.session.execute(TallyShard.__table__.delete().where(TallyShard.country == "PL"))
    tallies.add(petition.id, "UA", +1)
    tallies.add(petition.id, "FR", +4)
    db.session.commit()
    assert tallies.tally(petition.id).by_country == {"UA": 3, "FR": 4}
    assert periodic.run_due(jobs=tuple(j for j in periodic.registered_jobs() if j.name == "reconcile-tallies"))
    assert tallies.tally(petition.id).by_country == {"UA": 2, "PL": 1}
    assert tallies.reconcile_all() == 0


def test_expired_pending_signatures_are_deleted(make_petition):
    petition = make_petition()
    signatures.sign(petition.id, Signer(full_name="Old Pending", email="old@example.org", country="UA", locale="en"))
    signatures.sign(petition.id, Signer(full_name="New Pending", email="new@example.org", country="UA", locale="en"))
    signatures.sign(petition.id, Signer(full_name="Old Confirmed", email="oc@example.org", country="UA", locale="en"))
    old, _new, old_confirmed = db.session.scalars(select(Signature).order_by(Signature.id)).all()
    signatures.confirm(old_confirmed.id)
    for signature in (old, old_confirmed):
        signature.created_at = utcnow() - timedelta(days=8)
    db.session.commit()
    assert signatures.purge_expired_pending() == 1
    remaining = {s.full_name for s in db.session.scalars(select(Signature))}
    assert remaining == {"New Pending", "Old Confirmed"}


def test_finished_outbox_rows_are_purged_after_a_week(make_petition):
    petition = make_petition()
    signatures.sign(petition.id, Signer(full_name="Anna Nowak", email="a@example.org", country="UA", locale="en"))
    row = db.session.scalar(select(OutboxMessage))
    row.done_at = utcnow() - timedelta(days=8)
    db.session.commit()
    from advocacy.outbox import services as outbox

    assert outbox.purge_finished() == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
