"""`advocacy outbox …`: what the background work is doing, and sending failed work again."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("outbox")
def outbox_group() -> None:
    """What the background work is doing: failures an operator should look at, and retrying them."""


@outbox_group.command("failures")
@click.option("--limit", default=50, show_default=True, type=int)
@with_appcontext
def outbox_failures_command(limit: int) -> None:
    """List failed jobs and jobs retrying after an error of our own (SMTP login, sender refused…), newest first.

    Each line: id, when it last failed, failed (for good) or retrying, the job and its ids, the error.
    """
    from advocacy.outbox import services as outbox

    rows = outbox.failures(limit)
    if not rows:
        click.echo("no failed jobs")
    for row in rows:
        args = " ".join(str(arg) for arg in row.args)
        when = row.failed_at or row.last_error_at or row.created_at
        state = "failed" if row.failed_at is not None else f"retrying (attempt {row.attempts})"
        click.echo(f"{row.id}\t{when:%Y-%m-%d %H:%M} UTC\t{state}\t{row.actor_name} {args}\t{row.last_error or ''}")
    if outbox.mail_failing():
        click.echo("mail is failing: fix the cause (see the errors above), then run `advocacy outbox retry --all`",
                   err=True)


@outbox_group.command("retry")
@click.argument("outbox_id", required=False, type=int)
@click.option("--all", "retry_all", is_flag=True, help="Every failed job, and every job retrying after an error "
                                                         "of our own.")
@with_appcontext
def outbox_retry_command(outbox_id: int | None, retry_all: bool) -> None:
    """Send failed jobs again, once the cause is fixed: one by its ID, or --all."""
    from advocacy.extensions import db
    from advocacy.outbox import services as outbox

    if (outbox_id is None) == (not retry_all):
        raise click.UsageError("give one job ID or --all")
    # in the embedded mode the broker lives in the site's process, not this one: its relay sends the rows
    embedded = not current_app.config["BROKER_URL"]
    try:
        count = outbox.retry(outbox_id, flag_for_relay=embedded)
    except outbox.OutboxRowNotFound:
        raise click.ClickException(f"no job with ID {outbox_id}") from None
    except outbox.NotRetryable:
        raise click.ClickException(f"job {outbox_id} has not failed: nothing to retry") from None
    db.session.commit()
    click.echo(f"{count} job(s) sent again")
