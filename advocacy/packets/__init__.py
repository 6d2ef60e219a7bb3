"""Signature packets: the zip a target institution receives (CSV, PDF summary, signed manifest), its
signing key, and checking a packet on the command line or at /verify."""

from __future__ import annotations

from flask import Flask

from advocacy.config import Settings
from advocacy.features import Feature


def feature(settings: Settings) -> Feature:
    from advocacy.packets.cli import cli
    from advocacy.packets.signing import PacketKeys
    from advocacy.packets.views import bp

    def keep_keys(app: Flask) -> None:
        if settings.packet_signing_key:
            app.extensions["advocacy.packet_keys"] = PacketKeys.from_seeds(
                settings.packet_signing_key, settings.packet_signing_key_fallbacks)

    # /verify takes an upload and changes nothing: no CSRF token (see views.py)
    return Feature("packets", blueprints=(bp,), csrf_exempt=(bp,), cli=cli, init_app=(keep_keys,))
