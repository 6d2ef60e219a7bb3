"""``advocacy keys``: generate a fresh set of secrets; move every sealed value to the first data key.

Rotating the data key: generate a new key, put it FIRST in ADVOCACY_DATA_KEYS and keep the old ones after
it (new data is sealed under the first key, every listed key still opens), restart, run
``advocacy keys reencrypt``, then remove the old key.
"""

from __future__ import annotations

import base64
import secrets
import shlex
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select, update

from advocacy.crypto import SEALED_FIELDS, SealBroken, Sealed, keyring
from advocacy.extensions import db


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def new_kid() -> str:
    return f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(2)}"


def generate_secrets() -> dict[str, str]:
    return {
        "ADVOCACY_SECRET_KEY": secrets.token_urlsafe(48),
        "ADVOCACY_DATA_KEYS": f"{new_kid()}:{_key()}",
        "ADVOCACY_BLIND_INDEX_KEY": _key(),
        "ADVOCACY_PACKET_SIGNING_KEY": _key(),
    }


@dataclass
class ReencryptReport:
    kid: str
    values: int = 0       # values sealed again under the first key
    rows: int = 0         # rows those values are in
    skipped: int = 0      # changed by someone else meanwhile: left as they are (written under the first key)
    broken: int = 0       # values that do not open in their place (logged with table, column and row)


def _sealed_models() -> dict[Any, list[Sealed]]:
    models: dict[Any, list[Sealed]] = defaultdict(list)
    for model, field in SEALED_FIELDS:
        models[model].append(field)
    return models


def reencrypt(batch_size: int = 500) -> ReencryptReport:
    """Seal every value not under the first data key again under it; commits batch by batch.

    Rows are walked by id (keyset pagination) and each batch is its own transaction, so a run stopped
    midway loses nothing: running again skips what is already under the first key. A value is only
    replaced if it is still the one that was read, so a withdrawal meanwhile is never undone.
    """
    ring = keyring()
    report = ReencryptReport(kid=ring.current_kid)
    for model, fields in _sealed_models().items():
        last_id = 0
        while True:
            rows = db.session.scalars(
                select(model).where(model.id > last_id).order_by(model.id).limit(batch_size)
            ).all()
            if not rows:
                break
            for row in rows:
                changed = False
                for field in fields:
                    column = getattr(model, field.attr)
                    try:
                        new = field.resealed(row, ring)
                    except SealBroken:
                        report.broken += 1
                        continue
                    if new is None:
                        continue
                    result = db.session.execute(
                        update(model).where(model.id == row.id, column == getattr(row, field.attr))
                        .values({column: new}).execution_options(synchronize_session=False)
                    )
                    if result.rowcount == 1:  # type: ignore[attr-defined]
                        report.values += 1
                        changed = True
                    else:
                        report.skipped += 1
                report.rows += changed
            last_id = rows[-1].id
            db.session.commit()
            db.session.expunge_all()
    return report


@click.group("keys")
def keys_group() -> None:
    """Secrets: generate a fresh set; re-encrypt stored personal data under the first data key."""


@keys_group.command("generate")
def generate_command() -> None:
    """Print a fresh set of secrets as shell export lines."""
    for name, value in generate_secrets().items():
        click.echo(f"export {name}={shlex.quote(value)}")
    click.echo(
        "# Rotating an existing installation: put only the new data key first in ADVOCACY_DATA_KEYS and keep\n"
        "# the old keys after it, run `advocacy keys reencrypt`, then remove the old keys. Keep the existing\n"
        "# ADVOCACY_BLIND_INDEX_KEY (a new one stops repeat signers from being recognised); move an old\n"
        "# ADVOCACY_SECRET_KEY to ADVOCACY_SECRET_KEY_FALLBACKS so links already emailed keep working.",
        err=True,
    )


@keys_group.command("reencrypt")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1),
              help="Rows per transaction.")
@with_appcontext
def reencrypt_command(batch_size: int) -> None:
    """Re-encrypt every sealed value that is not under the first data key; safe to stop and run again."""
    report = reencrypt(batch_size)
    click.echo(f"re-encrypted {report.values} values in {report.rows} rows under data key {report.kid}")
    if report.skipped:
        click.echo(f"{report.skipped} values changed meanwhile and were left as they are")
    if report.broken:
        click.echo(f"{report.broken} values do not open in their place (see the error log); they were left as they are",
                   err=True)
        raise SystemExit(1)
