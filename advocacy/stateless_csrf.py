"""CSRF tokens for the forms anonymous readers fill in (the sign form) that need no session.

Reading a petition page must not give the reader a session and a cookie: the page is the same for every
anonymous reader of a language, so it is built once every few seconds and shared. The token in such a page
is *stateless*: itsdangerous signs, with the app's secret key (fallback keys still verify) and a salt of its
own, the name of the form it is for (``sign:<slug>``) and the time it was made. A POST is accepted with a
token for this form younger than ``FORM_TOKEN_MAX_AGE``; a forged one, an expired one or one made for
another form is refused, and the view shows the form again with what was typed.

Such a token is not tied to the reader (an anonymous reader has nothing to tie it to): it stops a foreign
page from posting the form without first fetching it from us, it does not stand in for a login. So a reader
who has a session with more than a CSRF token in it (a console login, a flashed message) gets, and must
send, the session's own token, as on every other form (Flask-WTF). A reader whose session holds only a
token from an older page may send either.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from flask import current_app, session
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from wtforms import Form, ValidationError
from wtforms.csrf.core import CSRF, CSRFTokenField

from advocacy.cache import anonymous_reader

SALT = "advocacy.form-csrf"
# long enough to read a petition and fill the form in; an expired token re-shows the form as it was typed
FORM_TOKEN_MAX_AGE = 6 * 3600
SESSION_TOKEN_KEY = "csrf_token"  # noqa: S105 (the session key Flask-WTF uses, not a secret)


class FormTokenInvalid(ValueError):
    """A stateless form token that is forged, made for another form, or (``expired``) too old."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("form token expired" if expired else "form token invalid")
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    # the last key signs; fallback keys still verify tokens made before a rotation
    keys = (*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.config["SECRET_KEY"])
    serializer = _serializers.get(keys)
    if serializer is None:
        serializer = URLSafeTimedSerializer(list(keys), salt=SALT)
        _serializers.clear()
        _serializers[keys] = serializer
    return serializer


_serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}


def form_token(form_id: str) -> str:
    """A token for the form ``form_id`` (e.g. ``sign:<slug>``), the same for every reader (and within one
    second the same token: it is made once a second per form and key, not for every form shown)."""
    key = (form_id, current_app.config["SECRET_KEY"], int(time.time()))
    token = _minted.get(key)
    if token is None:
        token = _serializer().dumps(form_id)
        if len(_minted) > 256:
            _minted.clear()
        _minted[key] = token
    return token


_minted: dict[tuple[str, str, int], str] = {}


def check_form_token(token: str | None, form_id: str, *, max_age: int | None = None) -> None:
    """Raise ``FormTokenInvalid`` unless ``token`` was made by us for ``form_id`` within ``max_age`` seconds."""
    if not token:
        raise FormTokenInvalid()
    max_age = FORM_TOKEN_MAX_AGE if max_age is None else max_age
    serializer = _serializer()
    # Every reader of a form within the same second sends the same token: its signature is checked once and
    # remembered (only tokens that verified are kept), then only its age and its form are checked again.
    key = (token, serializer)  # after a key change (a new serializer) every token is checked afresh
    known = _verified.get(key)
    if known is None:
        try:
            named, made = serializer.loads(token, max_age=max_age, return_timestamp=True)
        except SignatureExpired as exc:
            raise FormTokenInvalid(expired=True) from exc
        except BadData as exc:
            raise FormTokenInvalid() from exc
        if not isinstance(named, str):
            raise FormTokenInvalid()
        if len(_verified) > 1024:
            _verified.clear()
        known = _verified[key] = (named, made.timestamp())
    named, made_at = known
    if time.time() - made_at > max_age:
        raise FormTokenInvalid(expired=True)
    if not hmac.compare_digest(named.encode(), form_id.encode()):
        raise FormTokenInvalid()


_verified: dict[tuple[str, URLSafeTimedSerializer], tuple[str, float]] = {}


class FormCSRF(CSRF):
    """WTForms' CSRF for a form anonymous readers use: stateless for them, the session's token otherwise.

    Use it with ``Form(meta=form_meta("sign:<slug>"))``.
    """

    form_id = ""

    def setup_form(self, form: Form) -> list[tuple[str, Any]]:
        self.form_id = str(getattr(form.meta, "csrf_form_id", ""))
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field: CSRFTokenField) -> str:
        if anonymous_reader():
            return form_token(self.form_id)
        return str(generate_csrf())

    def validate_csrf_token(self, form: Form, field: CSRFTokenField) -> None:
        check_form_csrf(field.data, self.form_id)


def check_form_csrf(token: str | None, form_id: str) -> None:
    """What a form with ``form_meta(form_id)`` checks of its token, for a view that reads a POST without
    building the form: raises WTForms' ``ValidationError`` with the reason."""
    if anonymous_reader():
        try:
            check_form_token(token, form_id)
            return
        except FormTokenInvalid as exc:
            if SESSION_TOKEN_KEY not in session:
                raise ValidationError("The form token has expired." if exc.expired
                                      else "The form token is invalid.") from exc
    # Flask-WTF's check against the session (raises ValidationError with its reason)
    validate_csrf(token)


def form_meta(form_id: str) -> dict[str, Any]:
    """The ``meta`` argument that gives a Flask-WTF form the stateless token for ``form_id``."""
    return {"csrf_class": FormCSRF, "csrf_form_id": form_id}
