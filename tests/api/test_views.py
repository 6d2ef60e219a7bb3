from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from advocacy.extensions import db
from advocacy.petitions.models import PetitionStatus
from advocacy.signatures import services
from advocacy.signatures.models import Signature
from advocacy.signatures.services import Signer
from advocacy.tallies import services as tallies


@pytest.fixture
def min_public_count(app: Flask) -> Iterator[None]:
    """Counts below 3 are hidden in these tests, so a few signatures show both kinds of rows."""
    app.config["MIN_PUBLIC_COUNT"] = 3
    yield
    app.config["MIN_PUBLIC_COUNT"] = 10


def confirmed(petition_id: int, n: int, country: str) -> None:
    for i in range(n):
        services.sign(petition_id, Signer(full_name="Anna Nowak", email=f"{country}{i}@example.org",
                                          country=country, locale="en"))
        services.confirm(db.session.scalar(select(Signature.id).order_by(Signature.id.desc())))


def test_petition_detail(client, make_petition, min_public_count):
    petition = make_petition()
    confirmed(petition.id, 2, "PL")
    confirmed(petition.id, 3, "UA")
    data = client.get(f"/api/v1/petitions/{petition.slug}").get_json()
    assert data["slug"] == petition.slug
    assert data["title"] == petition.title["en"]
    assert data["status"] == "open"
    assert data["goal"] == 100
    assert data["targets"] == [{"slug": "bundestag", "name": "German Bundestag", "country": "DE"}]
    assert data["signature_count"] == 5
    assert data["signatures_by_country"] == [
        {"code": "UA", "name": "Ukraine", "count": 3},
        {"code": "PL", "name": "Poland", "count": None, "count_below": 3},
    ]


def test_small_countries_give_no_count_and_their_order_does_not_leak_size(client, make_petition, ctx):
    petition = make_petition()
    for country, n in {"UA": 12, "DE": 10, "FR": 9, "AT": 1, "PL": 5}.items():
        tallies.add(petition.id, country, n)
    db.session.commit()
    data = client.get(f"/api/v1/petitions/{petition.slug}").get_json()
    assert data["signature_count"] == 37  # the total stays exact
    assert data["signatures_by_country"] == [
        {"code": "UA", "name": "Ukraine", "count": 12},
        {"code": "DE", "name": "Germany", "count": 10},
        # below 10: no number, alphabetical by name, not by size
        {"code": "AT", "name": "Austria", "count": None, "count_below": 10},
        {"code": "FR", "name": "France", "count": None, "count_below": 10},
        {"code": "PL", "name": "Poland", "count": None, "count_below": 10},
    ]
    # hidden countries are alphabetical in the reader's language too
    uk = client.get(f"/api/v1/petitions/{petition.slug}?lang=uk").get_json()
    assert [c["name"] for c in uk["signatures_by_country"][2:]] == ["Австрія", "Польща", "Франція"]


def test_one_more_signature_in_a_small_country_changes_nothing_but_the_total(client, make_petition, ctx):
    petition = make_petition()
    tallies.add(petition.id, "UA", 15)
    tallies.add(petition.id, "LI", 2)
    tallies.add(petition.id, "MT", 4)
    db.session.commit()
    before = client.get(f"/api/v1/petitions/{petition.slug}").get_json()
    tallies.add(petition.id, "LI", 1)
    db.session.commit()
    after = client.get(f"/api/v1/petitions/{petition.slug}").get_json()
    assert after["signature_count"] == before["signature_count"] + 1
    assert after["signatures_by_country"] == before["signatures_by_country"]


def test_a_threshold_of_one_shows_every_count(app, client, make_petition, ctx):
    petition = make_petition()
    tallies.add(petition.id, "LI", 1)
    db.session.commit()
    app.config["MIN_PUBLIC_COUNT"] = 1
    try:
        data = client.get(f"/api/v1/petitions/{petition.slug}").get_json()
    finally:
        app.config["MIN_PUBLIC_COUNT"] = 10
    assert data["signatures_by_country"] == [{"code": "LI", "name": "Liechtenstein", "count": 1}]


def test_names_follow_lang_and_accept_language(client, make_petition, min_public_count):
    petition = make_petition()
    confirmed(petition.id, 1, "DE")
    uk = client.get(f"/api/v1/petitions/{petition.slug}?lang=uk").get_json()
    assert uk["signatures_by_country"][0]["name"] == "Німеччина"
    assert uk["title"] == petition.title["uk"]
    assert uk["targets"][0]["name"] == "Бундестаг Німеччини"
    ru = client.get(f"/api/v1/petitions/{petition.slug}", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_json()
    assert ru["signatures_by_country"][0]["name"] == "Германия"


def test_list_shows_open_petitions_with_totals(client, make_petition):
    open_one = make_petition()
    make_petition(status=PetitionStatus.CLOSED)
    make_petition(status=PetitionStatus.DRAFT)
    confirmed(open_one.id, 2, "FR")
    data = client.get("/api/v1/petitions").get_json()
    assert [(p["slug"], p["signature_count"]) for p in data["petitions"]] == [(open_one.slug, 2)]


def test_no_personal_data_in_the_api(client, make_petition):
    petition = make_petition()
    confirmed(petition.id, 2, "PL")
    body = client.get(f"/api/v1/petitions/{petition.slug}").get_data(as_text=True)
    body += client.get("/api/v1/petitions").get_data(as_text=True)
    assert "Anna" not in body
    assert "example.org" not in body


def test_unknown_petition_is_a_json_404(client):
    response = client.get("/api/v1/petitions/nope")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404
