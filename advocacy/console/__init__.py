"""The organisers' console at /console/: campaigns, targets, petitions and their moderation."""

from __future__ import annotations

from flask import current_app

from advocacy.config import Settings
from advocacy.features import ConsoleLink, Feature


def console_links() -> list[ConsoleLink]:
    """The navigation entries the logged-in principal may follow (every feature contributes its own)."""
    from advocacy.accounts.sessions import current_principal

    principal = current_principal()
    if principal is None:
        return []
    links: tuple[ConsoleLink, ...] = current_app.extensions["advocacy.console_links"]
    return [link for link in links if link.visible(principal)]


def feature(settings: Settings) -> Feature:
    from flask_babel import gettext as _

    # the pages of campaigns, targets and petitions sit on the one console blueprint
    from advocacy.console import campaigns, petitions, targets  # noqa: F401
    from advocacy.console.views import bp

    return Feature(
        "console",
        blueprints=(bp,),
        template_globals={"console_links": console_links},
        console_links=(
            ConsoleLink("console.home", lambda: _("Overview"), lambda principal: True, position=0),
            ConsoleLink("console.campaigns", lambda: _("Campaigns"), lambda principal: principal.is_organiser,
                        position=10),
            ConsoleLink("console.targets", lambda: _("Targets"), lambda principal: principal.is_organiser, position=20),
        ),
    )
