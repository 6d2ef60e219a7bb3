"""``advocacy periodic``: when each periodic job last ran, and how it went."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from advocacy.periodic import services as periodic


@click.group("periodic")
def periodic_group() -> None:
    """The periodic jobs every worker process ticks (each runs once per period across processes)."""


@periodic_group.command("status")
@with_appcontext
def periodic_status_command() -> None:
    """When each periodic job last ran, and how it went."""
    for job in periodic.status():
        last = f"{job.last_finished_at:%Y-%m-%d %H:%M:%S} UTC" if job.last_finished_at else "never finished"
        click.echo(f"{job.name}\truns {job.runs}\tlast {last}\t{job.last_result or ''}")
