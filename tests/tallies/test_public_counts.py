"""What the public may see of a tally: counts below ADVOCACY_MIN_PUBLIC_COUNT are hidden."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from advocacy.config import load_settings
from advocacy.extensions import db
from advocacy.tallies import services as tallies
from advocacy.tallies.services import PublicRow, Tally


def tally_of(counts: dict[str, int]) -> Tally:
    return Tally(total=sum(counts.values()), by_country=dict(counts))


@pytest.fixture
def threshold(app: Flask) -> Iterator[Flask]:
    yield app
    app.config["MIN_PUBLIC_COUNT"] = 10


def test_the_default_threshold_is_ten(ctx):
    assert tallies.min_public_count() == 10


def test_counts_below_the_threshold_are_hidden_and_the_total_is_exact(ctx):
    public = tallies.public_view(tally_of({"UA": 40, "DE": 10, "PL": 9, "AT": 1}), 10)
    assert public.total == 60
    assert public.rows == (
        PublicRow("UA", count=40), PublicRow("DE", count=10),
        PublicRow("AT", below=10), PublicRow("PL", below=10),
    )
    assert [row.country for row in public.suppressed] == ["AT", "PL"]


def test_hidden_countries_are_ordered_by_name_whatever_their_size(ctx):
    small_first = tallies.public_view(tally_of({"UA": 20, "PL": 1, "FR": 8, "AT": 4}), 10, "en")
    other_sizes = tallies.public_view(tally_of({"UA": 20, "PL": 9, "FR": 1, "AT": 6}), 10, "en")
    assert [r.country for r in small_first.rows] == [r.country for r in other_sizes.rows] == ["UA", "AT", "FR", "PL"]
    # by the name in the reader's language: Німеччина (DE) before Польща (PL) before Франція (FR)
    uk = tallies.public_view(tally_of({"FR": 1, "PL": 2, "DE": 3}), 10, "uk")
    assert [r.country for r in uk.rows] == ["DE", "PL", "FR"]
    # without a language, by code
    assert [r.country for r in tallies.public_view(tally_of({"FR": 1, "PL": 2, "DE": 3}), 10).rows] == [
        "DE", "FR", "PL"]


@pytest.mark.parametrize("off", [0, 1])
def test_zero_or_one_shows_every_count(ctx, off):
    public = tallies.public_view(tally_of({"UA": 3, "LI": 1}), off)
    assert public.rows == (PublicRow("UA", count=3), PublicRow("LI", count=1))
    assert public.suppressed == ()


def test_public_tally_reads_the_shards_and_the_configured_threshold(threshold, make_petition):
    petition = make_petition()
    tallies.add(petition.id, "UA", 4)
    tallies.add(petition.id, "MD", 2)
    db.session.commit()
    assert tallies.public_tally(petition.id).rows == (PublicRow("MD", below=10), PublicRow("UA", below=10))
    threshold.config["MIN_PUBLIC_COUNT"] = 3
    assert tallies.public_tally(petition.id, "en").rows == (PublicRow("UA", count=4), PublicRow("MD", below=3))
    # organisers' figures stay exact
    assert tallies.tally(petition.id).by_country == {"UA": 4, "MD": 2}


def test_one_new_signature_from_a_small_country_does_not_show(make_petition):
    petition = make_petition()
    tallies.add(petition.id, "UA", 25)
    tallies.add(petition.id, "LI", 1)
    tallies.add(petition.id, "IS", 3)
    db.session.commit()
    before = tallies.public_tally(petition.id, "en")
    tallies.add(petition.id, "IS", 1)
    db.session.commit()
    after = tallies.public_tally(petition.id, "en")
    assert after.rows == before.rows
    assert after.total == before.total + 1


def test_the_threshold_comes_from_the_environment(tmp_path):
    assert load_settings({}, instance_path=tmp_path).min_public_count == 10
    assert load_settings({"ADVOCACY_MIN_PUBLIC_COUNT": "25"}, instance_path=tmp_path).min_public_count == 25
    assert load_settings({"ADVOCACY_MIN_PUBLIC_COUNT": "0"}, instance_path=tmp_path).min_public_count == 0
