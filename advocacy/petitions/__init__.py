"""Campaigns, targets and petitions: their pages and the services that create, change and publish them."""

from __future__ import annotations

from advocacy.config import Settings
from advocacy.features import Feature


def feature(settings: Settings) -> Feature:
    from advocacy.petitions import services
    from advocacy.petitions.views import bp

    return Feature("petitions", blueprints=(bp,), template_globals={"site_name": services.site_name})
