"""iCalendar (RFC 5545) in and out: feeds built with icalendar 7, uploaded files read into plain details.

Our own X-ADVOCACY-* properties carry what RFC 5545 has no property for (kind, HRC session, room…), so a
feed imported elsewhere on the platform comes back the same.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import gettext as _
from icalendar import Calendar, Conference, Timezone, vText
from icalendar import Event as VEvent

from advocacy.events.models import Event, EventDetails, EventKind, EventStatus
from advocacy.i18n import DEFAULT_LOCALE
from advocacy.urls import external_url

PRODID = "-//People First//advocacy events//EN"
X_KIND = "X-ADVOCACY-KIND"
X_SESSION = "X-ADVOCACY-HRC-SESSION"
X_VENUE = "X-ADVOCACY-VENUE"
X_ROOM = "X-ADVOCACY-ROOM"
X_CITY = "X-ADVOCACY-CITY"
X_COUNTRY = "X-ADVOCACY-COUNTRY"
X_ORGANISER = "X-ADVOCACY-ORGANISER"
X_LANGUAGES = "X-ADVOCACY-LANGUAGES"
X_INTERPRETATION = "X-ADVOCACY-INTERPRETATION"
X_CAMPAIGN = "X-ADVOCACY-CAMPAIGN"
X_PETITIONS = "X-ADVOCACY-PETITIONS"
# every language's text, since SUMMARY and DESCRIPTION hold only the feed's language (and extras)
X_TITLE = "X-ADVOCACY-TITLE"
X_DESCRIPTION = "X-ADVOCACY-DESCRIPTION"
# clients poll subscribed feeds; say how often is enough
REFRESH = timedelta(hours=6)  # also X-PUBLISHED-TTL below, for older clients


@lru_cache(maxsize=1)
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class ParsedEvent:
    """One VEVENT of an uploaded file, as plain values; the service validates and stores it."""

    uid: str
    sequence: int
    details: EventDetails
    # whether the file named the kind; if not, the importer's default applies
    kind_given: bool


class CalendarFileError(ValueError):
    """The file cannot be read as iCalendar; ``errors`` says why, one sentence each."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


def _unescape(value: Any) -> str:
    """Unknown (X-) properties come back raw: undo RFC 5545 text escaping."""
    text = str(value)
    return re.sub(r"\\([\\,;nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text).strip()


def _values(component: Any, name: str) -> list[Any]:
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _first_text(component: Any, name: str) -> str | None:
    values = _values(component, name)
    return _unescape(values[0]) or None if values else None


def _split(component: Any, name: str) -> tuple[str, ...]:
    items: list[str] = []
    for value in _values(component, name):
        items.extend(part.strip() for part in _unescape(value).split(","))
    return tuple(item for item in items if item)


def _per_language(component: Any, name: str, default_locale: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    for value in _values(component, name):
        params = getattr(value, "params", {})
        language = str(params.get("LANGUAGE") or default_locale).replace("_", "-").split("-", 1)[0].lower()
        text = _unescape(value) if name.startswith("X-") else str(value).strip()
        if text:
            texts.setdefault(language, text)
    return texts


def _when(component: Any, name: str, default_zone: str, label: str) -> tuple[datetime, str]:
    prop = component.get(name)
    tzid = prop.params.get("TZID") if prop is not None else None
    if tzid is not None and str(tzid) not in known_timezones():
        raise ValueError(_("%(label)s uses the unknown time zone “%(zone)s”; use an IANA name such as "
                           "Europe/Zurich.", label=label, zone=tzid))
    value = prop.dt
    if not isinstance(value, datetime):
        raise ValueError(_("%(label)s is a date without a time; give the time the event starts and ends.",
                           label=label))
    if tzid is not None:
        return value.replace(tzinfo=ZoneInfo(str(tzid))), str(tzid)
    if value.tzinfo is None:
        # floating time: read it in the zone the importer named
        return value.replace(tzinfo=ZoneInfo(default_zone)), default_zone
    return value.astimezone(UTC), default_zone


def parse_calendar(data: bytes, *, default_locale: str = DEFAULT_LOCALE,
                   default_timezone: str = "Europe/Zurich") -> list[ParsedEvent]:
    """Every VEVENT of ``data``, or CalendarFileError listing every problem found; nothing half-read."""
    try:
        calendars = Calendar.from_ical(data, multiple=True)
    except Exception as exc:  # the parser raises several kinds for broken input
        raise CalendarFileError([_("The file is not valid iCalendar: %(reason)s", reason=str(exc)[:200])]) from exc
    vcalendars = [c for c in calendars if c.name == "VCALENDAR"]
    if not vcalendars:
        raise CalendarFileError([_("The file holds no VCALENDAR.")])
    errors: list[str] = []
    parsed: list[ParsedEvent] = []
    seen: set[str] = set()
    number = 0
    for calendar in vcalendars:
        for component in calendar.walk("VEVENT"):
            number += 1
            uid = _first_text(component, "UID") or ""
            label = _("Event %(number)s (%(uid)s)", number=number, uid=uid or _("no UID"))
            problems = [f"{name}: {reason}" for name, reason in getattr(component, "errors", [])]
            if not uid:
                problems.append(_("it has no UID, so importing it again would duplicate it"))
            elif uid in seen:
                problems.append(_("its UID appears twice in the file"))
            seen.add(uid)
            if component.get("DTSTART") is None:
                problems.append(_("it has no DTSTART"))
            if problems:
                errors.append(f"{label}: {'; '.join(problems)}")
                continue
            try:
                parsed.append(_parse_event(component, uid, default_locale, default_timezone))
            except Exception as exc:
                errors.append(f"{label}: {exc}")
    if not number and not errors:
        errors.append(_("The file holds no events."))
    if errors:
        raise CalendarFileError(errors)
    return parsed


def _parse_event(component: Any, uid: str, default_locale: str, default_timezone: str) -> ParsedEvent:
    starts_at, zone = _when(component, "DTSTART", default_timezone, "DTSTART")
    if component.get("DTEND") is not None:
        ends_at, _end_zone = _when(component, "DTEND", zone, "DTEND")
    elif component.get("DURATION") is not None:
        ends_at = starts_at + component["DURATION"].dt
    else:
        raise ValueError(_("it has neither DTEND nor DURATION"))
    kind_value = _first_text(component, X_KIND)
    if kind_value is None:
        categories = [str(c).strip().lower() for prop in _values(component, "CATEGORIES") for c in prop.cats]
        kind_value = next((c for c in categories if c in {k.value for k in EventKind}), None)
    if kind_value is not None and kind_value not in {k.value for k in EventKind}:
        raise ValueError(_("unknown kind “%(kind)s”", kind=kind_value))
    session = _first_text(component, X_SESSION)
    online = [str(uri) for uri in _values(component, "CONFERENCE")]
    status = str(component.get("STATUS") or "").upper()
    # our own feeds say the venue apart from the room; other calendars put it all in LOCATION
    venue = _first_text(component, X_VENUE) or _first_text(component, "LOCATION")
    details = EventDetails(
        title=(_per_language(component, X_TITLE, default_locale)
               or _per_language(component, "SUMMARY", default_locale)),
        description=(_per_language(component, X_DESCRIPTION, default_locale)
                     if component.get(X_TITLE) is not None
                     else _per_language(component, "DESCRIPTION", default_locale)),
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=zone,
        status=EventStatus.CANCELLED if status == "CANCELLED" else EventStatus.SCHEDULED,
        kind=EventKind(kind_value) if kind_value else EventKind.SIDE_EVENT,
        venue=venue,
        room=_first_text(component, X_ROOM),
        city=_first_text(component, X_CITY),
        country=(_first_text(component, X_COUNTRY) or "").upper() or None,
        online_url=online[0] if online else None,
        hrc_session=parse_session(session) if session else None,
        organisers=tuple(_unescape(v) for v in _values(component, X_ORGANISER)),
        languages=_split(component, X_LANGUAGES),
        interpretation=_split(component, X_INTERPRETATION),
        campaign_slug=_first_text(component, X_CAMPAIGN),
        petition_slugs=_split(component, X_PETITIONS),
    )
    return ParsedEvent(uid=uid, sequence=int(component.get("SEQUENCE") or 0), details=details,
                       kind_given=kind_value is not None)


def parse_session(value: str | int) -> int:
    """"HRC 61", "hrc-61", "61" → 61."""
    match = re.fullmatch(r"\s*(?:hrc[\s\-_]*)?(\d{1,3})\s*", str(value), flags=re.IGNORECASE)
    if not match or int(match.group(1)) < 1:
        raise ValueError(_("“%(value)s” is not a Human Rights Council session such as HRC 61.", value=value))
    return int(match.group(1))


# ---------------------------------------------------------------- writing


def location_text(event: Event) -> str:
    parts = [event.room, event.venue, event.city]
    return ", ".join(part for part in parts if part)


def _description(event: Event, locale: str, page_url: str) -> str:
    from advocacy.events.services import language_name

    lines = [event.display_description(locale)] if event.description else []
    if event.organisers:
        lines.append(_("Organised by: %(names)s", names=", ".join(event.organisers)))
    if event.languages:
        lines.append(_("Languages: %(names)s", names=", ".join(language_name(c, locale) for c in event.languages)))
    if event.interpretation:
        lines.append(_("Interpretation into: %(names)s",
                       names=", ".join(language_name(c, locale) for c in event.interpretation)))
    if event.online_url:
        lines.append(_("Online: %(url)s", url=event.online_url))
    lines.append(page_url)
    return "\n\n".join(line for line in lines if line)


def _add_text(component: Any, name: str, text: str, *, language: str | None = None) -> None:
    """icalendar escapes only the properties it knows; our X- properties are text too."""
    component.add(name, vText(text), parameters={"LANGUAGE": language} if language else None)


def to_vevent(event: Event, locale: str) -> VEvent:
    page_url = external_url("events.show", event_id=event.id)
    vevent = VEvent.new(
        uid=event.uid,
        summary=event.display_title(locale),
        description=_description(event, locale, page_url),
        start=event.local_start,
        end=event.local_end,
        stamp=event.updated_at,
        created=event.created_at,
        last_modified=event.updated_at,
        sequence=event.sequence,
        location=location_text(event) or None,
        url=page_url,
        categories=[event.kind.value],
    )
    # the text is in the viewer's language when we have it, else in the fallback
    text_locale = locale if locale in event.title else DEFAULT_LOCALE if DEFAULT_LOCALE in event.title else None
    if text_locale:
        vevent["SUMMARY"].params["LANGUAGE"] = text_locale
    vevent.add("STATUS", "CANCELLED" if event.is_cancelled else "CONFIRMED")
    if event.online_url:
        vevent.conferences = [Conference(event.online_url, feature="VIDEO", label=_("Join online"))]
    for name, texts in ((X_TITLE, event.title), (X_DESCRIPTION, event.description)):
        for language, text in sorted(texts.items()):
            _add_text(vevent, name, text, language=language)
    _add_text(vevent, X_KIND, event.kind.value)
    if event.hrc_session:
        _add_text(vevent, X_SESSION, f"HRC {event.hrc_session}")
    for name, value in ((X_VENUE, event.venue), (X_ROOM, event.room), (X_CITY, event.city),
                        (X_COUNTRY, event.country)):
        if value:
            _add_text(vevent, name, value)
    for organiser in event.organisers:
        _add_text(vevent, X_ORGANISER, organiser)
    if event.languages:
        _add_text(vevent, X_LANGUAGES, ",".join(event.languages))
    if event.interpretation:
        _add_text(vevent, X_INTERPRETATION, ",".join(event.interpretation))
    if event.campaign is not None:
        _add_text(vevent, X_CAMPAIGN, event.campaign.slug)
    if event.public_petitions:
        _add_text(vevent, X_PETITIONS, ",".join(p.slug for p in event.public_petitions))
    return vevent


def build_calendar(events: Iterable[Event], *, name: str, locale: str, feed_url: str,
                   description: str | None = None) -> bytes:
    """One VCALENDAR with a VTIMEZONE for every zone its events use, in the given language."""
    events = list(events)
    calendar = Calendar.new(
        prodid=PRODID,
        name=" ".join(name.split()),
        description=description,
        # the same feed keeps the same calendar UID across requests
        uid=str(uuid.uuid5(uuid.NAMESPACE_URL, feed_url)),
        url=feed_url,
        source=feed_url,
        refresh_interval=REFRESH,
    )
    calendar.add("X-PUBLISHED-TTL", "PT6H")
    calendar.add("X-WR-TIMEZONE", events[0].timezone if events else "UTC")
    for event in events:
        calendar.add_component(to_vevent(event, locale))
    if events:
        first = min(e.starts_at for e in events).date() - timedelta(days=366)
        last = max(e.ends_at for e in events).date() + timedelta(days=366)
        # VTIMEZONEs go first, in a fixed order, so the same events always give the same bytes
        for position, tzid in enumerate(sorted(calendar.get_missing_tzids())):
            calendar.subcomponents.insert(position, _vtimezone(tzid, first.year, last.year + 1))
    return bytes(calendar.to_ical())


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The zone's offsets and changes as tzdata knows them, over the years the feed covers."""
    return Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 1, 1))
