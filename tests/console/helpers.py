"""What the console tests share: a CSRF token for a logged-in client, posting forms, campaigns to work in."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from advocacy.accounts.roles import SYSTEM
from advocacy.extensions import db
from advocacy.petitions import services


def token(client: FlaskClient, path: str = "/console/") -> str:
    """The session's CSRF token, read from a console page (every form of the session takes it)."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, "no CSRF token on " + path
    return found.group(1)


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> TestResponse:
    values: dict[str, Any] = dict(data or {})
    if csrf:
        values["csrf_token"] = token(client)
    return client.post(path, data=values)


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" (?:type="hidden" )?value="([^"]*)"', page) or re.search(
        rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', page)
    assert found, f"no hidden {name}"
    return found.group(1)


def campaign(slug: str = "people-first", *, languages: tuple[str, ...] = ("en", "uk"), published: bool = True) -> int:
    """A campaign made by the operator, committed; its id."""
    found = services.create_campaign(slug, actor=SYSTEM, name={"en": slug.replace("-", " ").title()},
                                     languages=list(languages))
    if published:
        services.publish_campaign(found.id, actor=SYSTEM)
    db.session.commit()
    return int(found.id)


def target(slug: str = "bundestag", *, country: str = "DE", published: bool = True) -> int:
    found = services.create_target(slug, actor=SYSTEM, name={"en": slug.title()}, country=country, languages=["de"])
    if published:
        services.publish_target(found.id, actor=SYSTEM)
    db.session.commit()
    return int(found.id)


def petition_form(target_ids: list[int], **overrides: Any) -> dict[str, Any]:
    """What an organiser types into the new petition form."""
    values: dict[str, Any] = {
        "slug": "free-them-all",
        "title_en": "Free them all", "summary_en": "Release every captive.",
        "body_en": "First **bold** paragraph.\n\n- one\n- two\n\n[Read more](https://example.org)",
        "title_uk": "Звільніть усіх", "body_uk": "Перший абзац.",
        "targets": [str(ident) for ident in target_ids], "closes_on": "", "goal": "1000",
        "country_goals": "UA 500\nde 200", "retention_days": "180",
    }
    values.update(overrides)
    return values
