"""The transactional outbox: work that leaves the system, sent to the broker after its transaction commits."""

from __future__ import annotations

from datetime import timedelta

from advocacy.config import Settings
from advocacy.features import Feature, Job


def feature(settings: Settings) -> Feature:
    from advocacy.dbtypes import utcnow
    from advocacy.outbox import services
    from advocacy.outbox.cli import outbox_group
    from advocacy.outbox.middleware import OutboxMiddleware

    return Feature(
        "outbox",
        cli=outbox_group,
        broker_middleware=(OutboxMiddleware,),
        jobs=(
            Job("relay-outbox", timedelta(seconds=settings.relay_every), services.relay_stale),
            Job("purge-finished-outbox", timedelta(hours=6), services.purge_finished),
        ),
        on_embedded_start=(lambda: services.relay_stale(older_than=utcnow()),),
    )
