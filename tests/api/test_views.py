from __future__ import annotations

from sqlalchemy import select

from advocacy.extensions import db
from advocacy.petitions.models import PetitionStatus
from advocacy.signatures import services
from advocacy.signatures.models import Signature
from advocacy.signatures.services import Signer


def confirmed(petition_id: int, n: int, country: str) -> None:
    for i in range(n):
        services.sign(petition_id, Signer(full_name="Anna Nowak", email=f"{country}{i}@example.org",
                                          country=country, locale="en"))
        services.confirm(db.session.scalar(select(Signature.id).order_by(Signature.id.desc())))


def test_petition_detail(client, make_petition):
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
        {"code": "PL", "name": "Poland", "count": 2},
    ]


def test_names_follow_lang_and_accept_language(client, make_petition):
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
