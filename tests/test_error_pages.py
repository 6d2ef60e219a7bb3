"""Error pages speak the reader's language and say what happened, with no technical detail."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext
from werkzeug.exceptions import TooManyRequests

from advocacy.i18n import SUPPORTED_LOCALES
from advocacy.petitions import services as petitions

MESSAGES = {
    404: "This page does not exist.",
    405: "This page cannot be used that way.",
    413: "What you sent is too large.",
    429: "Too many requests. Please wait a little and try again.",
    500: "Something went wrong on our side. Please try again later.",
}


def _fail(*args: object, **kwargs: object) -> None:
    raise RuntimeError("database password is hunter2 at db.internal:5432")


def _too_many(*args: object, **kwargs: object) -> None:
    raise TooManyRequests("20 per 1 minute")


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_error_pages_are_in_every_language_without_detail(app, client, make_petition, monkeypatch, locale, code):
    petition = make_petition()
    headers = {"Accept-Language": locale}
    if code == 404:
        response = client.get("/no-such-page", headers=headers)
    elif code == 405:
        response = client.delete("/", headers=headers)
    elif code == 413:
        response = client.post(f"/p/{petition.slug}", data={"full_name": "x" * 200_000}, headers=headers)
    elif code == 429:
        monkeypatch.setattr(petitions, "public_petitions", _too_many)
        response = client.get("/", headers=headers)
    else:
        monkeypatch.setattr(petitions, "public_petitions", _fail)
        response = client.get("/", headers=headers)
    assert response.status_code == code
    page = response.get_data(as_text=True)
    with app.test_request_context(), force_locale(locale):
        expected = gettext(MESSAGES[code])
    if locale != "en":
        assert expected != MESSAGES[code], f"{code} is not translated into {locale}"
    assert f'<html lang="{locale}">' in page
    assert f"<h1>{expected}</h1>" in page
    for detail in ("Traceback", "RuntimeError", "hunter2", "db.internal", "Werkzeug", "per 1 minute", str(code)):
        assert detail not in page
