"""``advocacy outbox``: what the background work is doing, and failures an operator should look at."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from advocacy.outbox import services as outbox


@click.group("outbox")
def outbox_group() -> None:
    """What the background work is doing: failures an operator should look at."""


@outbox_group.command("failures")
@click.option("--limit", default=50, show_default=True, type=int)
@with_appcontext
def outbox_failures_command(limit: int) -> None:
    """List the jobs that failed for good (e.g. a mailbox that does not exist), newest first."""
    rows = outbox.failures(limit)
    if not rows:
        click.echo("no failed jobs")
    for row in rows:
        args = " ".join(str(arg) for arg in row.args)
        click.echo(f"{row.id}\t{row.failed_at:%Y-%m-%d %H:%M} UTC\t{row.actor_name} {args}\t{row.last_error}")
