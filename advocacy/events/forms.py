"""The console's event forms: the details of one event, and an .ics upload.

The form checks what a person can fix beside a field (a date, a time the clocks skip, a link); the
service checks everything again and its refusals are shown at the top of the form.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    Field,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from advocacy.events import ical, services, zones
from advocacy.events.models import Event, EventDetails, EventKind
from advocacy.petitions.models import Campaign, Petition

DEFAULT_LOCALES = ("en", "uk", "ru")
KIND_LABELS = {
    EventKind.SIDE_EVENT: _l("Side-event"),
    EventKind.HAND_IN: _l("Petition hand-in"),
    EventKind.EXHIBITION: _l("Exhibition"),
    EventKind.RALLY: _l("Rally"),
    EventKind.WEBINAR: _l("Webinar"),
}
DEFAULT_ZONE = "Europe/Zurich"


def zone_choices() -> list[tuple[str, str]]:
    """Canonical zones only (Europe/Kyiv, never Europe/Kiev): see advocacy.events.zones."""
    return zones.zone_choices()


def form_locales(campaigns: Iterable[Campaign], event: Event | None = None) -> list[str]:
    """The languages the form asks texts in: the campaigns', and any the event already has."""
    codes: list[str] = []
    if event is not None and event.campaign is not None:
        codes.extend(event.campaign.languages or [])
    else:
        for campaign in campaigns:
            codes.extend(campaign.languages or [])
    if event is not None:
        codes.extend([*event.title, *event.description])
    codes = [c for c in dict.fromkeys(codes) if c.isalpha() and 2 <= len(c) <= 3]
    return codes or list(DEFAULT_LOCALES)


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip())


def _check_codes(form: FlaskForm, field: Field) -> None:
    for code in _codes(field.data):
        if not (code.isalpha() and 2 <= len(code) <= 3):
            raise ValidationError(_l("Give languages as codes such as en, uk or ru, separated by commas."))


def _check_url(form: FlaskForm, field: Field) -> None:
    value = (field.data or "").strip()
    if value and (urlsplit(value).scheme not in {"https", "http"} or not urlsplit(value).netloc):
        raise ValidationError(_l("The online link must start with https://."))


class EventForm(FlaskForm):
    """Fields for titles and descriptions are added per language by :func:`event_form`."""

    version = HiddenField()
    kind = SelectField(_l("Kind of event"), choices=[])
    start_date = DateField(_l("Start date"), validators=[InputRequired(_l("Enter the date the event starts."))])
    start_time = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter the time the event starts."))])
    end_date = DateField(_l("End date"), validators=[InputRequired(_l("Enter the date the event ends."))])
    end_time = TimeField(_l("End time"), validators=[InputRequired(_l("Enter the time the event ends."))])
    timezone = SelectField(_l("Time zone"), default=DEFAULT_ZONE)
    venue = StringField(_l("Venue"), render_kw={"maxlength": 200})
    room = StringField(_l("Room"), render_kw={"maxlength": 100})
    city = StringField(_l("City"), render_kw={"maxlength": 100})
    country = StringField(_l("Country code"), render_kw={"maxlength": 2, "size": 3})
    online_url = StringField(_l("Link to join online"), validators=[_check_url], render_kw={"maxlength": 500})
    hrc_session = IntegerField(_l("Human Rights Council session"),
                               validators=[Optional(), NumberRange(1, 999, _l("Enter a session number such as 61."))])
    organisers = TextAreaField(_l("Organising partners"), render_kw={"rows": 3})
    languages = StringField(_l("Languages spoken"), validators=[_check_codes])
    interpretation = StringField(_l("Interpretation into"), validators=[_check_codes])
    campaign = SelectField(_l("Campaign"))
    petitions = SelectMultipleField(_l("Petitions"))

    locales: Sequence[str] = ()

    def title_field(self, locale: str) -> Field:
        return self[f"title_{locale}"]

    def description_field(self, locale: str) -> Field:
        return self[f"description_{locale}"]

    def validate_version(self, field: Field) -> None:
        if field.data and not str(field.data).isdigit():
            raise ValidationError(_l("This form was damaged. Open the event again."))

    def validate_start_time(self, field: Field) -> None:
        self._local(self.start_date.data, field)

    def validate_end_time(self, field: Field) -> None:
        end = self._local(self.end_date.data, field)
        start = self._local(self.start_date.data, self.start_time, quiet=True)
        if start is not None and end is not None and end < start:
            raise ValidationError(_l("The event ends before it starts."))

    def validate_venue(self, field: Field) -> None:
        if not (field.data or "").strip() and not (self.online_url.data or "").strip():
            raise ValidationError(_l("Give a venue, a link to join online, or both."))

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not any((self.title_field(locale).data or "").strip() for locale in self.locales):
            self.title_field(self.locales[0]).errors = [*self.title_field(self.locales[0]).errors,
                                                        _l("Give the event a title.")]
            ok = False
        return ok

    def _local(self, day: date | None, field: Field, *, quiet: bool = False) -> datetime | None:
        if day is None or not isinstance(field.data, time) or self.timezone.data not in ical.known_timezones():
            return None
        try:
            return services.local_time(day, field.data.strftime("%H:%M"), self.timezone.data)
        except services.EventRejected as rejected:
            if quiet:
                return None
            raise ValidationError(" ".join(rejected.errors)) from rejected

    def details(self) -> EventDetails:
        """What was typed, as the service takes it (call after ``validate``)."""
        start = self._local(self.start_date.data, self.start_time, quiet=True)
        end = self._local(self.end_date.data, self.end_time, quiet=True)
        if start is None or end is None:
            raise ValueError("details() is called on a validated form")
        return EventDetails(
            title={locale: self.title_field(locale).data or "" for locale in self.locales},
            description={locale: self.description_field(locale).data or "" for locale in self.locales},
            starts_at=start, ends_at=end, timezone=self.timezone.data, kind=EventKind(self.kind.data),
            venue=self.venue.data, room=self.room.data, city=self.city.data, country=self.country.data,
            online_url=self.online_url.data, hrc_session=self.hrc_session.data,
            organisers=tuple(line.strip() for line in (self.organisers.data or "").splitlines() if line.strip()),
            languages=_codes(self.languages.data), interpretation=_codes(self.interpretation.data),
            campaign_slug=self.campaign.data or None, petition_slugs=tuple(self.petitions.data or ()),
        )

    def fill(self, event: Event) -> None:
        """Put an event's details in the fields, for the edit page (not on a post)."""
        for locale in self.locales:
            self.title_field(locale).data = event.title.get(locale, "")
            self.description_field(locale).data = event.description.get(locale, "")
        start, end = event.local_start, event.local_end
        self.version.data = str(event.version)
        self.kind.data = event.kind.value
        self.start_date.data, self.start_time.data = start.date(), start.time().replace(tzinfo=None)
        self.end_date.data, self.end_time.data = end.date(), end.time().replace(tzinfo=None)
        self.timezone.data = zones.canonical(event.timezone)  # an event stored as Europe/Kiev edits as Kyiv
        self.venue.data, self.room.data, self.city.data = event.venue, event.room, event.city
        self.country.data, self.online_url.data = event.country, event.online_url
        self.hrc_session.data = event.hrc_session
        self.organisers.data = "\n".join(event.organisers)
        self.languages.data = ", ".join(event.languages)
        self.interpretation.data = ", ".join(event.interpretation)
        self.campaign.data = event.campaign.slug if event.campaign is not None else ""
        self.petitions.data = [p.slug for p in event.petitions]


def event_form(*, locales: Sequence[str], campaigns: Sequence[Campaign],
               petitions: dict[Campaign, list[Petition]], allow_no_campaign: bool,
               **kwargs: Any) -> EventForm:
    """An event form asking title and description in ``locales``, offering only the given campaigns."""

    class LocalizedEventForm(EventForm):
        pass

    for locale in locales:
        setattr(LocalizedEventForm, f"title_{locale}",
                StringField(_l("Title (%(language)s)", language=locale), render_kw={"maxlength": services.TITLE_MAX,
                                                                                    "lang": locale}))
        setattr(LocalizedEventForm, f"description_{locale}",
                TextAreaField(_l("Description (%(language)s)", language=locale),
                              render_kw={"rows": 4, "maxlength": services.DESCRIPTION_MAX, "lang": locale}))
    LocalizedEventForm.locales = tuple(locales)
    form = LocalizedEventForm(**kwargs)
    form.kind.choices = [(kind.value, str(KIND_LABELS[kind])) for kind in EventKind]
    form.timezone.choices = zone_choices()
    form.campaign.choices = ([("", str(_l("No campaign")))] if allow_no_campaign else []) + [
        (campaign.slug, campaign.display_name()) for campaign in campaigns
    ]
    form.petitions.choices = {  # grouped by campaign; the service refuses one of another campaign
        campaign.display_name(): [(p.slug, p.display_title()) for p in petitions.get(campaign, [])]
        for campaign in campaigns if petitions.get(campaign)
    }
    return form


class ImportForm(FlaskForm):
    file = FileField(_l("iCalendar file (.ics)"), validators=[FileRequired(_l("Choose an .ics file."))])
    campaign = SelectField(_l("Campaign"))
    locale = SelectField(_l("Language of texts that name none"))
    timezone = SelectField(_l("Time zone of times that name none"), default=DEFAULT_ZONE)

    def __init__(self, *args: Any, campaigns: Sequence[Campaign], allow_no_campaign: bool, locales: Sequence[str],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign.choices = ([("", str(_l("No campaign")))] if allow_no_campaign else []) + [
            (campaign.slug, campaign.display_name()) for campaign in campaigns
        ]
        self.locale.choices = [(code, code) for code in locales]
        self.timezone.choices = zone_choices()


class ConfirmForm(FlaskForm):
    """A button that posts (publish, cancel): only the CSRF token."""
