"""Open data: petitions and their tallies as JSON."""

from __future__ import annotations

from advocacy.config import Settings
from advocacy.features import Feature


def feature(settings: Settings) -> Feature:
    from advocacy.api.views import bp

    return Feature("api", blueprints=(bp,), csrf_exempt=(bp,))
