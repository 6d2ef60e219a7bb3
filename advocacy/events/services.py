"""Events: creating, updating, publishing and cancelling them, importing .ics files, and finding them for pages.

Every change that a calendar app should notice raises the event's SEQUENCE; its UID never changes. Events
start as drafts, seen only by organisers, until published. The services flush and never commit.
"""

from __future__ import annotations

import calendar as calendar_module
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from advocacy.accounts.roles import Principal, require_any_organiser, require_organiser
from advocacy.audit.services import record
from advocacy.dbtypes import utcnow
from advocacy.events import ical
from advocacy.events.models import Event, EventDetails, EventKind, EventStatus, event_petitions
from advocacy.extensions import db
from advocacy.i18n import is_country
from advocacy.petitions import services as petition_services
from advocacy.petitions.models import Campaign, Petition

MAX_ICS_BYTES = 5 * 1024 * 1024
_READ_CHUNK = 64 * 1024
TITLE_MAX = 300
DESCRIPTION_MAX = 10_000
Mode = Literal["online", "in_person"]
When = Literal["upcoming", "past"]


class EventNotFound(LookupError):
    pass


class StaleEdit(RuntimeError):
    """The event changed since the editor read it; ``current_version`` is its version now (None if unknown)."""

    def __init__(self, current_version: int | None) -> None:
        if current_version is None:
            message = "the event was changed by someone else meanwhile; read it again and redo the edit"
        else:
            message = (f"the event is at version {current_version} now, not the version edited; "
                       "read it again and redo the edit")
        super().__init__(message)
        self.current_version = current_version


class EventRejected(ValueError):
    """The details cannot be stored; ``errors`` holds one translated sentence per problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class SaveOutcome:
    event: Event
    created: bool
    changed: bool


@dataclass(frozen=True)
class ImportOutcome:
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    # events the importer may not manage, each with a translated reason; nothing of them was stored
    refused: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


# ---------------------------------------------------------------- checking


def _clean_text(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] if value else None


def _language_code(code: str) -> str | None:
    code = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def local_time(day: date | datetime, hour_minute: str, zone: str) -> datetime:
    """A wall-clock time in a zone; a time the clocks skip (the spring change) is refused."""
    tz = ZoneInfo(zone)
    hours, minutes = (int(part) for part in hour_minute.split(":"))
    value = datetime(day.year, day.month, day.day, hours, minutes, tzinfo=tz)
    if value.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != value.replace(tzinfo=None):
        raise EventRejected([_("%(time)s does not exist in %(zone)s: the clocks skip it.",
                               time=value.strftime("%Y-%m-%d %H:%M"), zone=zone)])
    return value


def _check(details: EventDetails) -> tuple[EventDetails, Campaign | None, list[Petition]]:
    errors: list[str] = []
    title = {k: v.strip()[:TITLE_MAX] for k, v in details.title.items() if v and v.strip() and _language_code(k)}
    if not title:
        errors.append(_("An event needs a title."))
    description = {k: v.strip()[:DESCRIPTION_MAX] for k, v in details.description.items()
                   if v and v.strip() and _language_code(k)}
    if details.timezone not in ical.known_timezones():
        errors.append(_("“%(zone)s” is not a time zone; use an IANA name such as Europe/Zurich.",
                        zone=details.timezone))
    if details.starts_at.tzinfo is None or details.ends_at.tzinfo is None:
        errors.append(_("The start and end times need a time zone."))
    if not errors and details.ends_at < details.starts_at:
        errors.append(_("The event ends before it starts."))
    if not errors and details.ends_at - details.starts_at > timedelta(days=366):
        errors.append(_("An event lasts at most a year."))
    country = (details.country or "").strip().upper() or None
    if country and not is_country(country):
        errors.append(_("“%(code)s” is not an ISO 3166 country code.", code=country))
    online_url = _clean_text(details.online_url, 500)
    if online_url and urlsplit(online_url).scheme not in {"https", "http"}:
        errors.append(_("The online link must start with https://."))
    venue = _clean_text(details.venue, 200)
    if not venue and not online_url:
        errors.append(_("An event needs a venue, an online link, or both."))
    if details.hrc_session is not None and not 0 < details.hrc_session < 1000:
        errors.append(_("“%(value)s” is not a Human Rights Council session.", value=details.hrc_session))
    languages = [_language_code(c) for c in details.languages]
    interpretation = [_language_code(c) for c in details.interpretation]
    if None in languages or None in interpretation:
        errors.append(_("Languages are given as codes such as en, uk or ru."))
    campaign = None
    if details.campaign_slug:
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == details.campaign_slug))
        if campaign is None:
            errors.append(_("There is no campaign “%(slug)s”.", slug=details.campaign_slug))
    petitions: list[Petition] = []
    for slug in dict.fromkeys(details.petition_slugs):
        petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
        if petition is None:
            errors.append(_("There is no petition “%(slug)s”.", slug=slug))
        elif campaign is None and not details.campaign_slug:
            errors.append(_("The petition “%(slug)s” can only be linked to an event of its campaign; "
                            "choose the campaign.", slug=slug))
        elif campaign is not None and petition.campaign_id != campaign.id:
            errors.append(_("The petition “%(slug)s” belongs to another campaign.", slug=slug))
        else:
            petitions.append(petition)
    if errors:
        raise EventRejected(errors)
    cleaned = replace(
        details, title=title, description=description, country=country, online_url=online_url, venue=venue,
        room=_clean_text(details.room, 100), city=_clean_text(details.city, 100),
        organisers=tuple(o for o in (_clean_text(o, 200) for o in details.organisers) if o),
        languages=tuple(dict.fromkeys(c for c in languages if c)),
        interpretation=tuple(dict.fromkeys(c for c in interpretation if c)),
        starts_at=details.starts_at.astimezone(UTC), ends_at=details.ends_at.astimezone(UTC),
    )
    return cleaned, campaign, petitions


def _snapshot(event: Event) -> tuple[Any, ...]:
    return (
        event.title, event.description, event.starts_at, event.ends_at, event.timezone, event.kind, event.status,
        event.venue, event.room, event.city, event.country, event.online_url, event.hrc_session,
        list(event.organisers), list(event.languages), list(event.interpretation), event.campaign_id,
        sorted(p.id for p in event.petitions),
    )


def new_uid() -> str:
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "advocacy"
    return f"{uuid.uuid4()}@{host}"


def _write(event: Event, cleaned: EventDetails, campaign: Campaign | None, petitions: list[Petition]) -> bool:
    """Put checked details on an event; whether anything a calendar app would notice changed."""
    before = _snapshot(event) if event.id is not None else None
    event.title = dict(cleaned.title)
    event.description = dict(cleaned.description)
    event.starts_at = cleaned.starts_at
    event.ends_at = cleaned.ends_at
    event.timezone = cleaned.timezone
    event.kind = cleaned.kind
    event.status = cleaned.status
    event.venue = cleaned.venue
    event.room = cleaned.room
    event.city = cleaned.city
    event.country = cleaned.country
    event.online_url = cleaned.online_url
    event.hrc_session = cleaned.hrc_session
    event.organisers = list(cleaned.organisers)
    event.languages = list(cleaned.languages)
    event.interpretation = list(cleaned.interpretation)
    event.campaign = campaign
    event.campaign_id = campaign.id if campaign is not None else None
    event.petitions = petitions
    return before is None or before != _snapshot(event)


def _flush() -> None:
    """Flush the session; a row changed by someone else since it was read is a stale edit."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise StaleEdit(None) from exc


def _new_event(uid: str | None, cleaned: EventDetails, campaign: Campaign | None, petitions: list[Petition], *,
               sequence: int, published: bool) -> Event:
    if uid and db.session.scalar(select(Event.id).where(Event.uid == uid)) is not None:
        raise EventRejected([_("There is already an event with UID %(uid)s.", uid=uid)])
    event = Event(uid=uid or new_uid(), sequence=max(sequence, 0))
    _write(event, cleaned, campaign, petitions)
    if published:
        event.published_at = utcnow()
    db.session.add(event)
    return event


def _update(event: Event, cleaned: EventDetails, campaign: Campaign | None, petitions: list[Petition], *,
            version: int, sequence: int = 0) -> SaveOutcome:
    if event.version != version:
        raise StaleEdit(event.version)
    changed = _write(event, cleaned, campaign, petitions)
    if changed:
        event.sequence = max(event.sequence + 1, sequence)
        event.updated_at = utcnow()
    return SaveOutcome(event, created=False, changed=changed)


# ---------------------------------------------------------------- changing
# Every service here flushes and never commits: the view, command or job that calls it commits once.


def may_manage(actor: Principal, event: Event) -> bool:
    """Organisers of the event's campaign and admins manage an event; one of no campaign is the admins'."""
    return actor.can_organise(event.campaign_id)


def require_manager(actor: Principal, event: Event) -> None:
    require_organiser(actor, event.campaign_id)


def create_event(details: EventDetails, *, actor: Principal, uid: str | None = None) -> Event:
    """A new event, as a draft: nobody but organisers sees it until ``publish_event``.

    The actor organises the campaign the event is linked to (and so its petitions), or is an admin; an event
    of no campaign is created by admins only.
    """
    require_any_organiser(actor)
    cleaned, campaign, petitions = _check(details)
    require_organiser(actor, campaign.id if campaign is not None else None)
    event = _new_event(uid, cleaned, campaign, petitions, sequence=0, published=False)
    _flush()
    record("event.created", actor=actor, object_type="event", object_id=event.id, campaign_id=event.campaign_id)
    return event


def update_event(uid: str, details: EventDetails, *, actor: Principal, version: int) -> SaveOutcome:
    """Replace the details of the event with this UID, as read at ``version``; raises StaleEdit if it changed since.

    A change that calendar apps must notice raises the SEQUENCE; ``version`` rises with any change. The
    actor manages the event, and organises the campaign it is linked to after the change.
    """
    event = get_event(uid)
    require_manager(actor, event)
    cleaned, campaign, petitions = _check(details)
    require_organiser(actor, campaign.id if campaign is not None else None)
    outcome = _update(event, cleaned, campaign, petitions, version=version)
    _flush()
    record("event.edited", actor=actor, object_type="event", object_id=event.id, changed=outcome.changed,
           sequence=event.sequence)
    return outcome


def publish_event(uid: str, *, actor: Principal) -> Event:
    """Show a draft on the public pages and feeds; publishing a published event changes nothing."""
    event = get_event(uid)
    require_manager(actor, event)
    if event.published_at is None:
        event.published_at = utcnow()
        _flush()
        record("event.published", actor=actor, object_type="event", object_id=event.id)
    return event


def get_event(uid: str) -> Event:
    event = db.session.scalar(select(Event).where(Event.uid == uid))
    if event is None:
        raise EventNotFound(uid)
    return event


def get_event_by_id(event_id: int, *, include_drafts: bool = False) -> Event:
    """One event for its page; a draft is not found unless asked for."""
    query = (select(Event).where(Event.id == event_id)
             .options(selectinload(Event.petitions), selectinload(Event.campaign)))
    if not include_drafts:
        query = query.where(Event.published_at.is_not(None))
    event = db.session.scalar(query)
    if event is None:
        raise EventNotFound(event_id)
    return event


def cancel_event(uid: str, *, actor: Principal) -> Event:
    """Cancelled events stay listed, marked as such, so that subscribed calendars learn of it."""
    event = get_event(uid)
    require_manager(actor, event)
    if event.status != EventStatus.CANCELLED:
        event.status = EventStatus.CANCELLED
        event.sequence += 1
        event.updated_at = utcnow()
        _flush()
        record("event.cancelled", actor=actor, object_type="event", object_id=event.id, sequence=event.sequence)
    return event


def read_limited(stream: IO[bytes], limit: int = MAX_ICS_BYTES) -> bytes:
    """Read at most ``limit`` bytes; a larger upload is refused after reading one chunk past the limit."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise EventRejected([_("The file is larger than %(size)s MB.", size=limit // (1024 * 1024))])
    return b"".join(chunks)


def import_ics(stream: IO[bytes], *, actor: Principal, default_locale: str = "en",
               default_timezone: str = "Europe/Zurich",
               default_kind: EventKind = EventKind.SIDE_EVENT, campaign_slug: str | None = None,
               petition_slugs: Iterable[str] = (), hrc_session: int | None = None,
               country: str | None = None) -> ImportOutcome:
    """Create or update every event of an .ics file, or refuse the file before changing anything.

    Events are matched by UID, so importing the same file again updates rather than duplicates: an event
    we have is updated at the version read here, a new one is created published (a file is an explicit
    publication; an existing draft stays a draft). The defaults fill in what the file does not say.
    Nothing is committed: the caller commits on success and rolls back on any failure.

    The actor organises ``campaign_slug`` (if given), or is an admin. An event of the file that the actor may
    not manage (it names another campaign, or its UID is an event of another campaign) is refused and left
    out, with the reason in ``ImportOutcome.refused``; the others are imported.
    """
    require_any_organiser(actor)
    if campaign_slug:
        default_campaign = db.session.scalar(select(Campaign).where(Campaign.slug == campaign_slug))
        require_organiser(actor, default_campaign.id if default_campaign is not None else None)
    if default_timezone not in ical.known_timezones():
        raise EventRejected([_("“%(zone)s” is not a time zone; use an IANA name such as Europe/Zurich.",
                               zone=default_timezone)])
    data = read_limited(stream)
    try:
        parsed = ical.parse_calendar(data, default_locale=default_locale, default_timezone=default_timezone)
    except ical.CalendarFileError as exc:
        raise EventRejected(exc.errors) from exc
    extra_petitions = tuple(petition_slugs)
    # what the file does not say, the importer's choices fill in
    details: list[tuple[ical.ParsedEvent, EventDetails]] = [(item, replace(
        item.details,
        kind=item.details.kind if item.kind_given else default_kind,
        country=item.details.country or country,
        hrc_session=item.details.hrc_session or hrc_session,
        campaign_slug=item.details.campaign_slug or campaign_slug,
        petition_slugs=tuple(dict.fromkeys((*item.details.petition_slugs, *extra_petitions))),
    )) for item in parsed]
    # every event is checked before any is stored, so a refused file leaves the session as it was
    checked: list[tuple[ical.ParsedEvent, tuple[EventDetails, Campaign | None, list[Petition]]]] = []
    errors: list[str] = []
    for item, values in details:
        try:
            checked.append((item, _check(values)))
        except EventRejected as rejected:
            errors.extend(f"{item.uid}: {message}" for message in rejected.errors)
    if errors:
        raise EventRejected(errors)
    outcome = ImportOutcome([], [], [])
    for item, (cleaned, campaign, petitions) in checked:
        existing = db.session.scalar(select(Event).where(Event.uid == item.uid))
        if existing is not None and not may_manage(actor, existing):
            outcome.refused.append((item.uid, _("An event with this UID belongs to a campaign you do not organise.")))
            continue
        if not actor.can_organise(campaign.id if campaign is not None else None):
            outcome.refused.append((item.uid, _("You do not organise the campaign of this event.") if campaign
                                    else _("Only an admin may add an event of no campaign.")))
            continue
        if existing is None:
            _new_event(item.uid, cleaned, campaign, petitions, sequence=item.sequence, published=True)
            outcome.created.append(item.uid)
            continue
        saved = _update(existing, cleaned, campaign, petitions, version=existing.version, sequence=item.sequence)
        (outcome.updated if saved.changed else outcome.unchanged).append(item.uid)
    _flush()
    record("event.imported", actor=actor, created=len(outcome.created), updated=len(outcome.updated),
           unchanged=len(outcome.unchanged), refused=len(outcome.refused))
    return outcome


# ---------------------------------------------------------------- finding


@dataclass(frozen=True)
class EventFilter:
    hrc_session: int | None = None
    kind: EventKind | None = None
    campaign_slug: str | None = None
    language: str | None = None
    country: str | None = None
    mode: Mode | None = None
    petition_id: int | None = None

    def is_empty(self) -> bool:
        return self == EventFilter()


def find_events(filters: EventFilter = EventFilter(), *, when: When | None = None,
                start: datetime | None = None, end: datetime | None = None, now: datetime | None = None,
                limit: int | None = None, include_drafts: bool = False) -> list[Event]:
    """Events matching the filters: upcoming (not yet over) soonest first, past latest first, or in a window.

    Published events only, unless ``include_drafts`` (for organisers' tools, never for public pages).
    """
    now = now or utcnow()
    query = select(Event).options(selectinload(Event.campaign), selectinload(Event.petitions))
    if not include_drafts:
        query = query.where(Event.published_at.is_not(None))
    if filters.hrc_session is not None:
        query = query.where(Event.hrc_session == filters.hrc_session)
    if filters.kind is not None:
        query = query.where(Event.kind == filters.kind)
    if filters.campaign_slug:
        query = query.join(Campaign, Event.campaign_id == Campaign.id).where(Campaign.slug == filters.campaign_slug)
    if filters.country:
        query = query.where(Event.country == filters.country)
    if filters.mode == "online":
        query = query.where(Event.online_url.is_not(None))
    elif filters.mode == "in_person":
        query = query.where(Event.venue.is_not(None))
    if filters.petition_id is not None:
        query = query.where(Event.id.in_(
            select(event_petitions.c.event_id).where(event_petitions.c.petition_id == filters.petition_id)
        ))
    if start is not None:
        query = query.where(Event.ends_at >= start)
    if end is not None:
        query = query.where(Event.starts_at < end)
    if when == "upcoming":
        query = query.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)
    elif when == "past":
        query = query.where(Event.ends_at < now).order_by(Event.starts_at.desc(), Event.id.desc())
    else:
        query = query.order_by(Event.starts_at, Event.id)
    if not filters.language and limit is not None:
        query = query.limit(limit)
    events = list(db.session.scalars(query).all())
    if filters.language:
        # languages live in a small JSON list; a calendar holds hundreds of events, so filter here
        events = [e for e in events if filters.language in e.all_languages]
    return events[:limit] if limit is not None else events


def upcoming(*, petition_id: int | None = None, campaign_slug: str | None = None, limit: int = 5,
             now: datetime | None = None) -> list[Event]:
    """The next events, for a petition's page or the home page."""
    return find_events(EventFilter(petition_id=petition_id, campaign_slug=campaign_slug), when="upcoming",
                       now=now, limit=limit)


def all_events(*, include_drafts: bool = False) -> list[Event]:
    return find_events(include_drafts=include_drafts)


@dataclass(frozen=True)
class Day:
    date: date
    in_month: bool
    events: list[Event]


@dataclass(frozen=True)
class MonthGrid:
    year: int
    month: int
    weeks: list[list[Day]]

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)

    @property
    def is_empty(self) -> bool:
        return not any(day.events for week in self.weeks for day in week if day.in_month)


def month_grid(year: int, month: int, filters: EventFilter = EventFilter(), *,
               viewer_zone: str | None = None, first_weekday: int = 0) -> MonthGrid:
    """Weeks of the month, each day with the events on it: in the viewer's zone if chosen, else the event's."""
    weeks = calendar_module.Calendar(firstweekday=first_weekday).monthdatescalendar(year, month)
    grid_start, grid_end = weeks[0][0], weeks[-1][-1]
    # a day in some zone is at most 14 hours away from the same day in UTC
    window_start = datetime(grid_start.year, grid_start.month, grid_start.day, tzinfo=UTC) - timedelta(hours=14)
    window_end = datetime(grid_end.year, grid_end.month, grid_end.day, tzinfo=UTC) + timedelta(days=1, hours=14)
    by_day: dict[date, list[Event]] = {}
    for event in find_events(filters, start=window_start, end=window_end):
        zone = ZoneInfo(viewer_zone) if viewer_zone else event.zone
        first = event.starts_at.astimezone(zone).date()
        # an event that ends at midnight does not spill into the next day
        last = max(first, (event.ends_at.astimezone(zone) - timedelta(microseconds=1)).date())
        day = max(first, grid_start)
        while day <= min(last, grid_end):
            by_day.setdefault(day, []).append(event)
            day += timedelta(days=1)
    return MonthGrid(year, month, [
        [Day(day, day.month == month, by_day.get(day, [])) for day in week] for week in weeks
    ])


@dataclass(frozen=True)
class FilterChoices:
    sessions: list[int]
    campaigns: list[Campaign]
    languages: list[str]
    countries: list[str]


def filter_choices() -> FilterChoices:
    """What the filters offer: only values some published event has (a draft gives nothing away)."""
    published = Event.published_at.is_not(None)
    sessions = db.session.scalars(
        select(Event.hrc_session).where(published, Event.hrc_session.is_not(None)).distinct()
        .order_by(Event.hrc_session.desc())
    ).all()
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.id.in_(select(Event.campaign_id).where(published))).order_by(Campaign.slug)
    ).all()
    countries = db.session.scalars(
        select(Event.country).where(published, Event.country.is_not(None)).distinct().order_by(Event.country)
    ).all()
    languages: set[str] = set()
    for spoken, interpreted in db.session.execute(
        select(Event.languages, Event.interpretation).where(published)
    ).all():
        languages.update(spoken or [])
        languages.update(interpreted or [])
    return FilterChoices([s for s in sessions if s is not None], list(campaigns), sorted(languages),
                         [c for c in countries if c])


def get_campaign(slug: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise EventNotFound(slug)
    return campaign


def events_of_campaign(slug: str) -> list[Event]:
    return find_events(EventFilter(campaign_slug=slug))


def events_of_session(number: int) -> list[Event]:
    return find_events(EventFilter(hrc_session=number))


def language_name(code: str, locale: str) -> str:
    """A language's name in the viewer's language, from CLDR."""
    try:
        name = Locale.parse(code).get_display_name(locale)
    except (UnknownLocaleError, ValueError):
        return code
    return name or code



# ---------------------------------------------------------------- for the console


def organised_campaigns(actor: Principal) -> list[Campaign]:
    """The campaigns the actor may link events to: those it organises, or all of them for an admin.

    Forbidden for an actor who organises nothing.
    """
    require_any_organiser(actor)
    return sorted(petition_services.organised_campaigns(actor), key=lambda campaign: campaign.slug)


def petitions_of(campaigns: Sequence[Campaign]) -> dict[Campaign, list[Petition]]:
    """The petitions an event of each campaign may be linked to, drafts too."""
    by_campaign: dict[Campaign, list[Petition]] = {campaign: [] for campaign in campaigns}
    if not campaigns:
        return by_campaign
    ids = {campaign.id: campaign for campaign in campaigns}
    for petition in db.session.scalars(
        select(Petition).where(Petition.campaign_id.in_(ids)).order_by(Petition.position, Petition.id)
    ):
        by_campaign[ids[petition.campaign_id]].append(petition)
    return by_campaign


def manageable_events(actor: Principal, *, now: datetime | None = None) -> tuple[list[Event], list[Event]]:
    """Every event the actor manages, drafts and cancelled ones too: (not yet over, soonest first; past,
    latest first). An admin manages all of them; Forbidden for an actor who organises nothing."""
    require_any_organiser(actor)
    now = now or utcnow()
    query = select(Event).options(selectinload(Event.campaign))
    if not actor.is_admin:
        query = query.where(Event.campaign_id.in_(actor.campaign_ids))
    coming = db.session.scalars(query.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)).all()
    past = db.session.scalars(
        query.where(Event.ends_at < now).order_by(Event.starts_at.desc(), Event.id.desc())
    ).all()
    return list(coming), list(past)


def get_managed_event(event_id: int, *, actor: Principal) -> Event:
    """An event for the console, drafts too; Forbidden unless the actor manages it."""
    event = get_event_by_id(event_id, include_drafts=True)
    require_manager(actor, event)
    return event
