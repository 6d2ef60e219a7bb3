"""Confirmed signatures per petition and country.

Confirmations add to one of SHARDS rows chosen at random, so parallel confirmations rarely touch the same
row; readers sum the shards and keep the result for a few seconds.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from advocacy.cache import TTLCache
from advocacy.extensions import db
from advocacy.tallies.models import SHARDS, TallyShard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tally:
    total: int
    by_country: dict[str, int]

    def ranked(self) -> list[tuple[str, int]]:
        """Countries by count, largest first; ties by code so the order is stable."""
        return sorted(self.by_country.items(), key=lambda item: (-item[1], item[0]))


def add(petition_id: int, country: str, delta: int) -> None:
    """Change a country's count inside the caller's transaction."""
    shard = random.randrange(SHARDS)  # noqa: S311 (spreads writes over rows; not a secret)
    values = {"petition_id": petition_id, "country": country, "shard": shard, "count": delta}
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(TallyShard).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["petition_id", "country", "shard"],
        set_={"count": TallyShard.count + stmt.excluded["count"]},
    )
    db.session.execute(stmt)


_cache: TTLCache[Tally] = TTLCache()


def tally(petition_id: int) -> Tally:
    return _cache.get_or_make(petition_id, float(current_app.config["TALLY_CACHE_SECONDS"]),
                              lambda: _count(petition_id))


def _count(petition_id: int) -> Tally:
    rows = db.session.execute(
        select(TallyShard.country, func.sum(TallyShard.count))
        .where(TallyShard.petition_id == petition_id)
        .group_by(TallyShard.country)
    ).all()
    by_country = {country: int(count) for country, count in rows if count}
    return Tally(total=sum(by_country.values()), by_country=by_country)


def totals(petition_ids: list[int]) -> dict[int, int]:
    return {pid: tally(pid).total for pid in petition_ids}


def _drift(petition_id: int | None) -> list[tuple[int, str, int]]:
    """(petition, country, missing count) wherever the shards disagree with the signatures table.

    Both sides are read by ONE statement, so they come from one snapshot: a confirmation commits its
    signature and its shard increment together, so it is either in both sides or in neither.
    """
    from advocacy.signatures.models import Signature, SignatureState

    confirmed = select(
        Signature.petition_id.label("petition_id"), Signature.country.label("country"),
        func.count().label("truth"), literal(0).label("stored"),
    ).where(Signature.state == SignatureState.CONFIRMED)
    stored = select(
        TallyShard.petition_id.label("petition_id"), TallyShard.country.label("country"),
        literal(0).label("truth"), TallyShard.count.label("stored"),
    )
    if petition_id is not None:
        confirmed = confirmed.where(Signature.petition_id == petition_id)
        stored = stored.where(TallyShard.petition_id == petition_id)
    confirmed = confirmed.group_by(Signature.petition_id, Signature.country)
    both = union_all(confirmed, stored).subquery()
    rows = db.session.execute(
        select(both.c.petition_id, both.c.country, func.sum(both.c.truth) - func.sum(both.c.stored))
        .group_by(both.c.petition_id, both.c.country)
    ).all()
    return [(pid, country, int(delta)) for pid, country, delta in rows if delta]


def _repair(drift: list[tuple[int, str, int]], *, expected: bool = False) -> int:
    # an increment, not an overwrite: confirmations that commit meanwhile keep their own +1
    for pid, country, delta in drift:
        add(pid, country, delta)
    if drift and not expected:
        log.warning("tally drift repaired in %d petition/country cell(s)", len(drift))
    return len(drift)


def reconcile(petition_id: int, *, expected: bool = False) -> bool:
    """Make one petition's shards agree with its confirmed signatures; True if they had drifted.

    ``expected``: signatures were stored without counting on purpose (an import, the demo): no warning.
    """
    return _repair(_drift(petition_id), expected=expected) > 0


def reconcile_all() -> int:
    """The periodic job: repair every petition; returns the number of cells that had drifted."""
    return _repair(_drift(None))
