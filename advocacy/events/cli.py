"""``advocacy events``: import .ics files, add, change, publish or cancel an event, list them.

The services flush; each command commits once when all went well and rolls back otherwise.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import IO

import click
from flask.cli import with_appcontext

from advocacy.accounts.roles import SYSTEM
from advocacy.events import ical, services
from advocacy.events.models import EventDetails, EventKind
from advocacy.events.services import EventNotFound, EventRejected, StaleEdit
from advocacy.extensions import db

KINDS = click.Choice([k.value for k in EventKind])


def _per_locale(values: tuple[str, ...]) -> dict[str, str]:
    """``--title "uk=Текст"``; a value without ``xx=`` is English."""
    texts: dict[str, str] = {}
    for value in values:
        head, sep, text = value.partition("=")
        if sep and 2 <= len(head) <= 3 and head.isalpha():
            texts[head.lower()] = text
        else:
            texts["en"] = value
    return texts


def _session(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return ical.parse_session(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--session") from exc


def _fail(rejected: EventRejected) -> None:
    db.session.rollback()
    for message in rejected.errors:
        click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(1)


@click.group("events")
def events_group() -> None:
    """Manage the events calendar."""


@events_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--locale", default="en", show_default=True, help="Language of texts without a LANGUAGE parameter.")
@click.option("--timezone", default="Europe/Zurich", show_default=True,
              help="IANA zone for times given in UTC or without a zone.")
@click.option("--kind", type=KINDS, default=EventKind.SIDE_EVENT.value, show_default=True,
              help="Kind of events the file does not say.")
@click.option("--campaign", help="Campaign slug for events that name none.")
@click.option("--petition", multiple=True, help="Slug of a related petition (repeatable).")
@click.option("--session", help="HRC session for events that name none, e.g. 'HRC 61'.")
@click.option("--country", help="ISO country code for events that name none.")
@with_appcontext
def import_command(file: str, locale: str, timezone: str, kind: str, campaign: str | None,
                   petition: tuple[str, ...], session: str | None, country: str | None) -> None:
    """Create or update the events of an iCalendar FILE; nothing changes if any of it is wrong."""
    if file != "-" and os.path.getsize(file) > services.MAX_ICS_BYTES:
        _fail(EventRejected([f"The file is larger than {services.MAX_ICS_BYTES // (1024 * 1024)} MB."]))
    stream: IO[bytes]
    with click.open_file(file, "rb") as stream:
        try:
            outcome = services.import_ics(
                stream, actor=SYSTEM, default_locale=locale, default_timezone=timezone, default_kind=EventKind(kind),
                campaign_slug=campaign, petition_slugs=petition, hrc_session=_session(session), country=country,
            )
            db.session.commit()
        except EventRejected as rejected:
            _fail(rejected)
            return
        except StaleEdit as stale:
            db.session.rollback()
            raise click.ClickException(f"nothing imported: {stale}") from None
        except BaseException:
            # a file that fails part-way changes nothing
            db.session.rollback()
            raise
    click.echo(f"imported {outcome.total} event(s): {len(outcome.created)} new, {len(outcome.updated)} updated, "
               f"{len(outcome.unchanged)} unchanged")


def _parse_local(value: str, timezone: str, option: str) -> datetime:
    try:
        naive = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")  # noqa: DTZ007 (the zone is put on next)
    except ValueError as exc:
        raise click.BadParameter("use the form 'YYYY-MM-DD HH:MM'", param_hint=option) from exc
    return services.local_time(naive, naive.strftime("%H:%M"), timezone)


@events_group.command("add")
@click.option("--uid", help="Change the event with this UID instead of adding one (its SEQUENCE goes up).")
@click.option("--version", "version", type=int,
              help="With --uid: the version of the event you edit (see 'events list'); refused if it changed since.")
@click.option("--draft", is_flag=True, help="Add the event as a draft, hidden until 'events publish UID'.")
@click.option("--title", "titles", multiple=True, required=True, help="Title, e.g. 'Free them all' or 'uk=…'.")
@click.option("--description", "descriptions", multiple=True, help="Description, per locale like --title.")
@click.option("--start", required=True, help="Local start at the event: 'YYYY-MM-DD HH:MM'.")
@click.option("--end", required=True, help="Local end at the event: 'YYYY-MM-DD HH:MM'.")
@click.option("--timezone", default="Europe/Zurich", show_default=True, help="IANA zone of the event.")
@click.option("--kind", type=KINDS, default=EventKind.SIDE_EVENT.value, show_default=True)
@click.option("--venue", help="e.g. 'Palais des Nations'.")
@click.option("--room", help="e.g. 'Room XXII'.")
@click.option("--city")
@click.option("--country", help="ISO 3166 code, e.g. CH.")
@click.option("--online-url", help="Link to join online.")
@click.option("--session", help="HRC session, e.g. 'HRC 61'.")
@click.option("--organiser", "organisers", multiple=True, help="Organising partner (repeatable).")
@click.option("--language", "languages", multiple=True, help="Language spoken, e.g. en (repeatable).")
@click.option("--interpretation", multiple=True, help="Language interpreted into (repeatable).")
@click.option("--campaign", help="Campaign slug.")
@click.option("--petition", "petitions", multiple=True, help="Related petition slug (repeatable).")
@with_appcontext
def add_command(uid: str | None, version: int | None, draft: bool, titles: tuple[str, ...],
                descriptions: tuple[str, ...], start: str, end: str,
                timezone: str, kind: str, venue: str | None, room: str | None, city: str | None,
                country: str | None, online_url: str | None, session: str | None, organisers: tuple[str, ...],
                languages: tuple[str, ...], interpretation: tuple[str, ...], campaign: str | None,
                petitions: tuple[str, ...]) -> None:
    """Add an event (published unless --draft), or replace the details of the event with --uid."""
    if version is not None and not uid:
        raise click.UsageError("--version goes with --uid")
    if draft and uid:
        raise click.UsageError("--draft is for new events; a changed event keeps its state")
    try:
        if timezone not in ical.known_timezones():
            raise EventRejected([f"“{timezone}” is not a time zone; use an IANA name such as Europe/Zurich."])
        details = EventDetails(
            title=_per_locale(titles), description=_per_locale(descriptions),
            starts_at=_parse_local(start, timezone, "--start"), ends_at=_parse_local(end, timezone, "--end"),
            timezone=timezone, kind=EventKind(kind), venue=venue, room=room, city=city, country=country,
            online_url=online_url, hrc_session=_session(session), organisers=organisers, languages=languages,
            interpretation=interpretation, campaign_slug=campaign, petition_slugs=petitions,
        )
        if uid:
            # without --version, the version read now: the command is its own reader
            edited = version if version is not None else services.get_event(uid).version
            outcome = services.update_event(uid, details, actor=SYSTEM, version=edited)
            event = outcome.event
            verb = "changed" if outcome.changed else "unchanged"
        else:
            event = services.create_event(details, actor=SYSTEM)
            if not draft:
                services.publish_event(event.uid, actor=SYSTEM)
            verb = "added as a draft" if draft else "added"
        db.session.commit()
    except EventRejected as rejected:
        _fail(rejected)
        return
    except EventNotFound:
        db.session.rollback()
        raise click.ClickException(f"no event with UID {uid}") from None
    except StaleEdit as stale:
        db.session.rollback()
        raise click.ClickException(f"not changed: {stale}") from None
    click.echo(f"{verb} {event.uid} (sequence {event.sequence}, version {event.version})")


@events_group.command("publish")
@click.argument("uid")
@with_appcontext
def publish_command(uid: str) -> None:
    """Publish a draft: it appears on the public pages and in the feeds. Publishing twice changes nothing."""
    try:
        event = services.publish_event(uid, actor=SYSTEM)
        db.session.commit()
    except EventNotFound:
        db.session.rollback()
        raise click.ClickException(f"no event with UID {uid}") from None
    click.echo(f"published {event.uid}")


@events_group.command("cancel")
@click.argument("uid")
@with_appcontext
def cancel_command(uid: str) -> None:
    """Mark an event cancelled: it stays listed, and calendars that subscribed see it cancelled."""
    try:
        event = services.cancel_event(uid, actor=SYSTEM)
        db.session.commit()
    except EventNotFound:
        db.session.rollback()
        raise click.ClickException(f"no event with UID {uid}") from None
    click.echo(f"cancelled {event.uid} (sequence {event.sequence})")


@events_group.command("list")
@with_appcontext
def list_command() -> None:
    """Every event, drafts too, with its UID, start in its own zone, status and version."""
    for event in services.all_events(include_drafts=True):
        status = f"{event.status.value} (draft)" if event.is_draft else event.status.value
        click.echo(f"{event.uid}\t{event.local_start:%Y-%m-%d %H:%M} {event.timezone}\t{status}\t"
                   f"v{event.version}\t{event.display_title('en')}")
