"""The transactional outbox: work that leaves the system, sent to the broker after its transaction commits."""

from __future__ import annotations

from datetime import timedelta

from advocacy.config import Settings
from advocacy.features import Feature, Job


def feature(settings: Settings) -> Feature:
    from advocacy import mail
    from advocacy.dbtypes import utcnow
    from advocacy.outbox import services
    from advocacy.outbox.cli import outbox_group
    from advocacy.outbox.middleware import OutboxMiddleware
    from advocacy.outbox.views import bp

    return Feature(
        "outbox",
        blueprints=(bp,),
        cli=outbox_group,
        broker_middleware=(OutboxMiddleware,),
        jobs=(
            Job("relay-outbox", timedelta(seconds=settings.relay_every), services.relay_stale),
            Job("purge-finished-outbox", timedelta(hours=6), services.purge_finished),
            Job("purge-mail-files", timedelta(hours=6), lambda: mail.purge_old_mail_files(utcnow())),
        ),
        on_embedded_start=(lambda: services.relay_stale(older_than=utcnow()),),
    )
