"""The console's events pages, and the role checks of the events services behind them."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from advocacy.accounts.roles import SYSTEM, Forbidden, Principal
from advocacy.events import services
from advocacy.events.models import Event, EventDetails, EventStatus
from advocacy.extensions import db
from advocacy.petitions.models import Campaign
from tests.events.conftest import BEFORE_SPRING_CHANGE
from tests.events.test_services import GOOD, ics


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def other_campaign() -> Campaign:
    campaign = Campaign(slug="other-coalition", name={"en": "Other coalition"}, languages=["en"])
    db.session.add(campaign)
    db.session.commit()
    return campaign


@pytest.fixture
def campaign_id(make_petition: Any) -> int:
    make_petition(slug="free-civilians")
    return int(db.session.scalar(select(Campaign.id).where(Campaign.slug == "people-first")) or 0)


def form_values(token: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "csrf_token": token, "title_en": "Families speak at the Council", "title_uk": "Родини говорять у Раді",
        "description_en": "Families of captives speak to diplomats.", "kind": "side-event",
        "start_date": "2030-03-29", "start_time": "13:00", "end_date": "2030-03-29", "end_time": "14:30",
        "timezone": "Europe/Zurich", "venue": "Palais des Nations", "room": "Room XXII", "city": "Geneva",
        "country": "CH", "online_url": "", "hrc_session": "61", "organisers": "Center for Civil Liberties",
        "languages": "en", "interpretation": "uk, ru", "campaign": "people-first", "petitions": ["free-civilians"],
    }
    values.update(overrides)
    return values


def the_event() -> Event:
    db.session.expire_all()
    event = db.session.scalar(select(Event))
    assert event is not None
    return event


def test_organiser_creates_edits_publishes_and_cancels_an_event(client, login_as, campaign_id):
    login_as(client, organiser_of=[campaign_id])
    page = client.get("/console/events/new")
    assert page.status_code == 200
    assert 'value="Europe/Zurich" selected' in page.text or 'selected value="Europe/Zurich"' in page.text
    created = client.post("/console/events/new", data=form_values(csrf_token(page.text)))
    assert created.status_code == 302
    event = the_event()
    assert event.is_draft
    assert event.title == {"en": "Families speak at the Council", "uk": "Родини говорять у Раді"}
    assert event.local_start.hour == 13
    assert event.timezone == "Europe/Zurich"
    assert [p.slug for p in event.petitions] == ["free-civilians"]
    assert created.headers["Location"].endswith(f"/console/events/{event.id}")
    # a draft is not public
    assert client.get(f"/events/{event.id}").status_code == 404
    assert "Families speak at the Council" in client.get("/console/events/").text

    edit = client.get(f"/console/events/{event.id}")
    assert 'name="version"' in edit.text
    changed = client.post(f"/console/events/{event.id}", data=form_values(
        csrf_token(edit.text), version=str(event.version), title_en="Moved to Room XXIV", room="Room XXIV"))
    assert changed.status_code == 302
    event = the_event()
    assert (event.title["en"], event.room, event.sequence) == ("Moved to Room XXIV", "Room XXIV", 1)

    edit = client.get(f"/console/events/{event.id}")
    assert client.post(f"/console/events/{event.id}/publish",
                       data={"csrf_token": csrf_token(edit.text)}).status_code == 302
    assert not the_event().is_draft
    public = client.get(f"/events/{event.id}")
    assert public.status_code == 200
    assert "Moved to Room XXIV" in public.text

    confirm = client.get(f"/console/events/{event.id}/cancel")
    assert confirm.status_code == 200
    assert the_event().status == EventStatus.SCHEDULED  # asking is not cancelling
    assert client.post(f"/console/events/{event.id}/cancel",
                       data={"csrf_token": csrf_token(confirm.text)}).status_code == 302
    assert the_event().status == EventStatus.CANCELLED
    assert "This event has been cancelled." in client.get(f"/events/{event.id}").text


def test_publish_and_cancel_need_the_csrf_token(client, login_as, make_event, campaign_id):
    event = make_event(draft=True)
    login_as(client, organiser_of=[campaign_id])
    client.post(f"/console/events/{event.id}/publish", data={})
    client.post(f"/console/events/{event.id}/cancel", data={})
    event = the_event()
    assert event.is_draft
    assert not event.is_cancelled


def test_form_errors_are_shown_beside_fields_and_in_a_summary(client, login_as, campaign_id):
    login_as(client, organiser_of=[campaign_id])
    page = client.get("/console/events/new")
    answer = client.post("/console/events/new", data=form_values(
        csrf_token(page.text), title_en="", title_uk="", end_date="2030-03-28", venue="",
        online_url="ftp://example.org"))
    assert answer.status_code == 200
    assert 'class="error-summary"' in answer.text
    assert 'href="#title_en"' in answer.text
    assert "The event ends before it starts." in answer.text
    assert "The online link must start with https://." in answer.text
    assert 'id="end_time-error"' in answer.text
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_a_time_the_clocks_skip_is_refused_beside_the_field(client, login_as, campaign_id):
    login_as(client, organiser_of=[campaign_id])
    page = client.get("/console/events/new")
    answer = client.post("/console/events/new", data=form_values(
        csrf_token(page.text), start_date="2030-03-31", start_time="02:30", end_date="2030-03-31"))
    assert 'id="start_time-error"' in answer.text
    assert "does not exist" in answer.text


def test_a_stale_edit_is_refused_and_keeps_what_was_typed(client, login_as, make_event, campaign_id):
    event = make_event()
    login_as(client, organiser_of=[campaign_id])
    edit = client.get(f"/console/events/{event.id}")
    read = event.version
    # someone else saves meanwhile
    details = EventDetails(title={"en": "Someone else's title"}, starts_at=BEFORE_SPRING_CHANGE,
                           ends_at=BEFORE_SPRING_CHANGE + timedelta(hours=1), venue="Palais des Nations",
                           campaign_slug="people-first")
    services.update_event(event.uid, details, actor=SYSTEM, version=read)
    db.session.commit()
    answer = client.post(f"/console/events/{event.id}", data=form_values(
        csrf_token(edit.text), version=str(read), title_en="My careful new title"))
    assert answer.status_code == 200
    assert "Someone else changed this event since you opened it" in answer.text
    assert 'value="My careful new title"' in answer.text  # what was typed is kept
    assert "Someone else&#39;s title" in answer.text  # beside what is saved now
    assert the_event().title == {"en": "Someone else's title"}
    # the form now carries the current version: saving again is a deliberate choice
    assert f'name="version" type="hidden" value="{read + 1}"' in answer.text


def test_organiser_of_another_campaign_is_refused(client, login_as, make_event, campaign_id):
    event = make_event(draft=True)
    other = other_campaign()
    login_as(client, organiser_of=[other.id])
    assert client.get(f"/console/events/{event.id}").status_code == 403
    assert client.get(f"/console/events/{event.id}/cancel").status_code == 403
    # the token of a page this organiser may see
    token = csrf_token(client.get("/console/events/new").text)
    assert client.post(f"/console/events/{event.id}", data=form_values(token, version="1")).status_code == 403
    assert client.post(f"/console/events/{event.id}/publish", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/console/events/{event.id}/cancel", data={"csrf_token": token}).status_code == 403
    event = the_event()
    assert event.is_draft
    assert not event.is_cancelled
    assert event.sequence == 0
    # not listed, and the campaign cannot be chosen
    listing = client.get("/console/events/")
    assert event.uid not in listing.text
    page = client.get("/console/events/new")
    assert 'value="people-first"' not in page.text
    answer = client.post("/console/events/new", data=form_values(token, campaign="people-first", petitions=[]))
    assert answer.status_code == 200
    assert 'href="#campaign"' in answer.text
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1


def test_admin_sees_every_event_and_may_leave_the_campaign_out(client, login_as, make_event, campaign_id):
    make_event(draft=True, title={"en": "Draft of the coalition"})
    login_as(client, admin=True)
    listing = client.get("/console/events/")
    assert "Draft of the coalition" in listing.text
    page = client.get("/console/events/new")
    assert 'value="people-first"' in page.text
    answer = client.post("/console/events/new", data=form_values(csrf_token(page.text), campaign="", petitions=[]))
    assert answer.status_code == 302


def test_anonymous_is_sent_to_login(client, make_event, campaign_id):
    event = make_event()
    for path in ("/console/events/", "/console/events/new", f"/console/events/{event.id}",
                 f"/console/events/{event.id}/cancel", "/console/events/import"):
        answer = client.get(path)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/login")
    # a post without a console session has no valid CSRF token either: refused by one check or the other
    for path in (f"/console/events/{event.id}/publish", f"/console/events/{event.id}/cancel",
                 "/console/events/import", "/console/events/new"):
        answer = client.post(path, data={})
        assert answer.status_code in {302, 400}
        if answer.status_code == 302:
            assert answer.headers["Location"].startswith("/login")
    assert client.post("/console/events/import", data={}).status_code == 302
    assert the_event().status == EventStatus.SCHEDULED


def test_a_liaison_is_refused(client, login_as, make_event, campaign_id):
    # (in a test of its own: requests share the test's app context, so Flask-Login's user cached in ``g`` by an
    # anonymous request would outlive a later login_as)
    event = make_event()
    liaison = client
    login_as(liaison, liaison_of=[1])
    assert liaison.get(f"/console/events/{event.id}").status_code == 403
    for path in ("/console/events/", "/console/events/new", f"/console/events/{event.id}/cancel",
                 "/console/events/import"):
        assert liaison.get(path).status_code == 403
    assert 'href="/console/events/"' not in liaison.get("/console/").text
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1


def test_the_console_links_to_events_for_organisers(client, login_as, campaign_id):
    login_as(client, organiser_of=[campaign_id])
    assert 'href="/console/events/"' in client.get("/console/").text


def upload(client: Any, data: bytes, *, campaign: str = "people-first", name: str = "events.ics") -> Any:
    token = csrf_token(client.get("/console/events/import").text)
    return client.post("/console/events/import", content_type="multipart/form-data", data={
        "csrf_token": token, "campaign": campaign, "locale": "en", "timezone": "Europe/Zurich",
        "file": (io.BytesIO(data), name),
    })


def test_import_of_a_valid_file_creates_events(client, login_as, campaign_id):
    login_as(client, organiser_of=[campaign_id])
    answer = upload(client, ics(GOOD))
    assert answer.status_code == 200
    assert re.search(r'id="created">\s*1<', answer.text)
    event = the_event()
    assert event.uid == "hrc61-civilians@partner.example"
    assert event.campaign_id == campaign_id
    assert not event.is_draft
    again = upload(client, ics(GOOD))
    assert re.search(r'id="unchanged">\s*1<', again.text)


def test_import_refuses_an_event_of_another_campaign_and_says_why(client, login_as, make_event, campaign_id):
    make_event(uid="theirs@test")
    other = other_campaign()
    login_as(client, organiser_of=[other.id])
    answer = upload(client, ics(GOOD, GOOD.replace("hrc61-civilians@partner.example", "theirs@test")),
                    campaign="other-coalition")
    assert re.search(r'id="created">\s*1<', answer.text)
    assert re.search(r'id="refused">\s*1<', answer.text)
    assert "theirs@test" in answer.text
    db.session.expire_all()
    theirs = services.get_event("theirs@test")
    assert theirs.campaign_id == campaign_id
    assert theirs.sequence == 0


@pytest.mark.parametrize(("data", "message"), [
    (b"x" * (services.MAX_ICS_BYTES + 1), "larger than 5 MB"),
    (b"x" * (services.MAX_ICS_BYTES + 200_000), "larger than 5 MB"),
    (b"\x89PNG\r\n\x1a\n not a calendar at all", ""),
])
def test_an_oversize_or_garbage_upload_is_refused_and_nothing_saved(client, login_as, campaign_id, data, message):
    login_as(client, organiser_of=[campaign_id])
    answer = upload(client, data)
    assert answer.status_code == 400
    assert 'class="error-summary"' in answer.text
    assert message in answer.text
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_import_cannot_name_a_foreign_campaign(client, login_as, campaign_id):
    other = other_campaign()
    login_as(client, organiser_of=[other.id])
    answer = upload(client, ics(GOOD), campaign="people-first")
    assert 'href="#campaign"' in answer.text
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


# ---------------------------------------------------------------- the services' own checks


def details(**overrides: Any) -> EventDetails:
    values: dict[str, Any] = {
        "title": {"en": "Side-event"}, "starts_at": BEFORE_SPRING_CHANGE,
        "ends_at": BEFORE_SPRING_CHANGE + timedelta(hours=1), "venue": "Palais des Nations",
        "campaign_slug": "people-first",
    }
    values.update(overrides)
    return EventDetails(**values)


def test_services_refuse_the_wrong_actor(make_event, campaign_id):
    event = make_event(uid="theirs@test", draft=True)
    other = other_campaign()
    stranger = Principal(user_id=99, campaign_ids=frozenset({other.id}))
    nobody = Principal(user_id=98)
    with pytest.raises(Forbidden):
        services.create_event(details(), actor=stranger)
    with pytest.raises(Forbidden):
        services.create_event(details(campaign_slug=None), actor=stranger)  # no campaign: admins only
    with pytest.raises(Forbidden):
        services.update_event(event.uid, details(), actor=stranger, version=event.version)
    with pytest.raises(Forbidden):  # moving one's event to a campaign one does not organise
        services.update_event(event.uid, details(campaign_slug="other-coalition"),
                              actor=Principal(user_id=97, campaign_ids=frozenset({campaign_id})),
                              version=event.version)
    with pytest.raises(Forbidden):
        services.publish_event(event.uid, actor=stranger)
    with pytest.raises(Forbidden):
        services.cancel_event(event.uid, actor=stranger)
    with pytest.raises(Forbidden):
        services.import_ics(io.BytesIO(ics(GOOD)), actor=nobody)
    with pytest.raises(Forbidden):
        services.manageable_events(nobody)
    with pytest.raises(Forbidden):
        services.import_ics(io.BytesIO(ics(GOOD)), actor=stranger, campaign_slug="people-first")
    db.session.rollback()
    event = services.get_event("theirs@test")
    assert event.is_draft
    assert event.status == EventStatus.SCHEDULED


def test_services_let_the_campaigns_organisers_and_admins_act(make_event, campaign_id):
    from advocacy.accounts.models import User

    # real accounts: the audit log names who acted
    people = [User(email=f"p{n}@coalition.test", email_index=f"p{n}") for n in (1, 2)]
    db.session.add_all(people)
    db.session.flush()
    organiser = Principal(user_id=people[0].id, campaign_ids=frozenset({campaign_id}))
    admin = Principal(user_id=people[1].id, is_admin=True)
    event = services.create_event(details(petition_slugs=("free-civilians",)), actor=organiser)
    services.publish_event(event.uid, actor=organiser)
    services.update_event(event.uid, details(title={"en": "Changed"}), actor=admin, version=event.version)
    services.cancel_event(event.uid, actor=organiser)
    loose = services.create_event(details(campaign_slug=None), actor=admin)
    db.session.commit()
    assert loose.campaign_id is None
    assert services.manageable_events(organiser)[0] + services.manageable_events(organiser)[1] == [event]
    with pytest.raises(Forbidden):
        services.publish_event(loose.uid, actor=organiser)


def test_petitions_must_belong_to_the_events_campaign(make_petition, campaign_id):
    other = other_campaign()
    with pytest.raises(services.EventRejected, match="another campaign"):
        services.create_event(details(campaign_slug=other.slug, petition_slugs=("free-civilians",)), actor=SYSTEM)
    with pytest.raises(services.EventRejected, match="choose the campaign"):
        services.create_event(details(campaign_slug=None, petition_slugs=("free-civilians",)), actor=SYSTEM)
