"""The events calendar: pages, iCalendar feeds and the ``advocacy events`` command."""

from __future__ import annotations

from advocacy.config import Settings
from advocacy.features import Feature


def feature(settings: Settings) -> Feature:
    from flask_babel import gettext as _

    from advocacy.events.cli import events_group
    from advocacy.events.console import bp as console_bp
    from advocacy.events.views import bp
    from advocacy.features import ConsoleLink

    return Feature(
        "events", blueprints=(bp, console_bp), cli=events_group,
        console_links=(ConsoleLink("events_console.index", lambda: _("Events"),
                                   lambda principal: principal.is_organiser, position=30),),
    )
