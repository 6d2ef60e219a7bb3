"""Petition lookups as pages and the API use them: drafts stay hidden, closing dates close petitions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from advocacy.accounts.roles import SYSTEM, Forbidden, Principal
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.petitions import services
from advocacy.petitions.models import Campaign, DataSharing, DeliveryChannel, Petition, PetitionStatus, Target
from advocacy.petitions.services import PetitionNotFound, get_petition, public_petitions


def test_get_petition_finds_published_ones_by_slug(make_petition):
    opened = make_petition(slug="free-them-all")
    closed = make_petition(slug="closed-one", status=PetitionStatus.CLOSED)
    assert get_petition("free-them-all").id == opened.id
    assert get_petition("closed-one").id == closed.id


def test_drafts_are_hidden_unless_asked_for(make_petition):
    draft = make_petition(slug="work-in-progress", status=PetitionStatus.DRAFT)
    with pytest.raises(PetitionNotFound):
        get_petition("work-in-progress")
    assert get_petition("work-in-progress", include_drafts=True).id == draft.id


def test_an_unknown_slug_is_not_found(make_petition):
    make_petition()
    with pytest.raises(PetitionNotFound):
        get_petition("no-such-petition")
    with pytest.raises(PetitionNotFound):
        get_petition("no-such-petition", include_drafts=True)


def test_public_petitions_list_open_and_closed_but_never_drafts(make_petition):
    opened = make_petition()
    closed = make_petition(status=PetitionStatus.CLOSED)
    make_petition(status=PetitionStatus.DRAFT)
    assert [p.id for p in public_petitions()] == [opened.id, closed.id]


def test_only_open_leaves_out_closed_ones_and_those_past_their_closing_date(make_petition):
    now = utcnow()
    open_for_a_week = make_petition(closes_at=now + timedelta(days=7))
    make_petition(closes_at=now - timedelta(minutes=1))  # still marked open, but its date has passed
    make_petition(status=PetitionStatus.CLOSED)
    make_petition(status=PetitionStatus.DRAFT)
    open_forever = make_petition()
    assert [p.id for p in public_petitions(only_open=True)] == [open_for_a_week.id, open_forever.id]
    # a petition whose date has passed is still listed among all public ones, as closed
    everything = public_petitions()
    assert len(everything) == 4
    assert [p.is_open() for p in everything] == [True, False, False, True]


def test_public_petitions_follow_their_position(make_petition):
    third = make_petition(position=3)
    first = make_petition(position=1)
    second = make_petition(position=2)
    assert [p.id for p in public_petitions()] == [first.id, second.id, third.id]


def test_is_open_depends_on_status_and_closing_date(make_petition):
    closes_at = utcnow() + timedelta(days=1)
    petition = make_petition(closes_at=closes_at)
    assert petition.is_open()
    assert petition.is_open(now=closes_at - timedelta(seconds=1))
    # it closes at the moment given, not a moment later
    assert not petition.is_open(now=closes_at)
    assert not petition.is_open(now=closes_at + timedelta(days=1))
    assert not make_petition(status=PetitionStatus.CLOSED).is_open()
    assert not make_petition(status=PetitionStatus.DRAFT).is_open()
    assert make_petition().is_open(now=utcnow() + timedelta(days=3650))  # no date: open until closed


def test_closing_dates_are_kept_in_utc(make_petition):
    closes_at = utcnow().replace(microsecond=0) + timedelta(days=30)
    petition = make_petition(slug="dated", closes_at=closes_at)
    db.session.expire_all()
    found = get_petition("dated")
    assert found.id == petition.id
    assert found.closes_at == closes_at
    assert found.closes_at.utcoffset() == timedelta(0)


# --- create, update, publish ----------------------------------------------------------------------------

def _campaign_and_target() -> tuple[Campaign, Target]:
    campaign = services.create_campaign("free-them-all", actor=SYSTEM,
                                        name={"en": "Free them all", "uk": "Звільніть усіх"}, languages=["en", "uk"])
    target = services.create_target("sejm", actor=SYSTEM, name={"en": "Sejm of the Republic of Poland"},
                                    country="pl")
    return campaign, target


def test_a_new_petition_is_a_draft_nobody_sees_until_it_is_published(ctx, client):
    campaign, target = _campaign_and_target()
    petition = services.create_petition("free-civilians-pl", actor=SYSTEM, campaign_id=campaign.id,
                                        title={"en": "Free the civilians"}, target_ids=[target.id])
    db.session.commit()
    assert petition.status == PetitionStatus.DRAFT
    assert petition.version == 1
    assert client.get("/p/free-civilians-pl").status_code == 404
    assert client.get("/api/v1/petitions/free-civilians-pl").status_code == 404

    # its campaign and target are drafts too: it cannot go public before them
    with pytest.raises(services.NotPublishable, match=r"campaign is not published.*target is not published"):
        services.publish_petition(petition.id, actor=SYSTEM)
    services.publish_campaign(campaign.id, actor=SYSTEM)
    services.publish_target(target.id, actor=SYSTEM)
    assert target.country == "PL"
    opened = services.publish_petition(petition.id, actor=SYSTEM)
    db.session.commit()
    assert opened.status == PetitionStatus.OPEN
    assert opened.version == 2
    assert client.get("/p/free-civilians-pl").status_code == 200
    # publishing again changes nothing, not even the version
    assert services.publish_petition(petition.id, actor=SYSTEM).version == 2


def test_a_stale_edit_is_refused_and_changes_nothing(ctx, make_petition):
    petition = make_petition(slug="edited", status=PetitionStatus.DRAFT)
    read_by_both = petition.version
    services.update_petition(petition.id, actor=SYSTEM, version=read_by_both, title={"en": "Organiser A's title"},
                             goal=500)
    db.session.commit()
    with pytest.raises(services.StaleEdit, match=f"version {read_by_both + 1}") as refused:
        services.update_petition(petition.id, actor=SYSTEM, version=read_by_both,
                                 title={"en": "Organiser B's title"})
    assert refused.value.current_version == read_by_both + 1
    db.session.rollback()
    db.session.expire_all()
    stored = services.get_petition("edited", include_drafts=True)
    assert stored.title == {"en": "Organiser A's title"}
    assert stored.goal == 500
    # editing the version just read works, and a change of targets alone counts as a change
    target = services.create_target("ep", actor=SYSTEM, name={"en": "European Parliament"}, country=None)
    services.update_petition(petition.id, actor=SYSTEM, version=stored.version, target_ids=[target.id])
    db.session.commit()
    assert [t.slug for t in services.get_petition("edited", include_drafts=True).targets] == ["ep"]
    assert services.get_petition("edited", include_drafts=True).version == read_by_both + 2


def test_an_edit_that_loses_a_race_with_another_process_is_refused(app, ctx, make_petition):
    petition = make_petition(slug="raced")
    version = petition.version
    # another organiser's change commits between our read and our write
    with app.app_context():
        other = db.session.get(Petition, petition.id)
        services.update_petition(other.id, actor=SYSTEM, version=other.version, goal=7)
        db.session.commit()
        db.session.remove()
    with pytest.raises(services.StaleEdit):
        services.update_petition(petition.id, actor=SYSTEM, version=version, goal=9)
    db.session.rollback()
    assert db.session.get(Petition, petition.id).goal == 7


def test_services_flush_and_the_caller_commits(ctx):
    campaign, _target = _campaign_and_target()
    assert campaign.id is not None  # flushed: the caller can use the id in the same transaction
    db.session.rollback()
    assert services.find_campaign("free-them-all") is None


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"slug": "Not A Slug"}, "slug"),
    ({"title": {}}, "title"),
    ({"title": {"xx": "Unknown language"}}, "title"),
    ({"goal": -1}, "goal"),
    ({"country_goals": {"ZZ": 5}}, "country_goals"),
    ({"retention_days": 0}, "retention_days"),
    ({"target_ids": [999_999]}, "targets"),
])
def test_bad_input_is_refused_with_the_field_and_nothing_is_stored(ctx, kwargs, field):
    campaign, target = _campaign_and_target()
    values = {"slug": "fine-slug", "campaign_id": campaign.id, "title": {"en": "Fine"}, "target_ids": [target.id],
              **kwargs}
    with pytest.raises(services.Rejected) as rejected:
        services.create_petition(values.pop("slug"), actor=SYSTEM, **values)
    assert list(rejected.value.errors) == [field]
    assert db.session.scalar(select(Petition.id).where(Petition.slug == "fine-slug")) is None


def test_a_taken_slug_is_refused(ctx, make_petition):
    make_petition(slug="taken")
    campaign = services.find_campaign("people-first")
    with pytest.raises(services.Rejected, match="The address taken is taken"):
        services.create_petition("taken", actor=SYSTEM, campaign_id=campaign.id, title={"en": "Again"})


def test_closing_stops_signing_and_starts_the_retention_clock(ctx, make_petition):
    petition = make_petition(slug="to-close")
    closed = services.close_petition(petition.id, actor=SYSTEM)
    db.session.commit()
    assert closed.status == PetitionStatus.CLOSED
    assert not closed.is_open()
    assert closed.closes_at is not None
    assert closed.closes_at <= utcnow()
    with pytest.raises(services.InvalidTransition, match="cannot be opened again"):
        services.publish_petition(petition.id, actor=SYSTEM)


def test_campaigns_and_targets_are_edited_on_a_version_too(ctx):
    campaign, target = _campaign_and_target()
    services.update_campaign(campaign.id, actor=SYSTEM, version=1, name={"en": "Free them all!"})
    services.update_target(target.id, actor=SYSTEM, version=1, data_sharing=DataSharing.COUNTS_ONLY)
    db.session.commit()
    with pytest.raises(services.StaleEdit):
        services.update_campaign(campaign.id, actor=SYSTEM, version=1, website="https://example.org")
    with pytest.raises(services.StaleEdit):
        services.update_target(target.id, actor=SYSTEM, version=1, country="DE")
    db.session.rollback()
    assert services.find_target("sejm").country == "PL"


def test_refusals_speak_the_editors_language(ctx):
    from flask_babel import force_locale

    with force_locale("uk"), pytest.raises(services.Rejected) as rejected:
        services.create_campaign("Not A Slug", actor=SYSTEM, name={})
    assert rejected.value.errors == {
        "slug": "Адреса складається з малих латинських літер, цифр і поодиноких дефісів, не довша за 80 символів.",
        "name": "Наведіть текст принаймні однією мовою.",
    }


# --- who may do what ----------------------------------------------------------------------------------------

def _organiser_of(campaign_id: int, user_id: int = 1) -> Principal:
    return Principal(user_id=user_id, campaign_ids=frozenset({campaign_id}))


def test_only_an_admin_creates_a_campaign(ctx):
    organiser = Principal(user_id=1, campaign_ids=frozenset({1}))
    with pytest.raises(Forbidden):
        services.create_campaign("new-one", actor=organiser, name={"en": "New"})
    assert services.find_campaign("new-one") is None
    created = services.create_campaign("new-one", actor=Principal(user_id=2, is_admin=True), name={"en": "New"})
    assert created.id is not None


def test_organisers_change_and_publish_their_own_campaigns_only(ctx):
    campaign, _target = _campaign_and_target()
    stranger = _organiser_of(campaign.id + 1)
    with pytest.raises(Forbidden):
        services.update_campaign(campaign.id, actor=stranger, version=1, name={"en": "Hijacked"})
    with pytest.raises(Forbidden):
        services.publish_campaign(campaign.id, actor=stranger)
    ours = _organiser_of(campaign.id)
    services.update_campaign(campaign.id, actor=ours, version=1, sender_name="People First coalition",
                             email_footer={"en": "You signed a petition of People First.", "uk": "Ви підписали."})
    services.publish_campaign(campaign.id, actor=ours)
    assert campaign.name == {"en": "Free them all", "uk": "Звільніть усіх"}
    assert campaign.sender_name == "People First coalition"
    assert campaign.email_footer["uk"] == "Ви підписали."
    assert campaign.published_at is not None


def test_any_organiser_manages_targets_but_nobody_else(ctx):
    nobody = Principal(user_id=3)
    liaison = Principal(user_id=4, target_ids=frozenset({1}))
    for actor in (nobody, liaison):
        with pytest.raises(Forbidden):
            services.create_target("ep", actor=actor, name={"en": "European Parliament"}, country=None)
    target = services.create_target("ep", actor=_organiser_of(99), name={"en": "European Parliament"}, country=None)
    with pytest.raises(Forbidden):
        services.update_target(target.id, actor=liaison, version=1, website="https://europarl.europa.eu")
    with pytest.raises(Forbidden):
        services.publish_target(target.id, actor=nobody)
    assert target.published_at is None


def test_petitions_are_created_and_edited_by_organisers_of_their_campaign(ctx):
    campaign, target = _campaign_and_target()
    stranger = _organiser_of(campaign.id + 1)
    with pytest.raises(Forbidden):
        services.create_petition("theirs", actor=stranger, campaign_id=campaign.id, title={"en": "Not yours"})
    petition = services.create_petition("ours", actor=_organiser_of(campaign.id), campaign_id=campaign.id,
                                        title={"en": "Ours"}, target_ids=[target.id])
    with pytest.raises(Forbidden):
        services.update_petition(petition.id, actor=stranger, version=1, title={"en": "Hijacked"})
    with pytest.raises(Forbidden):
        services.submit_petition(petition.id, actor=stranger, version=1)
    assert petition.title == {"en": "Ours"}
    assert petition.status == PetitionStatus.DRAFT


# --- new fields ---------------------------------------------------------------------------------------------

def test_a_target_has_a_contact_address_and_a_delivery_channel(ctx):
    target = services.create_target("sejm-committee", actor=SYSTEM, name={"en": "Sejm committee"}, country="PL",
                                    contact_email=" Petycje@Sejm.gov.pl ")
    assert target.contact_email == "Petycje@sejm.gov.pl"
    assert target.delivery_channel == DeliveryChannel.EMAIL
    services.update_target(target.id, actor=SYSTEM, version=1, delivery_channel=DeliveryChannel.WEBHOOK,
                           webhook_url="https://hooks.example.org/petitions")
    assert (target.delivery_channel, target.webhook_url) == (DeliveryChannel.WEBHOOK,
                                                             "https://hooks.example.org/petitions")


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"contact_email": "not an address"}, "contact_email"),
    ({"delivery_channel": DeliveryChannel.WEBHOOK}, "webhook_url"),
    ({"delivery_channel": DeliveryChannel.WEBHOOK, "webhook_url": "http://hooks.example.org/x"}, "webhook_url"),
    ({"webhook_url": "https://"}, "webhook_url"),
])
def test_bad_contact_details_are_refused(ctx, kwargs, field):
    with pytest.raises(services.Rejected) as rejected:
        services.create_target("bad", actor=SYSTEM, name={"en": "Bad"}, country=None, **kwargs)
    assert list(rejected.value.errors) == [field]
    assert services.find_target("bad") is None


def test_a_sender_name_cannot_smuggle_an_address(ctx):
    with pytest.raises(services.Rejected) as rejected:
        services.create_campaign("c", actor=SYSTEM, name={"en": "C"}, sender_name="Org <evil@example.org>")
    assert list(rejected.value.errors) == ["sender_name"]


def test_only_the_organisers_of_the_campaigns_addressing_a_target_may_change_it(ctx, make_petition):
    """A target's contact address and channel decide where signers' names go: another campaign's organiser
    may not redirect them, not even after addressing a petition of their own to it."""
    petition = make_petition()  # People First, addressed to the Bundestag
    target = petition.targets[0]
    ours = Principal(user_id=1, campaign_ids=frozenset({petition.campaign_id}))
    other_campaign = services.create_campaign("other-coalition", actor=SYSTEM, name={"en": "Other"})
    theirs = Principal(user_id=2, campaign_ids=frozenset({other_campaign.id}))
    with pytest.raises(Forbidden):
        services.update_target(target.id, actor=theirs, version=target.version, contact_email="me@evil.example.org")
    services.create_petition("their-own", actor=theirs, campaign_id=other_campaign.id, title={"en": "Theirs"},
                             target_ids=[target.id])
    with pytest.raises(Forbidden):
        services.update_target(target.id, actor=theirs, version=target.version, contact_email="me@evil.example.org")
    with pytest.raises(Forbidden):  # ours no longer alone either: only an admin now
        services.update_target(target.id, actor=ours, version=target.version, contact_email="me@ours.example.org")
    services.update_target(target.id, actor=SYSTEM, version=target.version,
                           contact_email="petitions@bundestag.example.org")
    unused = services.create_target("unused", actor=theirs, name={"en": "Unused"}, country="PL")
    services.update_target(unused.id, actor=theirs, version=unused.version, website="https://sejm.test")
    db.session.flush()
    assert target.contact_email == "petitions@bundestag.example.org"
