"""Signing with double opt-in, confirming, withdrawing, and the emails about a signature."""

from __future__ import annotations

from datetime import timedelta

from advocacy.config import Settings
from advocacy.features import Feature, Job


def feature(settings: Settings) -> Feature:
    from advocacy.signatures import actors, retention, services
    from advocacy.signatures.views import bp

    return Feature(
        "signatures",
        blueprints=(bp,),
        actors=(actors.send_signature_email,),
        jobs=(
            Job("purge-expired-pending", timedelta(hours=1), services.purge_expired_pending),
            Job("erase-after-retention", timedelta(hours=1), retention.erase_after_retention),
        ),
    )
