"""The dashboard's figures: kept up to date by a periodic job, read without scanning ``signatures``.

The job (every 5 minutes) counts signatures per petition and UTC hour, by the hour they were made and by the
hour they were confirmed, starting a margin before where the previous run stopped: hours from there on are
counted again and replaced, older hours are kept. A signature committed late (a long transaction) is still
counted as long as it commits within the margin. It also takes a snapshot of each live petition's signatures
by state. Pages read the rollup, the snapshot and the tallies (exact per-country counts); none reads
``signatures``.

Confirmations are counted in the hour they happened: a signature confirmed and later withdrawn stays in its
hour's confirmations, as the history of what happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from advocacy.dashboard.models import HourlyCount, RollupProgress, StateSnapshot
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.petitions.models import Petition, PetitionStatus
from advocacy.signatures.models import Signature, SignatureState

ROLLUP = "hourly"
# how far before the previous run's end a run starts counting again
MARGIN = timedelta(hours=1)
HOURLY_WINDOW = 72


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _hour_of(column: Any) -> ColumnElement[Any]:
    """The UTC hour of a timestamp column, in SQL: SQLite keeps UTC text, PostgreSQL a timestamptz."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", column))
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _as_hour(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _counts(column: Any, since: datetime | None) -> dict[tuple[int, datetime], int]:
    hour = _hour_of(column).label("hour")
    query = select(Signature.petition_id, hour, func.count()).where(column.is_not(None))
    if since is not None:
        query = query.where(column >= since)
    rows = db.session.execute(query.group_by(Signature.petition_id, hour)).all()
    return {(pid, _as_hour(h)): int(n) for pid, h, n in rows}


def refresh(now: datetime | None = None) -> int:
    """The periodic job: count the hours since the last run (less the margin) and take the snapshots.

    Returns the number of hour rows written.
    """
    now = now or utcnow()
    progress = db.session.get(RollupProgress, ROLLUP)
    since = floor_hour(progress.counted_to - MARGIN) if progress is not None else None
    signed = _counts(Signature.created_at, since)
    confirmed = _counts(Signature.confirmed_at, since)
    if since is not None:
        db.session.execute(delete(HourlyCount).where(HourlyCount.hour >= since))
    else:
        db.session.execute(delete(HourlyCount))
    rows = [{"petition_id": pid, "hour": hour, "signed": signed.get((pid, hour), 0),
             "confirmed": confirmed.get((pid, hour), 0)} for pid, hour in sorted(signed.keys() | confirmed.keys())]
    for start in range(0, len(rows), 1000):
        db.session.execute(HourlyCount.__table__.insert(), rows[start:start + 1000])
    touched = {pid for pid, _hour in signed.keys() | confirmed.keys()}
    _snapshot(touched, now, everything=progress is None)
    if progress is None:
        db.session.add(RollupProgress(name=ROLLUP, counted_to=now))
    else:
        progress.counted_to = now
    db.session.flush()
    return len(rows)


def _snapshot(touched: Iterable[int], now: datetime, *, everything: bool) -> None:
    """Count by state the petitions with new signatures and the open ones (withdrawals, invalidations and
    cleared suspicions happen to old signatures of live petitions)."""
    # two counts the indexes answer: every signature by state, then the suspect ones (a partial index)
    by_state = select(Signature.petition_id, Signature.state, func.count())
    held = select(Signature.petition_id, Signature.state, func.count()).where(
        Signature.suspect, Signature.state.in_((SignatureState.PENDING, SignatureState.CONFIRMED)))
    if not everything:
        live = select(Petition.id).where(Petition.status == PetitionStatus.OPEN)
        chosen = or_(Signature.petition_id.in_(list(touched)), Signature.petition_id.in_(live))
        by_state, held = by_state.where(chosen), held.where(chosen)
    counts: dict[int, dict[str, int]] = {}
    for pid, state, n in db.session.execute(by_state.group_by(Signature.petition_id, Signature.state)).all():
        cell = counts.setdefault(pid, dict.fromkeys(("pending", "confirmed", "withdrawn", "invalidated",
                                                     "suspect"), 0))
        cell[SignatureState(state).value] += int(n)
    for pid, state, n in db.session.execute(held.group_by(Signature.petition_id, Signature.state)).all():
        counts[pid][SignatureState(state).value] -= int(n)
        counts[pid]["suspect"] += int(n)
    if not counts:
        return
    values = [{"petition_id": pid, **cell, "taken_at": now} for pid, cell in counts.items()]
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(StateSnapshot).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["petition_id"],
        set_={name: stmt.excluded[name] for name in ("pending", "confirmed", "withdrawn", "invalidated",
                                                      "suspect", "taken_at")},
    )
    db.session.execute(stmt)


@dataclass(frozen=True)
class Totals:
    pending: int = 0
    confirmed: int = 0
    withdrawn: int = 0
    invalidated: int = 0
    suspect: int = 0
    taken_at: datetime | None = None

    @property
    def signed(self) -> int:
        return self.pending + self.confirmed + self.withdrawn + self.invalidated + self.suspect

    @property
    def confirmation_rate(self) -> float | None:
        """Confirmed (not held back) among all signatures ever made, or None before the first."""
        return self.confirmed / self.signed if self.signed else None


def totals(petition_id: int) -> Totals:
    snap = db.session.get(StateSnapshot, petition_id)
    if snap is None:
        return Totals()
    return Totals(snap.pending, snap.confirmed, snap.withdrawn, snap.invalidated, snap.suspect, snap.taken_at)


@dataclass(frozen=True)
class Point:
    start: datetime | date
    signed: int
    confirmed: int


def hourly(petition_id: int, now: datetime | None = None, hours: int = HOURLY_WINDOW) -> list[Point]:
    """The last ``hours`` hours up to the current one, every hour present (zero when nothing happened)."""
    last = floor_hour(now or utcnow())
    first = last - timedelta(hours=hours - 1)
    rows = db.session.execute(
        select(HourlyCount.hour, HourlyCount.signed, HourlyCount.confirmed)
        .where(HourlyCount.petition_id == petition_id, HourlyCount.hour >= first)
    ).all()
    found = {_as_hour(hour): (s, c) for hour, s, c in rows}
    points = []
    for step in range(hours):
        at = first + timedelta(hours=step)
        s, c = found.get(at, (0, 0))
        points.append(Point(at, s, c))
    return points


def daily(petition_id: int, now: datetime | None = None) -> list[Point]:
    """Every day from the first signature to today (UTC), summed from the hourly rollup."""
    rows = db.session.execute(
        select(HourlyCount.hour, HourlyCount.signed, HourlyCount.confirmed)
        .where(HourlyCount.petition_id == petition_id).order_by(HourlyCount.hour)
    ).all()
    if not rows:
        return []
    days: dict[date, list[int]] = {}
    for hour, s, c in rows:
        cell = days.setdefault(_as_hour(hour).date(), [0, 0])
        cell[0] += s
        cell[1] += c
    first, last = min(days), max(max(days), (now or utcnow()).astimezone(UTC).date())
    return [Point(first + timedelta(days=n), *days.get(first + timedelta(days=n), [0, 0]))
            for n in range((last - first).days + 1)]


__all__ = ["Point", "Totals", "daily", "floor_hour", "hourly", "refresh", "totals"]
