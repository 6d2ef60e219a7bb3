from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, SelectField, StringField
from wtforms.validators import ValidationError

from advocacy.i18n import countries
from advocacy.signatures import services


def _service_check(clean: Callable[[Any], Any]) -> Callable[[FlaskForm, Field], None]:
    """Run the service's own rule on a field, so the form and the service never disagree."""

    def check(form: FlaskForm, field: Field) -> None:
        try:
            clean(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    return check


class SignForm(FlaskForm):
    """The sign form. Its fields are checked once, by the service (``services.validate_signer``), whose errors
    the view puts on the fields: checking them here as well ran every rule twice per signature."""

    full_name = StringField(_l("Full name"), render_kw={"autocomplete": "name", "maxlength": services.NAME_MAX * 2})
    email = EmailField(_l("Email address"), render_kw={"autocomplete": "email", "maxlength": services.EMAIL_MAX})
    country = SelectField(_l("Country"), validate_choice=False, render_kw={"autocomplete": "country"})
    postcode = StringField(_l("Postcode"), render_kw={"autocomplete": "postal-code",
                                                      "maxlength": services.POSTCODE_MAX * 2})
    consent_share_name = BooleanField(
        _l("I agree that my name and country are passed to the institutions this petition is addressed to."),
        description=_l("You can withdraw your signature at any time, but names and countries already passed to "
                       "the institutions the petition is addressed to cannot be recalled."),
    )
    opt_in_news = BooleanField(_l("Send me news about this campaign (at most a few emails a month)."))

    def __init__(self, *args: Any, locale: str, postcode_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("Choose your country")), *list(countries(locale))]
        self.postcode_required = postcode_required


def signer_from(formdata: Mapping[str, str], locale: str) -> services.Signer:
    """The signer a sign POST describes, read from its fields as ``SignForm`` reads them (text as sent, a box
    ticked unless sent empty or "false"), without building the form: that cost a tenth of the POST, and
    the form is needed only to show it again (a test in tests/signatures/test_form.py keeps the two alike)."""
    false_values = BooleanField.false_values

    def ticked(name: str) -> bool:
        return name in formdata and formdata[name] not in false_values

    return services.Signer(
        full_name=formdata.get("full_name") or "", email=formdata.get("email") or "",
        country=formdata.get("country") or "", postcode=formdata.get("postcode"), locale=locale,
        consent_share_name=ticked("consent_share_name"), opt_in_news=ticked("opt_in_news"),
    )


class NewLinkForm(FlaskForm):
    """A signer who lost the confirmation email or the withdraw link asks for a new one."""

    email = EmailField(_l("Email address"), validators=[_service_check(services.clean_email)],
                       render_kw={"autocomplete": "email", "maxlength": services.EMAIL_MAX})
