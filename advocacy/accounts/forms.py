from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from advocacy.accounts import services

_PASSWORD = {"maxlength": services.PASSWORD_MAX}
_CODE = {"autocomplete": "one-time-code", "maxlength": 40, "autocapitalize": "none", "spellcheck": "false"}


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(_l("Enter your email address."))],
                       render_kw={"autocomplete": "username", "maxlength": services.EMAIL_MAX})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))],
                             render_kw={"autocomplete": "current-password", **_PASSWORD})


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code."))], render_kw=_CODE)


class NewPasswordForm(FlaskForm):
    """The invitation's first step: a new password, typed twice."""

    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a password."))],
                             render_kw={"autocomplete": "new-password", "minlength": services.PASSWORD_MIN,
                                        **_PASSWORD})
    confirm = PasswordField(_l("The same password again"),
                            validators=[EqualTo("password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password", **_PASSWORD})


class KnownPasswordForm(FlaskForm):
    """The invitation of an admin created at the command line: the password given there."""

    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))],
                             render_kw={"autocomplete": "current-password", **_PASSWORD})


class EnrolForm(FlaskForm):
    code = StringField(_l("Code from the app"), validators=[DataRequired(_l("Enter the code."))],
                       render_kw={**_CODE, "inputmode": "numeric", "maxlength": 6})


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your password."))],
                            render_kw={"autocomplete": "current-password", **_PASSWORD})
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a password."))],
                             render_kw={"autocomplete": "new-password", "minlength": services.PASSWORD_MIN,
                                        **_PASSWORD})
    confirm = PasswordField(_l("The same password again"),
                            validators=[EqualTo("password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password", **_PASSWORD})


class ResetSecondFactorForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your password."))],
                            render_kw={"autocomplete": "current-password", **_PASSWORD})
    code = StringField(_l("Code from your current app (or a recovery code)"),
                       validators=[DataRequired(_l("Enter the code."))], render_kw=_CODE)
    new_code = StringField(_l("Code from the new app"), validators=[DataRequired(_l("Enter the code."))],
                           render_kw={**_CODE, "inputmode": "numeric", "maxlength": 6})


def _optional_int(value: Any) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class InviteForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(_l("Enter an email address.")),
                                                        Length(max=services.EMAIL_MAX)],
                       render_kw={"autocomplete": "off", "maxlength": services.EMAIL_MAX})
    role = SelectField(_l("Role"), choices=[])
    campaign = SelectField(_l("Campaign (for an organiser)"), coerce=_optional_int, choices=[],
                           validate_choice=False)
    target = SelectField(_l("Institution (for a liaison)"), coerce=_optional_int, choices=[],
                         validate_choice=False)


class GrantForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[])
    campaign = SelectField(_l("Campaign (for an organiser)"), coerce=_optional_int, choices=[],
                           validate_choice=False)
    target = SelectField(_l("Institution (for a liaison)"), coerce=_optional_int, choices=[],
                         validate_choice=False)


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""

    confirm = HiddenField(default="1")
