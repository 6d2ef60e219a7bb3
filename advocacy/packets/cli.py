"""``advocacy packets build`` and ``advocacy packets verify``."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask.cli import AppGroup

from advocacy.accounts.roles import SYSTEM
from advocacy.dbtypes import utcnow
from advocacy.extensions import db

cli = AppGroup("packets", help="Build and verify signature packets.")


def _moment(value: str | None) -> datetime:
    if not value:
        return utcnow().replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("give the cut-off as an ISO 8601 time, e.g. 2026-12-01T12:00:00Z") from None
    return (moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)).replace(microsecond=0)


@cli.command("build")
@click.argument("petition_slug")
@click.argument("target_slug")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the zip.")
@click.option("--cutoff", help="Count signatures confirmed up to this time (ISO 8601, UTC); default: now.")
def build_command(petition_slug: str, target_slug: str, out: Path, cutoff: str | None) -> None:
    """Write the packet of PETITION_SLUG for TARGET_SLUG, as the worker builds it."""
    from advocacy.packets import services

    moment = _moment(cutoff)
    try:
        built = services.export(petition_slug, target_slug, moment, out, actor=SYSTEM)
    except services.PacketError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"packet {built.packet_id}: {built.total} signatures, {built.listed} listed by name, "
               f"cut-off {moment:%Y-%m-%dT%H:%M:%SZ} -> {out}")


def _load_keys(source: str | None) -> list[Ed25519PublicKey]:
    from advocacy.packets.signing import keys_from_jwks, packet_keys

    if source is None:
        return list(packet_keys().public_keys)
    try:
        if source.startswith(("https://", "http://")):
            with urllib.request.urlopen(source, timeout=10) as response:  # noqa: S310 (http(s) only, checked above)
                document = json.loads(response.read(1 << 20))
        else:
            document = json.loads(Path(source).read_text())
        return keys_from_jwks(document)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read a packet key from {source}: {exc}") from None


@cli.command("verify")
@click.argument("packet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_source", help="A JWK set to trust, as a URL (e.g. https://…/.well-known/"
              "packet-signing-key) or a file; default: this installation's own packet keys.")
def verify_command(packet: Path, key_source: str | None) -> None:
    """Check PACKET: files present and unchanged, counts adding up, manifest signed by a trusted key."""
    from advocacy.packets.verify import verify

    report = verify(os.fspath(packet), _load_keys(key_source))
    if report.ok:
        manifest = report.manifest or {}
        click.echo(f"OK: packet {manifest.get('packet_id')} for {manifest.get('target', {}).get('slug')}, "
                   f"{manifest.get('counts', {}).get('signatures')} signatures, signed by key {report.fingerprint}")
        return
    for problem in report.problems:
        click.echo(f"FAILED: {problem}", err=True)
    sys.exit(1)
