"""The console's forms: one field per locale for texts (``name_en``, ``name_uk``…), the version an edit was
made on in a hidden field, and helpers that put a service's refusal beside the field it concerns."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from advocacy.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, countries
from advocacy.petitions.models import DataSharing, DeliveryChannel


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def texts(form: FlaskForm, prefix: str, locales: Iterable[str] = SUPPORTED_LOCALES) -> dict[str, str]:
    """The per-locale values of ``prefix_<locale>`` fields, empty ones left out (the services drop them)."""
    values = {}
    for locale in locales:
        value = (form[f"{prefix}_{locale}"].data or "").strip()
        if value:
            values[locale] = value
    return values


def fill_texts(form: FlaskForm, prefix: str, values: Mapping[str, str] | None) -> None:
    for locale in SUPPORTED_LOCALES:
        form[f"{prefix}_{locale}"].data = (values or {}).get(locale, "")


def add_error(form: FlaskForm, name: str, message: str) -> None:
    """Show ``message`` beside the field ``name`` (and in the summary), or at the top if there is none."""
    field = form._fields.get(name)
    if field is None:
        form.form_errors.append(message)
        return
    field.errors = [*field.errors, message]


def apply_errors(form: FlaskForm, errors: Mapping[str, str], locales: Sequence[str] = SUPPORTED_LOCALES,
                 aliases: Mapping[str, str] | None = None) -> None:
    """Put a service's ``Rejected.errors`` (field → message) on the form. A per-locale text's message goes
    beside its first language's field."""
    for name, message in errors.items():
        name = (aliases or {}).get(name, name)
        if name not in form._fields and f"{name}_{locales[0] if locales else 'en'}" in form._fields:
            name = f"{name}_{locales[0]}"
        add_error(form, name, message)


def _add_locale_fields(form: type[FlaskForm], prefix: str, make: Any) -> None:
    """``prefix_en``, ``prefix_uk``…: one field per supported locale, its input marked with that language."""
    for locale in SUPPORTED_LOCALES:
        setattr(form, f"{prefix}_{locale}", make(locale))


def language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES]


# --- campaigns ---------------------------------------------------------------------------------------------

class CampaignForm(FlaskForm):
    slug = StringField(_l("Address"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    version = HiddenField()
    languages = MultiCheckboxField(_l("Languages"), choices=language_choices())
    website = URLField(_l("Website"))
    sender_name = StringField(_l("Sender name"))



# --- targets -----------------------------------------------------------------------------------------------

_add_locale_fields(CampaignForm, "name", lambda code: StringField(_l("Name"), render_kw={"lang": code}))
_add_locale_fields(CampaignForm, "description",
                   lambda code: TextAreaField(_l("Description"), render_kw={"lang": code, "rows": 5}))
_add_locale_fields(CampaignForm, "footer",
                   lambda code: TextAreaField(_l("Email footer"), render_kw={"lang": code, "rows": 3}))


class TargetForm(FlaskForm):
    slug = StringField(_l("Address"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    version = HiddenField()
    country = SelectField(_l("Country"), validate_choice=False)
    languages = StringField(_l("Languages"))
    website = URLField(_l("Website"))
    contact_email = EmailField(_l("Contact email"))
    delivery_channel = RadioField(_l("Delivery channel"), default=DeliveryChannel.EMAIL.value, choices=[
        SelectChoice(DeliveryChannel.EMAIL.value, _l("Email to the contact address")),
        SelectChoice(DeliveryChannel.WEBHOOK.value, _l("HTTPS webhook")),
    ])
    webhook_url = URLField(_l("Webhook URL"))
    data_sharing = RadioField(_l("What the institution receives"), default=DataSharing.NAMES.value, choices=[
        SelectChoice(DataSharing.NAMES.value, _l("Counts and the names of signers who consented")),
        SelectChoice(DataSharing.COUNTS_ONLY.value, _l("Counts only")),
    ])


    def __init__(self, *args: Any, locale: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("No country (an international body)")), *countries(locale)]


_add_locale_fields(TargetForm, "name", lambda code: StringField(_l("Name"), render_kw={"lang": code}))


def split_codes(value: str | None) -> list[str]:
    return [code for code in re.split(r"[\s,;]+", value or "") if code]


# --- petitions ---------------------------------------------------------------------------------------------

def parse_country_goals(text: str | None) -> dict[str, int]:
    """One goal per line: a country code and a number ("UA 5000"); blank lines are ignored."""
    goals: dict[str, int] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z]{2})\s*[:=]?\s*(\d{1,9})", line)
        if not match:
            raise ValidationError(str(_l('Line %(line)s: write a country code and a number, such as "UA 5000".',
                                         line=number)))
        goals[match.group(1).upper()] = int(match.group(2))
    return goals


def format_country_goals(goals: Mapping[str, int] | None) -> str:
    return "\n".join(f"{code} {value}" for code, value in sorted((goals or {}).items()))


def _check_country_goals(form: FlaskForm, field: Field) -> None:
    parse_country_goals(field.data)


def closing_datetime(day: date | None) -> datetime | None:
    """A closing date means the end of that day (UTC)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def closing_day(value: datetime | None) -> date | None:
    if value is None:
        return None
    return (value.astimezone(UTC) - timedelta(microseconds=1)).date()


class PetitionForm(FlaskForm):
    slug = StringField(_l("Address"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    version = HiddenField()
    targets = MultiCheckboxField(_l("Addressed to"), coerce=int, validate_choice=False)
    closes_on = DateField(_l("Closing date"), validators=[Optional()])
    goal = IntegerField(_l("Goal"), default=0, validators=[InputRequired(), NumberRange(min=0)])
    country_goals = TextAreaField(_l("Goals per country"), validators=[_check_country_goals],
                                  render_kw={"rows": 4, "spellcheck": "false"})
    postcode_required = BooleanField(_l("Signers must give their postcode"))
    retention_days = IntegerField(_l("Keep signers’ data for (days after closing)"), default=180,
                                  validators=[InputRequired(), NumberRange(min=1, max=3650)])



_add_locale_fields(PetitionForm, "title", lambda code: StringField(_l("Title"), render_kw={"lang": code}))
_add_locale_fields(PetitionForm, "summary",
                   lambda code: TextAreaField(_l("Summary"), render_kw={"lang": code, "rows": 3}))
_add_locale_fields(PetitionForm, "body",
                   lambda code: TextAreaField(_l("Text (Markdown)"), render_kw={"lang": code, "rows": 14}))


class ButtonForm(FlaskForm):
    """A button that posts: only the CSRF token."""


class ActionForm(FlaskForm):
    """A lifecycle button: the CSRF token and the version the page showed."""

    version = HiddenField()


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason for rejecting"), validators=[InputRequired(_l("Say why it is rejected."))],
                           render_kw={"rows": 3})


class LaunchForm(FlaskForm):
    countries = MultiCheckboxField(_l("Countries"), validate_choice=False)
