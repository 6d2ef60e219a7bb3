"""Factories for events: a campaign and a petition to relate them to, and events in Geneva by default."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from advocacy.accounts.roles import SYSTEM
from advocacy.events import services
from advocacy.events.models import Event, EventDetails, EventKind
from advocacy.extensions import db

GENEVA = ZoneInfo("Europe/Zurich")
# Summer time starts on Sunday 31 March 2030 and ends on Sunday 27 October 2030 in Geneva.
BEFORE_SPRING_CHANGE = datetime(2030, 3, 29, 13, 0, tzinfo=GENEVA)
AFTER_SPRING_CHANGE = datetime(2030, 4, 1, 13, 0, tzinfo=GENEVA)


@pytest.fixture
def make_event(make_petition: Callable[..., Any]) -> Callable[..., Event]:
    counter = {"n": 0}

    def create(*, uid: str | None = None, draft: bool = False, **overrides: Any) -> Event:
        """An event, published unless ``draft``, and committed as a command or view would."""
        counter["n"] += 1
        n = counter["n"]
        if "campaign_slug" not in overrides:
            make_petition(slug="people-first-petition")  # and with it the campaign
            overrides["campaign_slug"] = "people-first"
        start = overrides.pop("start", BEFORE_SPRING_CHANGE)
        values: dict[str, Any] = {
            "title": {"en": f"Side-event {n}", "uk": f"Сайд-івент {n}", "ru": f"Сайд-ивент {n}"},
            "description": {"en": "Families of captives speak to diplomats."},
            "starts_at": start,
            "ends_at": overrides.pop("end", start.replace(hour=start.hour + 1, minute=30)),
            "timezone": "Europe/Zurich",
            "kind": EventKind.SIDE_EVENT,
            "venue": "Palais des Nations",
            "room": "Room XXII",
            "city": "Geneva",
            "country": "CH",
            "hrc_session": 61,
            "organisers": ("Center for Civil Liberties", "Memorial Human Rights Center"),
            "languages": ("en",),
            "interpretation": ("uk", "ru"),
        }
        values.update(overrides)
        event = services.create_event(EventDetails(**values), uid=uid, actor=SYSTEM)
        if not draft:
            services.publish_event(event.uid, actor=SYSTEM)
        db.session.commit()
        return event

    return create
