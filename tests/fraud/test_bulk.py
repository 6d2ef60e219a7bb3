"""Bulk actions on signatures (issue 9): the tally stays exact through invalidations and their undo, batches and
interrupted runs count nothing twice, and every action is audit-logged."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from advocacy.accounts.roles import Forbidden, Principal
from advocacy.audit.models import AuditEvent
from advocacy.extensions import db
from advocacy.fraud import bulk
from advocacy.fraud.bulk_models import BulkAction, BulkActionItem, BulkKind, BulkStatus
from advocacy.fraud.filters import SignatureFilter
from advocacy.outbox import services as outbox
from advocacy.outbox.models import OutboxMessage
from advocacy.signatures.models import Signature, SignatureState
from advocacy.tallies import services as tallies
from tests.packets.test_packets import add

NET = "a" * 64
OTHER_NET = "b" * 64
C, P, INV, W = (SignatureState.CONFIRMED, SignatureState.PENDING, SignatureState.INVALIDATED,
              SignatureState.WITHDRAWN)


def sign(petition: Any, n: int, *, country: str = "UA", state: SignatureState = C, suspect: bool = False,
         network: str | None = NET) -> None:
    for i in range(n):
        signature = add(petition, f"P {country} {state.value} {suspect} {network} {i}", country=country,
                        state=state, suspect=suspect)
        signature.network_hash = network


def counted(petition_id: int) -> dict[str, int]:
    """What the tally rule says: confirmed and not suspect, per country."""
    rows = db.session.execute(
        select(Signature.country, func.count()).where(Signature.petition_id == petition_id,
                                                      Signature.state == C, Signature.suspect.is_(False))
        .group_by(Signature.country)).all()
    return dict(rows)


def stored(petition_id: int) -> dict[str, int]:
    return {country: n for country, n in tallies._count(petition_id).by_country.items() if n}


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that call ``bulk.run`` themselves: the committed outbox row is not sent to the test worker (which
    would run the same action at the same time)."""
    monkeypatch.setattr(outbox, "dispatch", lambda *args: True)


@pytest.fixture
def organiser(make_petition: Any) -> dict[str, Any]:
    petition = make_petition()
    sign(petition, 5, country="UA")                       # counted, in the network
    sign(petition, 3, country="DE")                       # counted, in the network
    sign(petition, 2, country="UA", state=P)              # pending
    sign(petition, 2, country="DE", suspect=True)         # confirmed but held back
    sign(petition, 1, country="UA", state=P, suspect=True)
    sign(petition, 1, country="UA", state=INV)            # already invalidated: left alone
    sign(petition, 1, country="DE", state=W)              # withdrawn: left alone
    sign(petition, 4, country="PL", network=OTHER_NET)    # counted, outside the selection
    tallies.reconcile(petition.id, expected=True)  # by the tally rule: the suspect ones do not count
    db.session.commit()
    actor = Principal(user_id=None, campaign_ids=frozenset({petition.campaign_id}))
    return {"petition": petition, "actor": actor, "selection": SignatureFilter(petition.id, network=NET)}


def test_preview_counts_what_each_action_changes(organiser):
    counts = bulk.preview(organiser["selection"], actor=organiser["actor"])
    assert counts == {"invalidate": 5 + 3 + 2 + 2 + 1, "clear_suspect": 3, "counted": 8}
    assert bulk.preview(SignatureFilter(organiser["petition"].id, state="suspect"),
                        actor=organiser["actor"])["clear_suspect"] == 3


def test_only_organisers_of_the_campaign_preview_or_start(organiser):
    stranger = Principal(user_id=None, campaign_ids=frozenset({organiser["petition"].campaign_id + 1}))
    with pytest.raises(Forbidden):
        bulk.preview(organiser["selection"], actor=stranger)
    with pytest.raises(Forbidden):
        bulk.start(organiser["selection"], "invalidate", "bots", actor=stranger)


def test_a_reason_is_required_to_invalidate_and_a_whole_petition_must_be_confirmed(organiser, quiet):
    actor, pid = organiser["actor"], organiser["petition"].id
    with pytest.raises(bulk.BulkError):
        bulk.start(organiser["selection"], "invalidate", "  ", actor=actor)
    with pytest.raises(bulk.BulkError):
        bulk.start(SignatureFilter(pid), "invalidate", "bots", actor=actor)
    with pytest.raises(bulk.BulkError):
        bulk.start(organiser["selection"], "restore", None, actor=actor)
    row = bulk.start(SignatureFilter(pid), "clear_suspect", None, actor=actor, whole_petition=True)
    assert row.matched == 3
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.actor_name == bulk.RUN_ACTOR)) == 1


def test_invalidate_then_undo_keeps_the_tally_exact(organiser, quiet):
    pid, actor = organiser["petition"].id, organiser["actor"]
    assert stored(pid) == counted(pid) == {"UA": 5, "DE": 3, "PL": 4}

    row = bulk.start(organiser["selection"], "invalidate", "a bot farm", actor=actor)
    db.session.commit()
    assert row.matched == 13
    assert bulk.run(row.id, batch=4)
    db.session.refresh(row)
    assert (row.status, row.processed) == (BulkStatus.DONE, 13)
    assert stored(pid) == counted(pid) == {"PL": 4}
    states = dict(db.session.execute(select(Signature.state, func.count()).where(Signature.petition_id == pid)
                                      .group_by(Signature.state)).all())
    assert states == {INV: 14, W: 1, C: 4}
    assert not tallies.reconcile(pid)  # no drift (no suspect signature counts as confirmed any more)

    restore = bulk.undo(row.id, actor=actor)
    db.session.commit()
    assert restore.matched == 13
    with pytest.raises(bulk.BulkError):
        bulk.undo(row.id, actor=actor)  # only once
    assert bulk.run(restore.id, batch=5)
    assert stored(pid) == counted(pid) == {"UA": 5, "DE": 3, "PL": 4}
    states = dict(db.session.execute(select(Signature.state, func.count()).where(Signature.petition_id == pid)
                                      .group_by(Signature.state)).all())
    assert states == {C: 5 + 3 + 2 + 4, P: 3, INV: 1, W: 1}
    assert db.session.scalar(select(func.count()).select_from(Signature)
                             .where(Signature.petition_id == pid, Signature.suspect.is_(True))) == 3
    assert db.session.scalar(select(func.count()).select_from(Signature).where(
        Signature.petition_id == pid, Signature.invalidation_reason == "a bot farm")) == 0


def test_clear_suspect_adds_the_confirmed_ones(organiser, quiet):
    pid, actor = organiser["petition"].id, organiser["actor"]
    row = bulk.start(SignatureFilter(pid, state="suspect"), BulkKind.CLEAR_SUSPECT, None, actor=actor)
    db.session.commit()
    bulk.run(row.id)
    assert stored(pid) == counted(pid) == {"UA": 5, "DE": 5, "PL": 4}
    assert bulk.preview(SignatureFilter(pid), actor=actor)["clear_suspect"] == 0


def test_an_interrupted_run_resumes_without_counting_twice(organiser, quiet, monkeypatch):
    pid, actor = organiser["petition"].id, organiser["actor"]
    row = bulk.start(organiser["selection"], "invalidate", "bots", actor=actor)
    db.session.commit()
    real, calls = bulk._change_batch, {"n": 0}

    def dies_on_third(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real(*args)

    monkeypatch.setattr(bulk, "_change_batch", dies_on_third)
    with pytest.raises(RuntimeError):
        bulk.run(row.id, batch=3)
    db.session.rollback()
    db.session.refresh(row)
    assert (row.status, row.processed) == (BulkStatus.RUNNING, 6)
    monkeypatch.setattr(bulk, "_change_batch", real)
    assert bulk.run(row.id, batch=3)
    db.session.refresh(row)
    assert (row.status, row.processed) == (BulkStatus.DONE, 13)
    assert db.session.scalar(select(func.count()).select_from(BulkActionItem)
                             .where(BulkActionItem.bulk_action_id == row.id)) == 13
    assert stored(pid) == counted(pid) == {"PL": 4}
    assert not bulk.run(row.id)  # done: a second delivery of the message changes nothing
    assert stored(pid) == {"PL": 4}


def test_the_worker_runs_it_through_the_outbox(organiser, drain):
    pid, actor = organiser["petition"].id, organiser["actor"]
    row = bulk.start(organiser["selection"], "invalidate", "bots", actor=actor)
    db.session.commit()
    drain()
    db.session.expire_all()
    assert db.session.get(BulkAction, row.id).status == BulkStatus.DONE
    assert stored(pid) == {"PL": 4}


def test_invalidations_and_restores_are_audit_logged_without_personal_data(organiser, quiet):
    pid, actor = organiser["petition"].id, organiser["actor"]
    row = bulk.start(organiser["selection"], "invalidate", "bots", actor=actor)
    db.session.commit()
    bulk.run(row.id)
    restore = bulk.undo(row.id, actor=actor)
    db.session.commit()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    mine = [e for e in events if e.action.startswith("fraud.")]
    assert [e.action for e in mine] == ["fraud.bulk_invalidate", "fraud.bulk_restore"]
    assert mine[0].object_id == pid
    assert mine[0].detail["bulk_action_id"] == row.id
    assert mine[0].detail["criteria"] == ["network"]
    assert mine[0].detail["matched"] == 13
    assert mine[1].detail["undoes_id"] == row.id
    assert mine[1].detail["bulk_action_id"] == restore.id
    assert NET not in str([e.detail for e in mine])
