"""Campaigns, targets and petitions: their pages and the services that create, change and publish them."""

from __future__ import annotations

from datetime import timedelta

from advocacy.config import Settings
from advocacy.features import Feature, Job


def feature(settings: Settings) -> Feature:
    from advocacy.petitions import markdown, services
    from advocacy.petitions.views import bp

    return Feature(
        "petitions", blueprints=(bp,),
        # petitions whose closing date has passed stop showing as open at once (is_open); the job records it
        jobs=(Job("close-due-petitions", timedelta(minutes=5), services.close_due_petitions),),
        template_globals={"site_name": services.site_name, "markdown": markdown.render},
    )
