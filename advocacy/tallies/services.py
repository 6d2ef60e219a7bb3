"""Confirmed signatures per petition and country.

What counts: a signature counts in the tally if and only if it is CONFIRMED and not ``suspect``. A suspect
one (held back by quiet fraud marking, advocacy.fraud) counts once an organiser clears it. Every change of
state or of the flag moves the tally through ``add`` in the same transaction; ``reconcile`` rebuilds it by
the same rule.

Confirmations add to one of SHARDS rows chosen at random, so parallel confirmations rarely touch the same
row; readers sum the shards and keep the result for a few seconds.

Two views of the same figures: ``tally`` is exact (for organisers and for services), ``public_tally`` is
what anonymous readers may see: a country with fewer than ``min_public_count`` signatures is shown as
"fewer than N", never with its number, so one new signature from a small country cannot be tied to a
person by watching the page.

Known limit (complementary disclosure): the total is exact, so the sum of the hidden countries is the
total minus the shown ones, and when a single country is hidden that is its exact count. Hiding a larger
country as well ("secondary suppression") would need a row that is neither a number nor "fewer than N",
and would reveal the hidden values as countries move in and out of it; rounding the public total would
contradict the exact totals we promise. What is done: hidden rows never vary with their count (same text,
alphabetical order, no goal bar) and no "other countries" sum is published.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import CTE, ColumnElement, Insert, Integer, bindparam, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from advocacy.cache import TTLCache
from advocacy.extensions import db
from advocacy.i18n import collation_key, country_name
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
    values = {"petition_id": petition_id, "country": country, "shard": _shard(), "count": delta}
    db.session.connection().execute(_add_statement(db.session.get_bind().dialect.name), values)


_ADD: dict[str, Any] = {}


def add_for_each(source: CTE, petition_id: ColumnElement[int], country: ColumnElement[str],
                 counts: ColumnElement[bool]) -> Insert:
    """PostgreSQL: ``add(petition_id, country, +1)`` for each row of ``source`` (a data-modifying ``WITH``, as
    ``outbox.insert_for_each`` takes) for which ``counts`` holds, written by the statement that changes the
    rows. Its shard is the statement's ``tally_shard`` parameter (``shard_param``)."""
    table = TallyShard.__table__
    rows = select(petition_id, country, bindparam("tally_shard", type_=Integer), literal(1, Integer)) \
        .select_from(source).where(counts)
    return _adding_to_shard(pg_insert(table).from_select(["petition_id", "country", "shard", "count"], rows))


def shard_param() -> dict[str, int]:
    """The ``tally_shard`` parameter of a statement built with ``add_for_each``: a shard chosen as ``add``
    chooses it."""
    return {"tally_shard": _shard()}


def _shard() -> int:
    return random.randrange(SHARDS)  # noqa: S311 (spreads writes over rows; not a secret)


def _adding_to_shard(statement: Any) -> Any:
    """``statement`` (an INSERT into the shards) adding its count to the shard's row when there is one."""
    table = TallyShard.__table__
    return statement.on_conflict_do_update(index_elements=["petition_id", "country", "shard"],
                                           set_={"count": table.c.count + statement.excluded["count"]})


def _add_statement(dialect: str) -> Any:
    """INSERT … ON CONFLICT (petition_id, country, shard) DO UPDATE SET count = count + excluded.count, built
    once per dialect (every confirmation runs it)."""
    statement = _ADD.get(dialect)
    if statement is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = _ADD[dialect] = _adding_to_shard(insert(TallyShard.__table__))
    return statement


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


@dataclass(frozen=True)
class PublicRow:
    """One country as the public sees it: ``count`` when it is at least the threshold, else ``below``."""

    country: str
    count: int | None = None
    below: int | None = None

    @property
    def suppressed(self) -> bool:
        return self.count is None


@dataclass(frozen=True)
class PublicTally:
    total: int
    rows: tuple[PublicRow, ...]
    threshold: int

    @property
    def suppressed(self) -> tuple[PublicRow, ...]:
        return tuple(row for row in self.rows if row.suppressed)


def min_public_count() -> int:
    """The smallest per-country count shown exactly (ADVOCACY_MIN_PUBLIC_COUNT); 0 or 1 shows every count."""
    return max(int(current_app.config["MIN_PUBLIC_COUNT"]), 0)


def public_view(exact: Tally, threshold: int, locale: str | None = None) -> PublicTally:
    """Hide the counts below ``threshold``.

    Visible countries come first, largest first (ties by code). Suppressed ones follow in alphabetical
    order of their name in ``locale`` (by code without one), so their order says nothing about their size.
    The total stays exact.
    """
    visible = [(code, n) for code, n in exact.ranked() if n >= threshold]
    hidden = [code for code, n in exact.by_country.items() if n < threshold]
    if locale is None:
        hidden.sort()
    else:
        hidden.sort(key=lambda code: (collation_key(country_name(code, locale), locale), code))
    rows = [PublicRow(code, count=n) for code, n in visible]
    rows += [PublicRow(code, below=threshold) for code in hidden]
    return PublicTally(total=exact.total, rows=tuple(rows), threshold=threshold)


def public_tally(petition_id: int, locale: str | None = None) -> PublicTally:
    """What anonymous readers (pages, the API) may see of a petition's tally."""
    return public_view(tally(petition_id), min_public_count(), locale)


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
    ).where(Signature.state == SignatureState.CONFIRMED, Signature.suspect.is_(False))
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
