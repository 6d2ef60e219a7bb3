"""Launching country petitions from a campaign petition: countries of the reference list of parliaments,
one draft each, listed with links once created."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from advocacy.extensions import db
from advocacy.petitions.models import Petition, PetitionStatus
from tests.console.helpers import campaign, post, text


@dataclass(frozen=True)
class FakeParliament:
    country: str
    slug: str
    name: dict[str, str]
    languages: tuple[str, ...]
    website: str


PARLIAMENTS = [
    FakeParliament("DE", "parliament-de", {"en": "German Bundestag", "uk": "Бундестаг", "de": "Deutscher Bundestag"},
                   ("de",), "https://www.bundestag.de"),
    FakeParliament("UA", "parliament-ua", {"en": "Verkhovna Rada of Ukraine", "uk": "Верховна Рада України"},
                   ("uk",), "https://www.rada.gov.ua"),
    FakeParliament("PL", "parliament-pl", {"en": "Sejm of the Republic of Poland", "pl": "Sejm"},
                   ("pl",), "https://www.sejm.gov.pl"),
]


@pytest.fixture
def parliaments(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The reference list when it has landed (from another branch), otherwise three stand-ins."""
    try:
        module = importlib.import_module("advocacy.petitions.parliaments")
        yield list(module.all_parliaments())
    except ImportError:
        fake = types.ModuleType("advocacy.petitions.parliaments")
        fake.all_parliaments = lambda: list(PARLIAMENTS)  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "advocacy.petitions.parliaments", fake)
        yield PARLIAMENTS


def test_launch_creates_one_draft_per_country(client: FlaskClient, login_as: Any, make_petition: Any,
                                              parliaments: list[Any]) -> None:
    parent = make_petition(country_goals={"UA": 700, "DE": 300})
    login_as(client, organiser_of=[parent.campaign_id])
    assert "Launch country petitions" in text(client.get(f"/console/petitions/{parent.id}"))
    page = text(client.get(f"/console/petitions/{parent.id}/launch"))
    assert 'value="DE"' in page
    assert 'value="UA"' in page
    assert "Germany" in page  # the CLDR name of the country
    assert len({p.country for p in parliaments}) == page.count('name="countries"')

    response = post(client, f"/console/petitions/{parent.id}/launch", {"countries": ["UA", "DE"]})
    assert response.status_code == 303
    children = list(db.session.scalars(db.select(Petition).where(Petition.parent_id == parent.id)
                                       .order_by(Petition.country)))
    assert [child.country for child in children] == ["DE", "UA"]
    assert all(child.status == PetitionStatus.DRAFT for child in children)
    assert {child.country: child.goal for child in children} == {"DE": 300, "UA": 700}

    listing = text(client.get(response.headers["Location"]))
    assert "Drafts created" in listing
    for child in children:
        assert f'href="/console/petitions/{child.id}"' in listing
    # launched countries cannot be chosen again
    assert 'value="UA"' not in listing
    assert "already launched" in listing
    assert "Country petitions" in text(client.get(f"/console/petitions/{parent.id}"))


def test_choosing_nothing_or_a_launched_country_is_explained(client: FlaskClient, login_as: Any,
                                                             make_petition: Any, parliaments: list[Any]) -> None:
    parent = make_petition()
    login_as(client, organiser_of=[parent.campaign_id])
    response = post(client, f"/console/petitions/{parent.id}/launch", {})
    assert response.status_code == 400
    page = text(response)
    assert 'class="error-summary"' in page
    assert 'href="#countries"' in page
    assert post(client, f"/console/petitions/{parent.id}/launch", {"countries": ["UA"]}).status_code == 303
    again = post(client, f"/console/petitions/{parent.id}/launch", {"countries": ["UA", "DE"]})
    assert again.status_code == 400
    assert "already has a petition launched from this one" in text(again)
    assert db.session.scalar(db.select(db.func.count()).select_from(Petition)
                             .where(Petition.parent_id == parent.id)) == 1


def test_country_petitions_launch_nothing_themselves(client: FlaskClient, login_as: Any, make_petition: Any,
                                                     parliaments: list[Any]) -> None:
    parent = make_petition()
    login_as(client, organiser_of=[parent.campaign_id])
    post(client, f"/console/petitions/{parent.id}/launch", {"countries": ["UA"]})
    child = db.session.scalar(db.select(Petition).where(Petition.parent_id == parent.id))
    assert child is not None
    assert client.get(f"/console/petitions/{child.id}/launch").status_code == 404
    assert "Launch country petitions" not in text(client.get(f"/console/petitions/{child.id}"))


def test_organiser_of_another_campaign_cannot_launch(client: FlaskClient, login_as: Any, make_petition: Any,
                                                     parliaments: list[Any]) -> None:
    parent = make_petition()
    login_as(client, organiser_of=[campaign("another")])
    assert client.get(f"/console/petitions/{parent.id}/launch").status_code == 403
    assert post(client, f"/console/petitions/{parent.id}/launch", {"countries": ["UA"]}).status_code == 403
    assert db.session.scalar(db.select(Petition).where(Petition.parent_id == parent.id)) is None


def test_a_country_petition_is_written_in_its_countrys_language(client: FlaskClient, login_as: Any,
                                                                 make_petition: Any, parliaments: list[Any]) -> None:
    """The campaign writes in en, uk and ru (CLDR names German as Germany's official language): its petition
    to the Bundestag also gets German text fields, and the German text is kept."""
    from tests.console.helpers import hidden

    parent = make_petition()
    login_as(client, organiser_of=[parent.campaign_id])
    post(client, f"/console/petitions/{parent.id}/launch", {"countries": ["DE"]})
    child = db.session.scalar(db.select(Petition).where(Petition.parent_id == parent.id))
    assert child is not None
    assert "de" not in child.title
    edit = text(client.get(f"/console/petitions/{child.id}/edit"))
    assert 'name="title_de"' in edit
    assert 'name="title_pl"' not in edit  # Poland's language is not Germany's
    values = {"slug": child.slug, "title_en": child.title["en"], "title_de": "Lasst alle frei",
              "summary_de": "Jeden Gefangenen freilassen.", "body_en": "Text.", "body_de": "Der Text.",
              "targets": [str(target.id) for target in child.targets], "closes_on": "", "goal": "300",
              "country_goals": "", "retention_days": "90", "version": hidden(edit, "version")}
    saved = post(client, f"/console/petitions/{child.id}/edit", values)
    assert saved.status_code == 303, text(saved)
    db.session.expire_all()
    assert child.title["de"] == "Lasst alle frei"
    assert child.body["de"] == "Der Text."
