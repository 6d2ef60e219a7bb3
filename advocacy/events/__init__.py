"""The events calendar: pages, iCalendar feeds and the ``advocacy events`` command."""

from __future__ import annotations

from advocacy.config import Settings
from advocacy.features import Feature


def feature(settings: Settings) -> Feature:
    from advocacy.events.cli import events_group
    from advocacy.events.views import bp

    return Feature("events", blueprints=(bp,), cli=events_group)
