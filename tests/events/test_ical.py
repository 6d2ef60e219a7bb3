"""The feeds, read back with an independent parser (vobject), as a calendar app would read them."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import vobject

from advocacy.accounts.roles import SYSTEM
from advocacy.events import services
from advocacy.events.models import EventDetails, EventKind
from advocacy.extensions import db
from tests.events.conftest import AFTER_SPRING_CHANGE, BEFORE_SPRING_CHANGE, GENEVA

TRICKY = ("Side-event, Room XXII; \"captives\" \\ families\nSecond line — " + "Звільніть усіх полонених " * 6).strip()


def parse(response):
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return vobject.readOne(response.get_data(as_text=True))


def by_uid(calendar):
    return {str(e.uid.value): e for e in calendar.vevent_list}


def test_feed_parses_back_with_times_right_across_the_spring_change(client, make_event):
    before = make_event(start=BEFORE_SPRING_CHANGE)
    after = make_event(start=AFTER_SPRING_CHANGE)
    calendar = parse(client.get("/events/feed.ics"))
    events = by_uid(calendar)
    assert set(events) == {before.uid, after.uid}
    # vobject builds the zone from our VTIMEZONE block, not from tzdata
    assert [tz.tzid.value for tz in calendar.vtimezone_list] == ["Europe/Zurich"]
    start_before = events[before.uid].dtstart.value
    start_after = events[after.uid].dtstart.value
    assert start_before.astimezone(UTC) == datetime(2030, 3, 29, 12, 0, tzinfo=UTC)
    assert start_after.astimezone(UTC) == datetime(2030, 4, 1, 11, 0, tzinfo=UTC)
    assert (start_before.hour, start_after.hour) == (13, 13)
    assert events[after.uid].dtend.value.astimezone(UTC) == datetime(2030, 4, 1, 12, 30, tzinfo=UTC)
    raw = client.get("/events/feed.ics").get_data(as_text=True)
    assert "DTSTART;TZID=Europe/Zurich:20300401T130000" in raw


def test_feed_times_right_across_the_autumn_change(client, make_event):
    before = make_event(start=datetime(2030, 10, 25, 13, 0, tzinfo=GENEVA))
    after = make_event(start=datetime(2030, 10, 28, 13, 0, tzinfo=GENEVA))
    events = by_uid(parse(client.get("/events/feed.ics")))
    assert events[before.uid].dtstart.value.astimezone(UTC).hour == 11
    assert events[after.uid].dtstart.value.astimezone(UTC).hour == 12


def test_every_event_has_uid_dtstamp_sequence_and_status(client, make_event):
    kept = make_event()
    dropped = make_event(uid="dropped@test")
    services.cancel_event("dropped@test", actor=SYSTEM)
    db.session.commit()
    events = by_uid(parse(client.get("/events/feed.ics")))
    for event in events.values():
        assert event.dtstamp.value.tzinfo is not None
        assert event.url.value.startswith("https://petitions.test/events/")
    assert events[kept.uid].status.value == "CONFIRMED"
    assert events[kept.uid].sequence.value == "0"
    assert events[dropped.uid].status.value == "CANCELLED"
    assert events[dropped.uid].sequence.value == "1"


def test_uid_stays_and_sequence_rises_when_an_event_changes(client, make_event):
    event = make_event(uid="stable@test")
    first = by_uid(parse(client.get("/events/feed.ics")))["stable@test"]
    services.import_ics(io.BytesIO(client.get("/events/feed.ics").data), actor=SYSTEM)  # our own feed: nothing changes
    db.session.commit()
    assert by_uid(parse(client.get("/events/feed.ics")))["stable@test"].sequence.value == "0"
    details = EventDetails(title={"en": "Moved"}, starts_at=AFTER_SPRING_CHANGE,
                                    ends_at=AFTER_SPRING_CHANGE.replace(hour=15), venue="Palais des Nations")
    services.update_event(event.uid, details, version=event.version, actor=SYSTEM)
    db.session.commit()
    second = by_uid(parse(client.get("/events/feed.ics")))["stable@test"]
    assert first.sequence.value == "0"
    assert second.sequence.value == "1"
    assert second.summary.value == "Moved"
    assert second.dtstamp.value >= first.dtstamp.value


def test_text_is_escaped_and_folded(client, make_event):
    event = make_event(title={"en": TRICKY}, description={"en": TRICKY}, organisers=("Memorial, in exile",))
    response = client.get(f"/events/{event.id}.ics")
    raw = response.data
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n")
    assert all(len(line) <= 75 for line in lines), "content lines are folded at 75 octets"
    assert b"\n" not in raw.replace(b"\r\n", b"")
    parsed = by_uid(parse(response))[event.uid]
    assert parsed.summary.value == TRICKY
    assert parsed.description.value.startswith(TRICKY)
    assert "Memorial, in exile" in parsed.description.value
    assert parsed.location.value == "Room XXII, Palais des Nations, Geneva"


def test_single_event_feed_is_an_add_to_calendar_download(client, make_event):
    event = make_event()
    make_event()
    response = client.get(f"/events/{event.id}.ics")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    calendar = parse(response)
    assert list(by_uid(calendar)) == [event.uid]
    assert calendar.vtimezone.tzid.value == "Europe/Zurich"
    assert client.get("/events/999.ics").status_code == 404


def test_feed_text_in_the_chosen_language(client, make_event):
    event = make_event()
    response = client.get("/events/feed.ics?lang=uk")
    parsed = by_uid(parse(response))[event.uid]
    assert parsed.summary.value == event.title["uk"]
    assert parsed.summary.params["LANGUAGE"] == ["uk"]


def test_campaign_and_session_feeds(client, make_event):
    at_61 = make_event(hrc_session=61)
    at_62 = make_event(hrc_session=62)
    elsewhere = make_event(campaign_slug=None, hrc_session=None)
    assert set(by_uid(parse(client.get("/events/sessions/61.ics")))) == {at_61.uid}
    assert set(by_uid(parse(client.get("/events/sessions/62.ics")))) == {at_62.uid}
    assert set(by_uid(parse(client.get("/events/campaigns/people-first.ics")))) == {at_61.uid, at_62.uid}
    assert set(by_uid(parse(client.get("/events/feed.ics")))) == {at_61.uid, at_62.uid, elsewhere.uid}
    assert client.get("/events/campaigns/nobody.ics").status_code == 404
    # an empty session still gives a valid calendar
    assert parse(client.get("/events/sessions/99.ics")).contents.get("vevent") is None


def test_links_come_from_the_base_url_not_the_host_header(client, make_event):
    event = make_event()
    # a foreign Host is refused outright (tests/test_proxy.py); a second name of the site (the test client's
    # localhost) or a forwarded host changes no link
    assert client.get("/events/feed.ics", base_url="http://attacker.example").status_code == 400
    response = client.get("/events/feed.ics", headers={"X-Forwarded-Host": "attacker.example"})
    parsed = parse(response)
    assert by_uid(parsed)[event.uid].url.value == f"https://petitions.test/events/{event.id}"
    assert "attacker" not in response.get_data(as_text=True)


def test_feed_is_stable_between_requests(client, make_event):
    make_event(timezone="Europe/Berlin")
    make_event()
    first, second = client.get("/events/feed.ics"), client.get("/events/feed.ics")
    assert first.data == second.data
    calendar = parse(first)
    assert [tz.tzid.value for tz in calendar.vtimezone_list] == ["Europe/Berlin", "Europe/Zurich"]
    # unchanged feeds answer 304 to a client that has them
    etag = first.headers["ETag"]
    assert client.get("/events/feed.ics", headers={"If-None-Match": etag}).status_code == 304


def test_our_feed_imports_back_unchanged(client, make_event, make_petition):
    make_petition(slug="free-civilians")
    original = make_event(kind=EventKind.HAND_IN, online_url="https://meet.example/x",
                          petition_slugs=("free-civilians",),
                          title={"en": "Hand-in, Berlin", "uk": "Передання"}, timezone="Europe/Berlin")
    feed = client.get("/events/feed.ics").data
    outcome = services.import_ics(io.BytesIO(feed), actor=SYSTEM)
    assert outcome.unchanged == [original.uid]


def test_a_draft_is_in_no_feed_until_published(client, make_event):
    shown = make_event(hrc_session=61)
    draft = make_event(uid="draft@test", draft=True, hrc_session=61)
    feeds = ["/events/feed.ics", "/events/sessions/61.ics", "/events/campaigns/people-first.ics"]
    for url in feeds:
        assert set(by_uid(parse(client.get(url)))) == {shown.uid}, url
    assert client.get(f"/events/{draft.id}.ics").status_code == 404

    services.publish_event("draft@test", actor=SYSTEM)
    db.session.commit()
    for url in feeds:
        assert set(by_uid(parse(client.get(url)))) == {shown.uid, draft.uid}, url
    published = by_uid(parse(client.get(f"/events/{draft.id}.ics")))[draft.uid]
    assert published.sequence.value == "0"  # calendars never saw the draft: publishing is no change to them


def test_a_petition_awaiting_approval_is_named_by_no_event_page_or_feed(client, make_event, make_petition):
    from advocacy.petitions.models import PetitionStatus

    make_petition(slug="free-civilians")
    make_petition(slug="secret-draft", status=PetitionStatus.DRAFT, title={"en": "Not yet public"})
    event = make_event(petition_slugs=("free-civilians", "secret-draft"))
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "/p/free-civilians" in page
    assert "secret-draft" not in page
    assert "Not yet public" not in page
    for url in ("/events/feed.ics", f"/events/{event.id}.ics"):
        feed = client.get(url).get_data(as_text=True)
        assert "free-civilians" in feed, url
        assert "secret-draft" not in feed, url
