"""Signature packets: the zip a target institution receives (CSV, PDF summary, signed manifest), built by the
worker and kept in the database; its signing key; downloads, receipts and responses by the target's liaison;
checking a packet on the command line or at /verify."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from advocacy.config import Settings
from advocacy.features import ConsoleLink, Feature, Job


def feature(settings: Settings) -> Feature:
    from flask_babel import gettext as _

    from advocacy.packets import actors, delivery, models, services  # noqa: F401  (models: the tables)
    from advocacy.packets.cli import cli
    from advocacy.packets.console import bp as console_bp
    from advocacy.packets.signing import PacketKeys
    from advocacy.packets.views import bp

    def keep_keys(app: Flask) -> None:
        if settings.packet_signing_key:
            app.extensions["advocacy.packet_keys"] = PacketKeys.from_seeds(
                settings.packet_signing_key, settings.packet_signing_key_fallbacks)

    return Feature(
        "packets",
        blueprints=(bp, console_bp),
        # /verify takes an upload and changes nothing: no CSRF token (see views.py)
        csrf_exempt=(bp,),
        actors=(actors.build_packet, actors.deliver, actors.alert_organisers),
        jobs=(
            Job("expire-packet-files", timedelta(hours=6), services.expire_packet_files),
            Job("run-delivery-schedules", timedelta(minutes=5), delivery.run_due_schedules),
        ),
        cli=cli,
        init_app=(keep_keys,),
        template_globals={"target_responses": services.responses},
        console_links=(
            ConsoleLink("packets_console.index", lambda: _("Packets"),
                        lambda principal: principal.is_liaison or principal.is_admin, position=40),
        ),
    )
