"""Updates to signers who opted in to news: written and approved in the console, sent in batches, with a
one-click unsubscribe; and automatic milestone emails when a petition or a country reaches its goal."""

from __future__ import annotations

from datetime import timedelta

from advocacy.config import Settings
from advocacy.features import Feature, Job


def feature(settings: Settings) -> Feature:
    from advocacy.updates import actors, services
    from advocacy.updates.views import bp, console_bp

    return Feature(
        "updates",
        blueprints=(bp, console_bp),
        actors=(actors.send_batch,),
        jobs=(
            Job("send-updates", timedelta(seconds=15), services.enqueue_due),
            Job("detect-milestones", timedelta(minutes=1), services.detect_milestones),
        ),
    )
