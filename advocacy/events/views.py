"""The public calendar: list and month views with filters, event pages in two zones, iCalendar feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_interval, get_day_names, get_timezone_name
from flask import Blueprint, Response, abort, current_app, make_response, render_template, request
from flask_babel import gettext as _

from advocacy.dbtypes import utcnow
from advocacy.events import ical, services, zones
from advocacy.events.forms import KIND_LABELS
from advocacy.events.models import Event, EventKind, EventStatus
from advocacy.events.services import EventFilter, EventNotFound
from advocacy.i18n import current_locale, is_country
from advocacy.urls import external_url, webcal

bp = Blueprint("events", __name__, url_prefix="/events")

TZ_COOKIE = "tz"
PAST_LIMIT = 200
FILTER_KEYS = ("session", "kind", "campaign", "language", "country", "mode")


# ---------------------------------------------------------------- helpers for templates


@bp.app_template_global()
def kind_label(kind: EventKind) -> str:
    return str(KIND_LABELS[kind])


@bp.app_template_global()
def session_label(number: int) -> str:
    return _("HRC %(number)s", number=number)


@bp.app_template_global()
def language_label(code: str) -> str:
    return services.language_name(code, current_locale())


@bp.app_template_global()
def zone_label(zone: str, at: datetime) -> str:
    """"Central European Summer Time (Europe/Zurich)": the name changes with daylight saving time."""
    name = get_timezone_name(at.astimezone(ZoneInfo(zone)), "long", locale=current_locale())
    return f"{name} ({zones.canonical(zone)})"


@bp.app_template_global()
def event_when(event: Event, zone: str | None = None) -> str:
    """The date and times of an event in a zone (the event's own by default), in the viewer's language."""
    tz = ZoneInfo(zone or event.timezone)
    locale = current_locale()
    start, end = event.starts_at.astimezone(tz), event.ends_at.astimezone(tz)
    if start.date() == end.date():
        return _("%(date)s, %(times)s", date=format_date(start, "full", locale=locale),
                 times=format_interval(start, end, "Hm", tzinfo=tz, locale=locale))
    return _("%(start)s to %(end)s", start=format_datetime(start, "d MMMM y, HH:mm", tzinfo=tz, locale=locale),
             end=format_datetime(end, "d MMMM y, HH:mm", tzinfo=tz, locale=locale))


@bp.app_template_global()
def event_time(event: Event, zone: str | None = None) -> str:
    tz = ZoneInfo(zone or event.timezone)
    return format_interval(event.starts_at.astimezone(tz), event.ends_at.astimezone(tz), "Hm", tzinfo=tz,
                           locale=current_locale())


@bp.app_template_global()
def event_place(event: Event) -> str:
    place = ical.location_text(event)
    if event.country:
        from advocacy.i18n import country_name

        place = ", ".join(part for part in (place, country_name(event.country)) if part)
    return place


def _zone_choices() -> list[str]:
    return list(zones.canonical_zones())  # Europe/Kyiv once, no deprecated aliases


def _viewer_zone() -> tuple[str | None, bool]:
    """The zone the viewer chose (?tz=, remembered in a cookie), and whether the choice was refused."""
    if "tz" in request.args:
        value = request.args["tz"].strip()
        if not value:
            return None, False
        if value in ical.known_timezones():
            return zones.canonical(value), False
        return None, True
    cookie = request.cookies.get(TZ_COOKIE)
    return (zones.canonical(cookie) if cookie in ical.known_timezones() else None), False


def _remember_zone(response: Response) -> Response:
    if "tz" in request.args:
        value = request.args["tz"].strip()
        if value in ical.known_timezones():
            response.set_cookie(TZ_COOKIE, value, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                                secure=current_app.config["SESSION_COOKIE_SECURE"])
        elif not value:
            response.delete_cookie(TZ_COOKIE)
    return response


def _filters() -> EventFilter:
    """Filters from the query string; a value that makes no sense is ignored rather than refused."""
    args = request.args
    session = None
    if args.get("session"):
        try:
            session = ical.parse_session(args["session"])
        except ValueError:
            session = None
    kind = EventKind(args["kind"]) if args.get("kind") in {k.value for k in EventKind} else None
    country = (args.get("country") or "").upper()
    mode = args.get("mode") if args.get("mode") in {"online", "in_person"} else None
    language = (args.get("language") or "").lower()
    return EventFilter(
        hrc_session=session, kind=kind, campaign_slug=(args.get("campaign") or "").strip() or None,
        language=language if language.isalpha() and 2 <= len(language) <= 3 else None,
        country=country if is_country(country) else None, mode=mode,  # type: ignore[arg-type]
    )


def _filter_args() -> dict[str, str]:
    return {key: request.args[key] for key in (*FILTER_KEYS, "tz") if request.args.get(key)}


def _page(template: str, **context: Any) -> Response:
    zone, zone_refused = _viewer_zone()
    context.setdefault("viewer_zone", zone)
    response = make_response(render_template(
        template, zone_refused=zone_refused, zone_choices=_zone_choices(), filter_args=_filter_args(),
        kind_choices=list(EventKind), now=utcnow(), **context,
    ))
    return _remember_zone(response)


def _feed_links(endpoint: str, **values: Any) -> dict[str, str]:
    url = external_url(endpoint, lang=current_locale(), **values)
    return {"https": url, "webcal": webcal(url)}


# ---------------------------------------------------------------- pages


@bp.get("/")
def index() -> Response:
    when: services.When = "past" if request.args.get("when") == "past" else "upcoming"
    filters = _filters()
    events = services.find_events(filters, when=when, limit=PAST_LIMIT if when == "past" else None)
    return _page("events/index.html", events=events, when=when, filters=filters,
                 choices=services.filter_choices(), feed=_feed_links("events.feed"))


@bp.get("/calendar")
@bp.get("/calendar/<int:year>/<int:month>")
def month(year: int | None = None, month: int | None = None) -> Response:
    zone, _refused = _viewer_zone()
    if year is None or month is None:
        today = utcnow().astimezone(ZoneInfo(zone or "Europe/Zurich")).date()
        year, month = today.year, today.month
    if not (1 <= month <= 12 and 1900 <= year <= 2999):
        abort(404)
    locale = Locale.parse(current_locale())
    first_weekday = locale.first_week_day
    grid = services.month_grid(year, month, _filters(), viewer_zone=zone, first_weekday=first_weekday)
    names = get_day_names("abbreviated", context="stand-alone", locale=locale)
    long_names = get_day_names("wide", context="stand-alone", locale=locale)
    weekdays = [(names[(first_weekday + i) % 7], long_names[(first_weekday + i) % 7]) for i in range(7)]
    return _page("events/month.html", grid=grid, weekdays=weekdays, filters=_filters(),
                 month_title=format_date(grid.first, "LLLL y", locale=locale),
                 choices=services.filter_choices(), feed=_feed_links("events.feed"))


def _event_or_404(event_id: int) -> Event:
    try:
        return services.get_event_by_id(event_id)
    except EventNotFound:
        abort(404)


@bp.get("/<int:event_id>")
def show(event_id: int) -> Response:
    event = _event_or_404(event_id)
    feeds = {}
    if event.hrc_session:
        feeds["session"] = _feed_links("events.session_feed", number=event.hrc_session)
    if event.campaign is not None:
        feeds["campaign"] = _feed_links("events.campaign_feed", slug=event.campaign.slug)
    return _page("events/show.html", event=event, feeds=feeds, feed=_feed_links("events.feed"),
                 status=EventStatus)


# ---------------------------------------------------------------- feeds


def _calendar_response(events: list[Event], *, name: str, endpoint: str, filename: str,
                       attachment: bool = False, **values: Any) -> Response:
    locale = current_locale()
    body = ical.build_calendar(events, name=name, locale=locale,
                               feed_url=external_url(endpoint, lang=locale, **values))
    response = Response(body, mimetype="text/calendar")
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=300"
    response.add_etag()
    response.make_conditional(request)
    return response


@bp.get("/<int:event_id>.ics")
def event_feed(event_id: int) -> Response:
    event = _event_or_404(event_id)
    return _calendar_response([event], name=event.display_title(), endpoint="events.event_feed",
                              filename=f"event-{event.id}.ics", attachment=True, event_id=event.id)


@bp.get("/feed.ics")
def feed() -> Response:
    return _calendar_response(services.all_events(), name=_("People First events"), endpoint="events.feed",
                              filename="events.ics")


@bp.get("/campaigns/<slug>.ics")
def campaign_feed(slug: str) -> Response:
    try:
        campaign = services.get_campaign(slug)
    except EventNotFound:
        abort(404)
    return _calendar_response(services.events_of_campaign(slug),
                              name=_("%(campaign)s: events", campaign=campaign.display_name()),
                              endpoint="events.campaign_feed", filename=f"{slug}-events.ics", slug=slug)


@bp.get("/sessions/<int:number>.ics")
def session_feed(number: int) -> Response:
    return _calendar_response(services.events_of_session(number),
                              name=_("Events at the Human Rights Council, session %(number)s", number=number),
                              endpoint="events.session_feed", filename=f"hrc-{number}-events.ics", number=number)
