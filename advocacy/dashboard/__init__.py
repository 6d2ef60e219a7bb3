"""Per-petition dashboard (issue 9): totals by state, the confirmation rate, countries against their goals,
signatures per hour and per day as server-drawn SVG charts, and a world map of signatures by country (also
on the public petition page, with the public tally's hidden counts). Reads a per-hour rollup and state
snapshots kept by a periodic job, and the tallies."""

from __future__ import annotations

from datetime import timedelta

from advocacy.config import Settings
from advocacy.features import Feature, Job


def feature(settings: Settings) -> Feature:
    from advocacy.dashboard import models, services  # noqa: F401  (models: the tables)
    from advocacy.dashboard.views import console_bp, public_bp

    return Feature(
        "dashboard",
        blueprints=(console_bp, public_bp),
        jobs=(Job("dashboard-rollup", timedelta(minutes=5), services.refresh),),
    )
