"""Scheduling, changing, cancelling and importing events; finding them for pages."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from advocacy.accounts.roles import SYSTEM
from advocacy.events import services
from advocacy.events.demo import EVENTS, load_demo_events
from advocacy.events.models import Event, EventDetails, EventKind, EventStatus
from advocacy.events.services import EventFilter, EventRejected
from advocacy.extensions import db
from tests.events.conftest import AFTER_SPRING_CHANGE, BEFORE_SPRING_CHANGE, GENEVA

PAST = datetime(2020, 3, 10, 13, 0, tzinfo=GENEVA)


def count_events() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Event)) or 0)


def ics(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n".encode()


GOOD = """UID:hrc61-civilians@partner.example
SUMMARY:People first: civilians in captivity
SUMMARY;LANGUAGE=uk:Люди передусім: цивільні в полоні
DTSTART;TZID=Europe/Zurich:20300329T130000
DTEND;TZID=Europe/Zurich:20300329T143000
LOCATION:Palais des Nations
X-ADVOCACY-ROOM:Room XXII
X-ADVOCACY-HRC-SESSION:HRC 61
X-ADVOCACY-COUNTRY:CH"""


def test_event_is_stored_in_utc_and_shown_in_its_zone_across_the_spring_change(make_event):
    before = make_event(start=BEFORE_SPRING_CHANGE)
    after = make_event(start=AFTER_SPRING_CHANGE)
    db.session.expire_all()
    # 13:00 in Geneva is 12:00 UTC in winter time and 11:00 UTC in summer time
    assert before.starts_at == datetime(2030, 3, 29, 12, 0, tzinfo=UTC)
    assert after.starts_at == datetime(2030, 4, 1, 11, 0, tzinfo=UTC)
    assert before.local_start.hour == after.local_start.hour == 13


def test_event_across_the_autumn_change(make_event):
    before = make_event(start=datetime(2030, 10, 25, 13, 0, tzinfo=GENEVA))
    after = make_event(start=datetime(2030, 10, 28, 13, 0, tzinfo=GENEVA))
    db.session.expire_all()
    assert before.starts_at.hour == 11
    assert after.starts_at.hour == 12


def test_a_time_the_clocks_skip_is_refused():
    with pytest.raises(EventRejected, match="does not exist"):
        services.local_time(date(2030, 3, 31), "02:30", "Europe/Zurich")
    assert services.local_time(date(2030, 3, 31), "03:30", "Europe/Zurich").utcoffset() == timedelta(hours=2)


def test_changing_an_event_keeps_its_uid_and_raises_its_sequence(make_event):
    event = make_event(uid="fixed@test")
    assert (event.uid, event.sequence) == ("fixed@test", 0)
    details = EventDetails(title={"en": "Moved to Room XXIV"}, starts_at=BEFORE_SPRING_CHANGE,
                           ends_at=BEFORE_SPRING_CHANGE + timedelta(hours=1), venue="Palais des Nations",
                           room="Room XXIV")
    read = event.version
    changed = services.update_event("fixed@test", details, version=read, actor=SYSTEM)
    assert changed.changed
    assert not changed.created
    assert (changed.event.id, changed.event.uid, changed.event.sequence) == (event.id, "fixed@test", 1)
    assert changed.event.version == read + 1
    # saving the same details again is no change for calendars, nor for the version
    again = services.update_event("fixed@test", details, version=read + 1, actor=SYSTEM)
    assert not again.changed
    assert (again.event.sequence, again.event.version) == (1, read + 1)
    db.session.commit()
    assert count_events() == 1


def test_cancelling_keeps_the_event_visible_as_cancelled(make_event):
    event = make_event(uid="cancel-me@test")
    services.cancel_event("cancel-me@test", actor=SYSTEM)
    services.cancel_event("cancel-me@test", actor=SYSTEM)
    db.session.expire_all()
    found = services.find_events(EventFilter(), when="upcoming", now=datetime(2030, 1, 1, tzinfo=UTC))
    assert [e.uid for e in found] == [event.uid]
    assert found[0].status == EventStatus.CANCELLED
    assert found[0].sequence == 1  # cancelling twice is one change


@pytest.mark.parametrize(("change", "message"), [
    ({"ends_at": BEFORE_SPRING_CHANGE - timedelta(hours=1)}, "ends before it starts"),
    ({"timezone": "Europe/Atlantis"}, "not a time zone"),
    ({"venue": None, "online_url": None}, "venue, an online link"),
    ({"online_url": "javascript:alert(1)"}, "https://"),
    ({"petition_slugs": ("no-such-petition",)}, "no petition"),
    ({"country": "XX"}, "ISO 3166"),
    ({"title": {"en": "  "}}, "needs a title"),
])
def test_bad_details_are_refused_and_nothing_is_stored(ctx, change, message):
    values = {"title": {"en": "Side-event"}, "starts_at": BEFORE_SPRING_CHANGE,
              "ends_at": BEFORE_SPRING_CHANGE + timedelta(hours=1), "venue": "Palais des Nations"}
    values.update(change)
    with pytest.raises(EventRejected, match=message):
        services.create_event(EventDetails(**values), actor=SYSTEM)
    db.session.rollback()
    assert count_events() == 0


def test_importing_the_same_file_twice_updates_rather_than_duplicates(ctx):
    first = services.import_ics(io.BytesIO(ics(GOOD)), actor=SYSTEM)
    assert first.created == ["hrc61-civilians@partner.example"]
    second = services.import_ics(io.BytesIO(ics(GOOD)), actor=SYSTEM)
    assert second.unchanged == ["hrc61-civilians@partner.example"]
    event = services.get_event("hrc61-civilians@partner.example")
    assert count_events() == 1
    assert event.sequence == 0
    assert event.title == {"en": "People first: civilians in captivity", "uk": "Люди передусім: цивільні в полоні"}
    assert (event.venue, event.room, event.hrc_session, event.country) == ("Palais des Nations", "Room XXII", 61, "CH")
    assert event.starts_at == datetime(2030, 3, 29, 12, 0, tzinfo=UTC)

    moved = GOOD.replace("20300329T130000", "20300401T130000").replace("20300329T143000", "20300401T143000")
    third = services.import_ics(io.BytesIO(ics(moved)), actor=SYSTEM)
    assert third.updated == ["hrc61-civilians@partner.example"]
    db.session.expire_all()
    event = services.get_event("hrc61-civilians@partner.example")
    assert event.sequence == 1
    assert event.starts_at == datetime(2030, 4, 1, 11, 0, tzinfo=UTC)  # summer time by then
    assert count_events() == 1


def test_import_reads_cancellation_and_defaults(make_petition):
    make_petition(slug="free-civilians")
    cancelled = GOOD.replace("X-ADVOCACY-HRC-SESSION:HRC 61\n", "") + "\nSTATUS:CANCELLED\nSEQUENCE:4"
    services.import_ics(io.BytesIO(ics(cancelled)), campaign_slug="people-first", petition_slugs=["free-civilians"],
                        hrc_session=62, default_kind=EventKind.HAND_IN, actor=SYSTEM)
    event = services.get_event("hrc61-civilians@partner.example")
    assert event.status == EventStatus.CANCELLED
    assert event.sequence == 4
    assert (event.hrc_session, event.kind, event.campaign.slug) == (62, EventKind.HAND_IN, "people-first")
    assert [p.slug for p in event.petitions] == ["free-civilians"]


BAD_FILES = {
    "broken syntax": b"this is not a calendar\r\n",
    "empty": b"",
    "no events": b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
    "missing DTSTART": ics("UID:a@test\nSUMMARY:x\nLOCATION:Geneva"),
    "unknown time zone": ics(GOOD.replace("TZID=Europe/Zurich:20300329T130000", "TZID=Mars/Olympus:20300329T130000")),
    "broken date": ics(GOOD.replace("20300329T130000", "2030-03-29")),
    "no UID": ics(GOOD.replace("UID:hrc61-civilians@partner.example\n", "")),
    "all-day": ics(GOOD.replace("DTSTART;TZID=Europe/Zurich:20300329T130000", "DTSTART;VALUE=DATE:20300329")),
    "no end": ics(GOOD.replace("DTEND;TZID=Europe/Zurich:20300329T143000\n", "")),
    "one good, one bad": ics(GOOD.replace("hrc61-civilians", "other"), "UID:bad@test\nSUMMARY:x\nLOCATION:Geneva"),
    "unknown petition": ics(GOOD + "\nX-ADVOCACY-PETITIONS:no-such-petition"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_are_refused_and_change_nothing(make_event, name):
    existing = make_event(uid="hrc61-civilians@partner.example", title={"en": "Kept as it was"})
    with pytest.raises(EventRejected) as refused:
        services.import_ics(io.BytesIO(BAD_FILES[name]), actor=SYSTEM)
    assert refused.value.errors
    assert all(message.strip() for message in refused.value.errors)
    db.session.expire_all()
    assert count_events() == 1
    kept = services.get_event(existing.uid)
    assert kept.title == {"en": "Kept as it was"}
    assert kept.sequence == 0


class EndlessStream(io.RawIOBase):
    """A 50 MB upload that counts how much of it was read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.read_bytes if n < 0 else min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b"X" * n


def test_a_50_mb_file_is_refused_without_reading_it_all(ctx):
    stream = EndlessStream(50 * 1024 * 1024)
    with pytest.raises(EventRejected, match="larger than 5 MB"):
        services.import_ics(stream, actor=SYSTEM)  # type: ignore[arg-type]
    assert stream.read_bytes <= services.MAX_ICS_BYTES + 1
    assert count_events() == 0


def test_filters(make_event, make_petition):
    make_petition(slug="free-civilians")
    side = make_event(hrc_session=61, languages=("en",), interpretation=("uk",), petition_slugs=("free-civilians",))
    rally = make_event(kind=EventKind.RALLY, hrc_session=62, languages=("fr",), interpretation=())
    webinar = make_event(kind=EventKind.WEBINAR, venue=None, room=None, city=None, country=None,
                         online_url="https://meet.example/abc", hrc_session=None, languages=("ru",),
                         interpretation=(), campaign_slug=None)
    berlin = make_event(kind=EventKind.HAND_IN, country="DE", city="Berlin", venue="Bundestag", hrc_session=None,
                        online_url="https://stream.example", timezone="Europe/Berlin")

    def uids(**filters):
        return {e.uid for e in services.find_events(EventFilter(**filters))}

    assert uids(hrc_session=61) == {side.uid}
    assert uids(kind=EventKind.RALLY) == {rally.uid}
    assert uids(language="uk") == {side.uid, berlin.uid}  # interpreted into Ukrainian counts
    assert uids(language="fr") == {rally.uid}
    assert uids(country="DE") == {berlin.uid}
    assert uids(mode="online") == {webinar.uid, berlin.uid}
    assert uids(mode="in_person") == {side.uid, rally.uid, berlin.uid}
    assert uids(campaign_slug="people-first") == {side.uid, rally.uid, berlin.uid}
    petition = db.session.scalar(select(Event).where(Event.uid == side.uid)).petitions[0]
    assert uids(petition_id=petition.id) == {side.uid}


def test_upcoming_and_past(make_event, make_petition):
    petition = make_petition(slug="free-civilians")
    gone = make_event(start=PAST, petition_slugs=("free-civilians",))
    later = make_event(start=AFTER_SPRING_CHANGE, petition_slugs=("free-civilians",))
    sooner = make_event(start=BEFORE_SPRING_CHANGE, petition_slugs=("free-civilians",))
    make_event(start=BEFORE_SPRING_CHANGE)  # not about this petition
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert [e.uid for e in services.upcoming(petition_id=petition.id, now=now)] == [sooner.uid, later.uid]
    assert [e.uid for e in services.upcoming(petition_id=petition.id, now=now, limit=1)] == [sooner.uid]
    assert [e.uid for e in services.find_events(when="past", now=now)] == [gone.uid]


def test_month_grid_places_events_on_their_day(make_event):
    late = make_event(start=datetime(2030, 3, 14, 22, 30, tzinfo=GENEVA),
                      end=datetime(2030, 3, 14, 23, 30, tzinfo=GENEVA))
    exhibition = make_event(kind=EventKind.EXHIBITION, start=datetime(2030, 3, 20, 10, 0, tzinfo=GENEVA),
                            end=datetime(2030, 3, 22, 18, 0, tzinfo=GENEVA))

    def days_of(grid, uid):
        return [day.date for week in grid.weeks for day in week if day.in_month and uid in {e.uid for e in day.events}]

    grid = services.month_grid(2030, 3)
    assert grid.weeks[0][0].date.weekday() == 0  # Monday first
    assert days_of(grid, late.uid) == [date(2030, 3, 14)]
    assert days_of(grid, exhibition.uid) == [date(2030, 3, 20), date(2030, 3, 21), date(2030, 3, 22)]
    # 22:30 in Geneva is already the next morning in Tokyo
    tokyo = services.month_grid(2030, 3, viewer_zone="Asia/Tokyo")
    assert days_of(tokyo, late.uid) == [date(2030, 3, 15)]
    sunday_first = services.month_grid(2030, 3, first_weekday=6)
    assert sunday_first.weeks[0][0].date.weekday() == 6


def test_demo_events_load_twice_without_change(make_petition):
    petitions = {slug: make_petition(slug=slug) for slug in ("free-ukrainian-civilians", "bring-the-children-home")}
    from advocacy.petitions.models import Campaign

    campaign = db.session.scalar(select(Campaign))
    assert load_demo_events(campaign, petitions, today=date(2026, 11, 27)) == len(EVENTS)
    db.session.commit()
    assert load_demo_events(campaign, petitions, today=date(2026, 11, 27)) == 0
    db.session.commit()
    events = services.all_events()
    assert len(events) == len(EVENTS)
    assert all(e.sequence == 0 for e in events)
    assert all(set(e.title) == {"en", "uk", "ru"} for e in events)
    geneva = [e for e in events if e.city == "Geneva"]
    assert geneva
    assert all(e.hrc_session == 64 and e.timezone == "Europe/Zurich" for e in geneva)
    # some before and some after the change to summer time
    offsets = {e.local_start.utcoffset() for e in geneva}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}
    assert ZoneInfo("Europe/Zurich")


# ---------------------------------------------------------------- drafts, versions, units of work


def moved_details(**overrides) -> EventDetails:
    values = {"title": {"en": "Moved to Room XXIV"}, "starts_at": AFTER_SPRING_CHANGE,
              "ends_at": AFTER_SPRING_CHANGE + timedelta(hours=1), "venue": "Palais des Nations", "room": "Room XXIV"}
    values.update(overrides)
    return EventDetails(**values)


def test_a_draft_is_not_found_for_the_public_until_published(make_event):
    draft = make_event(uid="draft@test", draft=True)
    shown = make_event(uid="shown@test")
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert draft.is_draft
    assert [e.uid for e in services.find_events()] == [shown.uid]
    assert [e.uid for e in services.upcoming(now=now)] == [shown.uid]
    assert [e.uid for e in services.all_events()] == [shown.uid]
    assert {e.uid for e in services.all_events(include_drafts=True)} == {draft.uid, shown.uid}
    with pytest.raises(services.EventNotFound):
        services.get_event_by_id(draft.id)
    assert services.get_event_by_id(draft.id, include_drafts=True).uid == draft.uid

    services.publish_event("draft@test", actor=SYSTEM)
    db.session.commit()
    assert [e.uid for e in services.upcoming(now=now)] == [draft.uid, shown.uid]
    assert services.get_event_by_id(draft.id).uid == draft.uid


def test_a_draft_gives_nothing_away_in_the_filter_choices(make_event):
    make_event(draft=True, hrc_session=70, country="FR", languages=("fr",), interpretation=())
    make_event(hrc_session=61)
    choices = services.filter_choices()
    assert choices.sessions == [61]
    assert choices.countries == ["CH"]
    assert "fr" not in choices.languages


def test_publishing_is_idempotent(make_event):
    event = make_event(uid="p@test", draft=True)
    version, sequence = event.version, event.sequence
    first = services.publish_event("p@test", actor=SYSTEM)
    published_at = first.published_at
    assert published_at is not None
    assert (first.version, first.sequence) == (version + 1, sequence)  # nothing calendars saw has changed
    db.session.commit()
    again = services.publish_event("p@test", actor=SYSTEM)
    db.session.commit()
    db.session.expire_all()
    again = services.get_event("p@test")
    assert (again.published_at, again.version, again.sequence) == (published_at, version + 1, sequence)
    with pytest.raises(services.EventNotFound):
        services.publish_event("nobody@test", actor=SYSTEM)


def test_a_stale_update_is_refused_and_changes_nothing(make_event):
    event = make_event(uid="s@test")
    read = event.version
    services.update_event("s@test", moved_details(), version=read, actor=SYSTEM)
    db.session.commit()
    with pytest.raises(services.StaleEdit) as refused:
        services.update_event("s@test", moved_details(title={"en": "Someone else's edit"}), version=read, actor=SYSTEM)
    assert refused.value.current_version == read + 1
    assert f"version {read + 1}" in str(refused.value)
    db.session.rollback()
    db.session.expire_all()
    kept = services.get_event("s@test")
    assert (kept.title, kept.version, kept.sequence) == ({"en": "Moved to Room XXIV"}, read + 1, 1)


def test_an_edit_overtaken_by_another_transaction_is_refused(app, make_event):
    from sqlalchemy.orm import Session

    make_event(uid="race@test")
    read = services.get_event("race@test")  # held in this session at its version
    version = read.version
    with Session(db.engine) as other:
        theirs = other.scalar(select(Event).where(Event.uid == "race@test"))
        theirs.room = "Room XX"
        other.commit()
    with pytest.raises(services.StaleEdit):
        services.update_event("race@test", moved_details(), version=read.version, actor=SYSTEM)
    db.session.rollback()
    db.session.expire_all()
    kept = services.get_event("race@test")
    assert (kept.room, kept.version) == ("Room XX", version + 1)


@pytest.mark.parametrize("step", ["create", "update", "publish", "cancel", "import"])
def test_the_services_do_not_commit(make_event, step):
    make_event(uid="kept@test", title={"en": "Kept as it was"}, draft=True)
    before = services.get_event("kept@test")
    state = (before.title, before.version, before.sequence, before.status, before.published_at)
    if step == "create":
        services.create_event(moved_details(), uid="new@test", actor=SYSTEM)
    elif step == "update":
        services.update_event("kept@test", moved_details(), version=before.version, actor=SYSTEM)
    elif step == "publish":
        services.publish_event("kept@test", actor=SYSTEM)
    elif step == "cancel":
        services.cancel_event("kept@test", actor=SYSTEM)
    else:
        services.import_ics(io.BytesIO(ics(GOOD, GOOD.replace("hrc61-civilians@partner.example", "kept@test"))),
                            actor=SYSTEM)
    db.session.rollback()
    db.session.expire_all()
    assert count_events() == 1
    after = services.get_event("kept@test")
    assert (after.title, after.version, after.sequence, after.status, after.published_at) == state


def test_an_import_creates_published_events_and_updates_by_uid(make_event):
    make_event(uid="hrc61-civilians@partner.example", draft=True, title={"en": "Our draft"})
    other = GOOD.replace("hrc61-civilians", "other")
    outcome = services.import_ics(io.BytesIO(ics(GOOD, other)), actor=SYSTEM)
    db.session.commit()
    assert (outcome.created, outcome.updated) == (["other@partner.example"], ["hrc61-civilians@partner.example"])
    assert not services.get_event("other@partner.example").is_draft  # a file is an explicit publication
    updated = services.get_event("hrc61-civilians@partner.example")
    assert updated.title["en"] == "People first: civilians in captivity"
    assert updated.is_draft  # updating does not publish what an organiser kept back


def test_create_refuses_a_uid_already_given(make_event):
    make_event(uid="taken@test")
    with pytest.raises(EventRejected, match="already an event"):
        services.create_event(moved_details(), uid="taken@test", actor=SYSTEM)
    assert services.get_event("taken@test").sequence == 0
