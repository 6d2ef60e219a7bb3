"""Confirmed signatures per petition and country.

Confirmations add to one of SHARDS rows chosen at random, so parallel confirmations rarely touch the same
row; readers sum the shards and keep the result for a few seconds.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from advocacy.extensions import db
from advocacy.tallies.models import SHARDS, TallyShard


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


_cache: dict[int, tuple[float, Tally]] = {}
_cache_lock = threading.Lock()


def tally(petition_id: int) -> Tally:
    ttl = float(current_app.config["TALLY_CACHE_SECONDS"])
    now = time.monotonic()
    if ttl > 0:
        with _cache_lock:
            hit = _cache.get(petition_id)
        if hit and hit[0] > now:
            return hit[1]
    rows = db.session.execute(
        select(TallyShard.country, func.sum(TallyShard.count))
        .where(TallyShard.petition_id == petition_id)
        .group_by(TallyShard.country)
    ).all()
    by_country = {country: int(count) for country, count in rows if count}
    result = Tally(total=sum(by_country.values()), by_country=by_country)
    if ttl > 0:
        with _cache_lock:
            _cache[petition_id] = (now + ttl, result)
    return result


def totals(petition_ids: list[int]) -> dict[int, int]:
    return {pid: tally(pid).total for pid in petition_ids}


def forget_cached() -> None:
    with _cache_lock:
        _cache.clear()


def reconcile(petition_id: int) -> bool:
    """Rebuild a petition's shards from the signatures table; returns whether they had drifted."""
    from advocacy.signatures.models import Signature, SignatureState

    truth = dict(
        db.session.execute(
            select(Signature.country, func.count())
            .where(Signature.petition_id == petition_id, Signature.state == SignatureState.CONFIRMED)
            .group_by(Signature.country)
        ).all()
    )
    stored = dict(
        db.session.execute(
            select(TallyShard.country, func.sum(TallyShard.count))
            .where(TallyShard.petition_id == petition_id)
            .group_by(TallyShard.country)
        ).all()
    )
    stored = {country: int(count) for country, count in stored.items() if count}
    if stored == truth:
        return False
    db.session.execute(delete(TallyShard).where(TallyShard.petition_id == petition_id))
    db.session.add_all(
        TallyShard(petition_id=petition_id, country=country, shard=0, count=count)
        for country, count in truth.items()
    )
    return True
