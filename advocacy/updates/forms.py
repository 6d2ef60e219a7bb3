"""The update editor: a subject and a Markdown body per language, and the version it was made on."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from advocacy.i18n import SUPPORTED_LOCALES


class UpdateForm(FlaskForm):
    version = HiddenField()


for _locale in SUPPORTED_LOCALES:
    setattr(UpdateForm, f"subject_{_locale}", StringField(_l("Subject"), render_kw={"lang": _locale,
                                                                                  "maxlength": 200}))
    setattr(UpdateForm, f"body_{_locale}", TextAreaField(_l("Text"), render_kw={"lang": _locale, "rows": 10}))


class MilestoneForm(FlaskForm):
    enabled = BooleanField(_l("Email the signers who opted in to news when the petition or a country reaches its "
                              "goal"))


class UnsubscribeForm(FlaskForm):
    pass
