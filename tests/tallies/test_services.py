"""Counting confirmed signatures: sharded increments, reconciliation and the short cache pages read."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from sqlalchemy import func, select

from advocacy import cache
from advocacy.extensions import db
from advocacy.signatures import services as signatures
from advocacy.signatures.models import Signature
from advocacy.signatures.services import Signer
from advocacy.tallies import services as tallies
from advocacy.tallies.models import SHARDS, TallyShard


def sign_and_confirm(petition_id: int, country: str, n: int, start: int = 0) -> list[int]:
    ids = []
    for i in range(start, start + n):
        signatures.sign(petition_id, Signer(full_name="Olha Petrenko", email=f"{country}{i}@example.org",
                                            country=country, locale="uk"))
        signature_id = db.session.scalar(select(Signature.id).order_by(Signature.id.desc()))
        signatures.confirm(signature_id)
        ids.append(signature_id)
    return ids


def shard_rows(petition_id: int, country: str) -> list[int]:
    return list(db.session.scalars(select(TallyShard.count).where(
        TallyShard.petition_id == petition_id, TallyShard.country == country)))


def test_increments_spread_over_shards_and_sum_up(make_petition):
    petition = make_petition()
    for _ in range(64):
        tallies.add(petition.id, "UA", +1)
    tallies.add(petition.id, "PL", +5)
    tallies.add(petition.id, "PL", -2)
    db.session.commit()
    rows = shard_rows(petition.id, "UA")
    # 64 confirmations do not all land on one row (the chance that they would is 16**-63)
    assert 1 < len(rows) <= SHARDS
    assert sum(rows) == 64
    tally = tallies.tally(petition.id)
    assert tally.by_country == {"UA": 64, "PL": 3}
    assert tally.total == 67
    assert tally.ranked() == [("UA", 64), ("PL", 3)]


def test_a_country_back_at_zero_is_not_listed(make_petition):
    petition = make_petition()
    tallies.add(petition.id, "DE", +1)
    tallies.add(petition.id, "DE", -1)
    tallies.add(petition.id, "FR", +2)
    db.session.commit()
    assert tallies.tally(petition.id).by_country == {"FR": 2}


def test_tallies_of_petitions_are_separate(make_petition):
    one, two = make_petition(), make_petition()
    tallies.add(one.id, "UA", +2)
    tallies.add(two.id, "UA", +7)
    db.session.commit()
    assert tallies.totals([one.id, two.id]) == {one.id: 2, two.id: 7}


def test_parallel_increments_are_all_counted(app: Flask, make_petition):
    petition_id = make_petition().id
    db.session.remove()
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def confirmations() -> None:
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(10):
                    tallies.add(petition_id, "UA", +1)
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=confirmations) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert tallies.tally(petition_id).total == 60


def test_reconcile_repairs_drift_by_increments(make_petition, caplog):
    petition = make_petition()
    sign_and_confirm(petition.id, "UA", 3)
    sign_and_confirm(petition.id, "PL", 1)
    # increments lost for Ukraine, a country counted that nobody signed from
    db.session.execute(TallyShard.__table__.delete().where(TallyShard.country == "UA"))
    tallies.add(petition.id, "FR", +2)
    db.session.commit()
    assert tallies.tally(petition.id).by_country == {"PL": 1, "FR": 2}

    drift = tallies._drift(petition.id)
    assert sorted(drift) == [(petition.id, "FR", -2), (petition.id, "UA", 3)]
    # a confirmation commits between reading the drift and repairing it: its +1 must survive the repair
    sign_and_confirm(petition.id, "UA", 1, start=10)
    with caplog.at_level(logging.WARNING, logger="advocacy.tallies.services"):
        assert tallies._repair(drift) == 2
    db.session.commit()
    assert tallies.tally(petition.id).by_country == {"UA": 4, "PL": 1}
    assert "drift repaired in 2" in caplog.text
    assert tallies.reconcile(petition.id) is False
    assert tallies.reconcile_all() == 0


def test_reconcile_counts_only_confirmed_signatures_and_is_quiet_when_expected(make_petition, caplog):
    petition = make_petition()
    confirmed = sign_and_confirm(petition.id, "DE", 2)
    signatures.sign(petition.id, Signer(full_name="Still Pending", email="p@example.org", country="DE", locale="en"))
    signatures.withdraw(confirmed[0])
    # signatures stored without counting, as an import does
    db.session.execute(TallyShard.__table__.delete())
    db.session.commit()
    with caplog.at_level(logging.WARNING, logger="advocacy.tallies.services"):
        assert tallies.reconcile(petition.id, expected=True) is True
    db.session.commit()
    assert "drift" not in caplog.text
    assert tallies.tally(petition.id).by_country == {"DE": 1}
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 3


def test_reconcile_one_petition_leaves_the_others(make_petition):
    one, two = make_petition(), make_petition()
    tallies.add(one.id, "UA", +3)
    tallies.add(two.id, "UA", +3)
    db.session.commit()
    assert tallies.reconcile(one.id) is True
    db.session.commit()
    assert tallies.totals([one.id, two.id]) == {one.id: 0, two.id: 3}
    assert tallies.reconcile_all() == 1
    db.session.commit()
    assert tallies.totals([one.id, two.id]) == {one.id: 0, two.id: 0}


def test_readers_get_the_cached_tally_until_it_expires(app: Flask, make_petition):
    petition = make_petition()
    tallies.add(petition.id, "UA", +1)
    db.session.commit()
    app.config["TALLY_CACHE_SECONDS"] = 60
    try:
        assert tallies.tally(petition.id).total == 1
        tallies.add(petition.id, "UA", +1)
        db.session.commit()
        # a reader within the cache period sees the figure from before; the public view is built from it
        assert tallies.tally(petition.id).total == 1
        assert tallies.public_tally(petition.id).total == 1
        cache.clear_all()
        assert tallies.tally(petition.id).total == 2

        app.config["TALLY_CACHE_SECONDS"] = 0.2
        cache.clear_all()
        assert tallies.tally(petition.id).total == 2
        tallies.add(petition.id, "PL", +1)
        db.session.commit()
        deadline = time.monotonic() + 10
        while tallies.tally(petition.id).total != 3 and time.monotonic() < deadline:
            time.sleep(0.02)  # polling for the condition: the entry expires on its own
        assert tallies.tally(petition.id).by_country == {"UA": 2, "PL": 1}
    finally:
        app.config["TALLY_CACHE_SECONDS"] = 0
        cache.clear_all()
