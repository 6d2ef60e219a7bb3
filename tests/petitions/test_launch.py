"""Launching a campaign petition in countries: one draft per country, addressed to its parliament."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from advocacy.accounts.roles import Forbidden, Principal
from advocacy.extensions import db
from advocacy.petitions import services
from advocacy.petitions.models import PetitionStatus


@dataclass(frozen=True)
class Parliament:
    """The shape of advocacy.petitions.parliaments.Parliament (written in another branch)."""

    country: str
    slug: str
    name: dict[str, str] = field(hash=False)
    languages: tuple[str, ...]
    website: str


PARLIAMENTS = [
    Parliament("DE", "parliament-de", {"en": "German Bundestag", "de": "Deutscher Bundestag"}, ("de",),
               "https://www.bundestag.de"),
    Parliament("PL", "parliament-pl", {"en": "Sejm of the Republic of Poland", "pl": "Sejm Rzeczypospolitej Polskiej"},
               ("pl",), "https://www.sejm.gov.pl"),
    Parliament("UA", "parliament-ua", {"en": "Verkhovna Rada of Ukraine", "uk": "Верховна Рада України"}, ("uk",),
               "https://www.rada.gov.ua"),
]


@pytest.fixture
def parent(make_petition: Any) -> Any:
    return make_petition(slug="free-them-all", status=PetitionStatus.OPEN,
                         title={"en": "Free them all", "uk": "Звільніть усіх", "ru": "Освободите всех"},
                         summary={"en": "Release every captive.", "uk": "Звільніть кожного."},
                         body={"en": "Text.", "uk": "Текст.", "ru": "Текст."},
                         country_goals={"UA": 50_000, "PL": 10_000}, postcode_required=True, retention_days=90)


@pytest.fixture
def organiser(parent: Any) -> Principal:
    return Principal(user_id=1, campaign_ids=frozenset({parent.campaign_id}))


def test_one_draft_per_country_addressed_to_its_parliament(ctx, client, parent, organiser):
    launched = services.launch_country_petitions(parent.id, actor=organiser, countries=["ua", "PL"],
                                                 parliaments=PARLIAMENTS)
    db.session.commit()
    ukraine, poland = launched
    assert [p.slug for p in launched] == ["free-them-all-ua", "free-them-all-pl"]
    for petition in launched:
        assert petition.status == PetitionStatus.DRAFT
        assert petition.parent_id == parent.id
        assert petition.campaign_id == parent.campaign_id
        assert (petition.postcode_required, petition.retention_days) == (True, 90)
        assert client.get(f"/p/{petition.slug}").status_code == 404  # drafts to review
    assert (ukraine.country, ukraine.goal, ukraine.country_goals) == ("UA", 50_000, {"UA": 50_000})
    assert (poland.country, poland.goal, poland.country_goals) == ("PL", 10_000, {"PL": 10_000})
    assert [t.slug for t in ukraine.targets] == ["parliament-ua"]
    assert ukraine.targets[0].display_name("uk") == "Верховна Рада України"
    assert ukraine.targets[0].published_at is not None
    assert [t.slug for t in poland.targets] == ["parliament-pl"]
    # the campaign speaks en, uk and ru: every text the parent has in those is kept
    assert ukraine.title == parent.title
    assert ukraine.summary == parent.summary
    # they can go through moderation as they are
    services.submit_petition(ukraine.id, actor=organiser, version=ukraine.version)


def test_languages_are_the_countrys_english_and_the_campaigns(ctx, parent, organiser):
    campaign = parent.campaign
    services.update_campaign(campaign.id, actor=Principal(user_id=None, is_admin=True), version=campaign.version,
                             languages=["en"])
    (germany,) = services.launch_country_petitions(parent.id, actor=organiser, countries=["DE"],
                                                   parliaments=PARLIAMENTS)
    (ukraine,) = services.launch_country_petitions(parent.id, actor=organiser, countries=["UA"],
                                                   parliaments=PARLIAMENTS)
    assert germany.title == {"en": "Free them all"}
    assert germany.body == {"en": "Text."}
    assert (germany.goal, germany.country_goals) == (0, {})
    assert ukraine.title == {"en": "Free them all", "uk": "Звільніть усіх"}
    assert ukraine.summary == {"en": "Release every captive.", "uk": "Звільніть кожного."}


def test_an_existing_parliament_target_is_reused(ctx, parent, organiser):
    system = Principal(user_id=None, is_admin=True)
    existing = services.create_target("parliament-de", actor=system, name={"en": "Bundestag (ours)"}, country="DE")
    (germany,) = services.launch_country_petitions(parent.id, actor=organiser, countries=["DE"],
                                                   parliaments=PARLIAMENTS)
    assert germany.targets == [existing]
    assert existing.display_name("en") == "Bundestag (ours)"


def test_a_taken_slug_gets_a_number(ctx, make_petition, parent, organiser):
    make_petition(slug="free-them-all-de")
    (germany,) = services.launch_country_petitions(parent.id, actor=organiser, countries=["DE"],
                                                   parliaments=PARLIAMENTS)
    assert germany.slug == "free-them-all-de-2"


def test_unknown_and_already_launched_countries_are_refused_and_nothing_is_created(ctx, parent, organiser):
    services.launch_country_petitions(parent.id, actor=organiser, countries=["UA"], parliaments=PARLIAMENTS)
    db.session.commit()
    with pytest.raises(services.Rejected) as refused:
        services.launch_country_petitions(parent.id, actor=organiser, countries=["DE", "UA", "FR", "XX"],
                                          parliaments=PARLIAMENTS)
    assert refused.value.errors == {
        "UA": "Ukraine already has a petition launched from this one.",
        "FR": "France has no national parliament in the reference list.",
        "XX": "XX is not an ISO 3166 country code.",
    }
    db.session.rollback()
    assert services.find_target("parliament-de") is None
    assert [p.slug for p in services.public_petitions()] == ["free-them-all"]


def test_only_organisers_of_the_campaign_launch(ctx, parent):
    other = Principal(user_id=7, campaign_ids=frozenset({parent.campaign_id + 1}))
    with pytest.raises(Forbidden):
        services.launch_country_petitions(parent.id, actor=other, countries=["DE"], parliaments=PARLIAMENTS)
    assert services.find_target("parliament-de") is None


def test_country_petitions_are_not_launched_again_from_a_country_petition(ctx, parent, organiser):
    (ukraine,) = services.launch_country_petitions(parent.id, actor=organiser, countries=["UA"],
                                                   parliaments=PARLIAMENTS)
    with pytest.raises(services.Rejected) as refused:
        services.launch_country_petitions(ukraine.id, actor=organiser, countries=["PL"], parliaments=PARLIAMENTS)
    assert list(refused.value.errors) == ["petition"]


def test_the_reference_list_is_used_when_none_is_given(ctx, monkeypatch, parent, organiser):
    import sys
    import types

    module = types.ModuleType("advocacy.petitions.parliaments")
    module.all_parliaments = lambda: list(PARLIAMENTS)  # type: ignore[attr-defined]
    module.parliament_for = lambda code: next((p for p in PARLIAMENTS if p.country == code), None)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "advocacy.petitions.parliaments", module)
    (poland,) = services.launch_country_petitions(parent.id, actor=organiser, countries=["PL"])
    assert [t.slug for t in poland.targets] == ["parliament-pl"]
