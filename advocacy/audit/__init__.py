"""The audit log: append-only entries written in the same transaction as what they record; admins read them."""

from __future__ import annotations

from advocacy.config import Settings
from advocacy.features import ConsoleLink, Feature


def feature(settings: Settings) -> Feature:
    from flask_babel import gettext as _

    from advocacy.audit import models  # noqa: F401  (the table and its triggers)
    from advocacy.audit.views import bp

    return Feature(
        "audit",
        blueprints=(bp,),
        console_links=(
            ConsoleLink("audit.index", lambda: _("Audit log"), lambda principal: principal.is_admin, position=85),
        ),
    )
