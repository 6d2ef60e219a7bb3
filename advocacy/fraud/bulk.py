"""Bulk actions on a petition's signatures (issue 9): invalidate a selection (with a reason), clear its suspect
flag, or undo an invalidation. The selection is a :class:`SignatureFilter`.

``preview``, ``start`` and ``undo`` work in the caller's unit of work (they flush, the caller commits); the job
is enqueued through the outbox and runs ``run`` in the worker.

``run`` is the exception to "services never commit": it is the job's whole unit of work and commits once per
batch, so a batch of signatures, the items recording what they were, the tally deltas and the progress counter
land together, and an interrupted run is resumed by running it again (rows already changed no longer match the
re-checked state in the WHERE clauses, and the cursor restarts after the last item written).

Tally rule: a signature counts iff it is confirmed and not suspect; the tally moves only through
``tallies.add``, once per country per batch.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Integer, and_, any_, bindparam, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from advocacy.accounts.roles import Principal, require_organiser
from advocacy.audit import services as audit
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.fraud.bulk_models import BulkAction, BulkActionItem, BulkKind, BulkStatus
from advocacy.fraud.filters import SignatureFilter
from advocacy.outbox.services import enqueue
from advocacy.petitions.models import Petition
from advocacy.signatures.models import Signature, SignatureState
from advocacy.tallies import services as tallies

RUN_ACTOR = "fraud.run_bulk_action"
BATCH = 5000
LIVE = (SignatureState.PENDING, SignatureState.CONFIRMED)
STARTABLE = (BulkKind.INVALIDATE, BulkKind.CLEAR_SUSPECT)


class BulkError(ValueError):
    """The action cannot be started as asked; the message is translated and says why."""


class BulkNotFound(LookupError):
    pass


def _eligible(kind: BulkKind) -> list[ColumnElement[bool]]:
    """What a signature must be, besides matching the filter, for the action to change it."""
    if kind == BulkKind.INVALIDATE:
        return [Signature.state.in_(LIVE)]
    if kind == BulkKind.CLEAR_SUSPECT:
        return [Signature.state.in_(LIVE), Signature.suspect.is_(True)]
    raise ValueError(kind)


def _counts(state: SignatureState, suspect: bool) -> bool:
    return state == SignatureState.CONFIRMED and not suspect


def _petition(petition_id: int, actor: Principal) -> Petition:
    petition = db.session.get(Petition, petition_id)
    if petition is None:
        raise BulkNotFound(petition_id)
    require_organiser(actor, petition.campaign_id)
    return petition


def _count(conditions: Sequence[ColumnElement[bool]]) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Signature).where(*conditions)) or 0)


def preview(filter: SignatureFilter, *, actor: Principal) -> dict[str, int]:
    """How many signatures each action would change; ``counted`` is how many of the selection count now."""
    _petition(filter.petition_id, actor)
    where = filter.where()
    return {
        BulkKind.INVALIDATE.value: _count([*where, *_eligible(BulkKind.INVALIDATE)]),
        BulkKind.CLEAR_SUSPECT.value: _count([*where, *_eligible(BulkKind.CLEAR_SUSPECT)]),
        "counted": _count([*where, Signature.state == SignatureState.CONFIRMED, Signature.suspect.is_(False)]),
    }


def _audit(row: BulkAction, actor: Principal) -> None:
    # the filter's hashes are left out: which criteria were used, never the values that could single anyone out
    audit.record(f"fraud.bulk_{row.action.value}", actor=actor, object_type="petition", object_id=row.petition_id,
                 bulk_action_id=row.id, matched=row.matched, criteria=sorted(row.filter),
                 country=row.filter.get("country"), undoes_id=row.undoes_id)


def start(filter: SignatureFilter, action: BulkKind | str, reason: str | None = None, *, actor: Principal,
          whole_petition: bool = False) -> BulkAction:
    """Queue an invalidation or a clearing of the suspect flag for the selection; flushes, the caller commits."""
    _petition(filter.petition_id, actor)
    try:
        kind = BulkKind(action)
    except ValueError:
        raise BulkError(_l("Please choose an action from the list.")) from None
    if kind not in STARTABLE:
        raise BulkError(_l("Please choose an action from the list."))
    reason = (reason or "").strip()[:200] or None
    if kind == BulkKind.INVALIDATE and reason is None:
        raise BulkError(_l("Please say why these signatures are invalid."))
    if not filter.narrowed and not whole_petition:
        raise BulkError(_l("This selection is the whole petition: please confirm that you mean all of it."))
    row = BulkAction(petition_id=filter.petition_id, action=kind, filter=filter.to_args(), reason=reason,
                     actor_user_id=actor.user_id, status=BulkStatus.QUEUED,
                     matched=_count([*filter.where(), *_eligible(kind)]), processed=0)
    db.session.add(row)
    db.session.flush()
    enqueue(RUN_ACTOR, row.id)
    _audit(row, actor)
    return row


def get(bulk_id: int, *, actor: Principal) -> BulkAction:
    row = db.session.get(BulkAction, bulk_id)
    if row is None:
        raise BulkNotFound(bulk_id)
    _petition(row.petition_id, actor)
    return row


def of_petition(petition_id: int, *, actor: Principal, limit: int = 100) -> list[BulkAction]:
    _petition(petition_id, actor)
    return list(db.session.scalars(select(BulkAction).where(BulkAction.petition_id == petition_id)
                                   .order_by(BulkAction.id.desc()).limit(limit)))


def undone_ids(petition_id: int) -> set[int]:
    """The invalidations of a petition that already have a restore (queued, running or done)."""
    return set(db.session.scalars(
        select(BulkAction.undoes_id).where(BulkAction.petition_id == petition_id,
                                           BulkAction.undoes_id.is_not(None),
                                           BulkAction.status != BulkStatus.FAILED)))


def can_undo(row: BulkAction, undone: set[int]) -> bool:
    return row.action == BulkKind.INVALIDATE and row.status == BulkStatus.DONE and row.id not in undone


def undo(bulk_id: int, *, actor: Principal) -> BulkAction:
    """Queue a restore of a finished invalidation: its signatures still invalidated go back to what they were."""
    original = get(bulk_id, actor=actor)
    if not can_undo(original, undone_ids(original.petition_id)):
        raise BulkError(_l("Only a finished invalidation can be undone, and only once."))
    still = _count([Signature.id.in_(select(BulkActionItem.signature_id)
                                     .where(BulkActionItem.bulk_action_id == original.id)),
                    Signature.state == SignatureState.INVALIDATED])
    row = BulkAction(petition_id=original.petition_id, action=BulkKind.RESTORE, filter=dict(original.filter),
                     reason=None, actor_user_id=actor.user_id, undoes_id=original.id, status=BulkStatus.QUEUED,
                     matched=still, processed=0)
    db.session.add(row)
    db.session.flush()
    enqueue(RUN_ACTOR, row.id)
    _audit(row, actor)
    return row


# --- the job ----------------------------------------------------------------------------------------------

def run(bulk_id: int, *, batch: int = BATCH, keep_alive: Callable[[], Any] | None = None) -> bool:
    """Carry out a queued action batch by batch, committing after each; True once it is done.

    Idempotent: a finished action is left alone, an interrupted one goes on from its last committed batch.
    """
    row = db.session.get(BulkAction, bulk_id)
    if row is None or row.status == BulkStatus.DONE:
        return False
    row.status = BulkStatus.RUNNING
    db.session.commit()
    # the cursor: the highest signature already recorded by this action (every batch commits its items)
    cursor = int(db.session.scalar(select(func.max(BulkActionItem.signature_id))
                                   .where(BulkActionItem.bulk_action_id == bulk_id)) or 0)

    def committed(changed: int) -> None:
        if changed:
            db.session.execute(update(BulkAction).where(BulkAction.id == bulk_id)
                               .values(processed=BulkAction.processed + changed)
                               .execution_options(synchronize_session=False))
        db.session.commit()
        if keep_alive is not None:
            keep_alive()
            db.session.commit()

    if row.action == BulkKind.RESTORE:
        following: int | None = cursor
        while following is not None:
            changed, following = _restore_batch(row, following, batch)
            committed(changed)
    else:
        # the candidates in one ordered read (a LIMIT per batch made PostgreSQL sort the rest of the selection
        # again for every batch); each batch re-checks them, locked, before changing them
        selection = SignatureFilter.from_args(row.petition_id, row.filter)
        candidates = array("q", db.session.scalars(
            select(Signature.id).where(*selection.where(), *_eligible(row.action), Signature.id > cursor)
            .order_by(Signature.id)))
        for start in range(0, len(candidates), batch):
            committed(_change_batch(row, selection, list(candidates[start:start + batch])))
    db.session.execute(update(BulkAction).where(BulkAction.id == bulk_id)
                       .values(status=BulkStatus.DONE, finished_at=utcnow())
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return True


def mark_failed(bulk_id: int) -> None:
    """The job raised: show it as failed (a retry sets it running again). Flushes; the caller commits."""
    db.session.execute(update(BulkAction).where(BulkAction.id == bulk_id, BulkAction.status != BulkStatus.DONE)
                       .values(status=BulkStatus.FAILED).execution_options(synchronize_session=False))


def _among(ids: list[int]) -> ColumnElement[bool]:
    """``Signature.id IN ids``; on PostgreSQL as ``= ANY(array)``, one parameter instead of thousands (a batch
    of 5,000 spent half its time composing and parsing the long IN list)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return Signature.id == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    return Signature.id.in_(ids)


def _record_items(bulk_id: int, ids: list[int]) -> None:
    db.session.execute(insert(BulkActionItem).from_select(
        ["bulk_action_id", "signature_id", "previous_state", "previous_suspect"],
        select(literal(bulk_id), Signature.id, Signature.state, Signature.suspect).where(_among(ids)),
    ))


def _apply_deltas(petition_id: int, deltas: Counter[str]) -> None:
    for country, delta in sorted(deltas.items()):
        if delta:
            tallies.add(petition_id, country, delta)


def _change_batch(row: BulkAction, selection: SignatureFilter, candidates: list[int]) -> int:
    """Invalidate or clear those of ``candidates`` that still match; returns how many changed."""
    eligible = _eligible(row.action)
    # locked (PostgreSQL) so the states read here are the states changed below
    found = db.session.execute(
        select(Signature.id, Signature.state, Signature.country, Signature.suspect)
        .where(_among(candidates), *selection.where(), *eligible)
        .order_by(Signature.id).with_for_update()
    ).all()
    if not found:
        return 0
    ids = [sig_id for sig_id, *_ in found]
    _record_items(row.id, ids)
    deltas: Counter[str] = Counter()
    if row.action == BulkKind.INVALIDATE:
        values: dict[Any, Any] = {Signature.state: SignatureState.INVALIDATED, Signature.invalidated_at: utcnow(),
                                  Signature.invalidation_reason: row.reason}
        for _id, state, country, suspect in found:
            if _counts(state, suspect):
                deltas[country] -= 1
    else:
        values = {Signature.suspect: False}
        for _id, state, country, _suspect in found:
            if state == SignatureState.CONFIRMED:
                deltas[country] += 1
    db.session.execute(update(Signature).where(_among(ids), *eligible).values(values)
                       .execution_options(synchronize_session=False))
    _apply_deltas(row.petition_id, deltas)
    return len(found)


def _restore_batch(row: BulkAction, cursor: int, batch: int) -> tuple[int, int | None]:
    """Put back the next batch of the undone invalidation's signatures that are still invalidated."""
    item = BulkActionItem
    # keyset on the items' primary key (bulk_action_id, signature_id): read in its order, no sort
    window = (select(item.signature_id).where(item.bulk_action_id == row.undoes_id, item.signature_id > cursor)
              .order_by(item.signature_id).limit(batch)).subquery()
    last = db.session.scalar(select(func.max(window.c.signature_id)))
    if last is None:
        return 0, None
    found = db.session.execute(
        select(Signature.id, Signature.country, item.previous_state, item.previous_suspect)
        .join(item, and_(item.signature_id == Signature.id, item.bulk_action_id == row.undoes_id))
        .where(Signature.state == SignatureState.INVALIDATED, item.signature_id > cursor,
               item.signature_id <= last)
        .order_by(Signature.id).with_for_update(of=Signature)
    ).all()
    if not found:
        return 0, last
    ids = [sig_id for sig_id, *_ in found]
    _record_items(row.id, ids)
    groups: dict[tuple[SignatureState, bool], list[int]] = {}
    deltas: Counter[str] = Counter()
    for sig_id, country, state, suspect in found:
        groups.setdefault((state, suspect), []).append(sig_id)
        if _counts(state, suspect):
            deltas[country] += 1
    for (state, suspect), group in groups.items():
        db.session.execute(
            update(Signature).where(_among(group), Signature.state == SignatureState.INVALIDATED)
            .values({Signature.state: state, Signature.suspect: suspect, Signature.invalidated_at: None,
                     Signature.invalidation_reason: None})
            .execution_options(synchronize_session=False))
    _apply_deltas(row.petition_id, deltas)
    return len(found), last
