"""The ``advocacy`` command: serve, worker, demo, and Flask-Migrate's ``db`` group."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from advocacy.config import Settings

log = logging.getLogger(__name__)


def _create_app() -> Flask:
    from advocacy import create_app

    return create_app()


def main() -> None:
    from advocacy import DeploymentError

    cli = FlaskGroup(create_app=_create_app, add_version_option=False, load_dotenv=False,
                     help="advocacy: petitions, signatures, tallies and events.")
    try:
        cli.main(prog_name="advocacy")
    except DeploymentError as error:  # an incomplete installation: say what is missing, not a traceback
        click.secho(str(error), err=True, fg="red")
        sys.exit(1)


def _upgrade_database(app: Flask) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Request threads.")
@click.option("--demo", is_flag=True, help="Load the People First demo data before serving.")
@with_appcontext
def serve_command(host: str, port: int, threads: int, demo: bool) -> None:
    """Run the site with a production WSGI server (waitress)."""
    import waitress

    from advocacy import allowed_hosts
    from advocacy.queue import EmbeddedWorker

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    settings: Settings = app.extensions["advocacy.settings"]
    if not os.environ.get("ADVOCACY_BASE_URL"):
        # links in emails must reach this server: without a configured base URL, it is where we listen
        shown_host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104
        app.config["BASE_URL"] = f"http://{shown_host}:{port}"
        app.config["TRUSTED_HOSTS"] = allowed_hosts(app.config["BASE_URL"], settings.extra_hosts)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _upgrade_database(app)
    if demo:
        from advocacy.demo import load_demo

        load_demo()
    worker = None
    if not app.config["BROKER_URL"]:
        worker = EmbeddedWorker(app)
        worker.start()
    click.echo(f"advocacy is listening on http://{host}:{port}/ (links in emails use {app.config['BASE_URL']})")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="advocacy", **waitress_proxy_options(settings))
    finally:
        if worker is not None:
            worker.stop()


def waitress_proxy_options(settings: Settings) -> dict[str, Any]:
    """Waitress believes X-Forwarded-For/-Proto only with ADVOCACY_TRUSTED_PROXIES, the last N hops of them.

    The other forwarded headers (X-Forwarded-Host, -Port, -By, Forwarded) are always removed before the
    app sees them: the Host a request is checked against is the one the proxy passes on. The app's
    ProxyFix (create_app) reads the same hops, so gunicorn deployments behave the same way.
    """
    if not settings.trusted_proxies:
        return {"clear_untrusted_proxy_headers": True}
    return {
        # waitress cannot know the proxy's address for us: it is whoever connects, so bind to a private
        # address or a firewalled port when trusting proxies
        "trusted_proxy": "*",
        "trusted_proxy_count": settings.trusted_proxies,
        "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
        "clear_untrusted_proxy_headers": True,
    }


@click.command("worker")
@click.option("--processes", default=1, show_default=True, type=int, help="Worker processes.")
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per process.")
@with_appcontext
def worker_command(processes: int, threads: int) -> None:
    """Run dramatiq worker processes against ADVOCACY_BROKER_URL."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["BROKER_URL"]:
        raise click.UsageError("ADVOCACY_BROKER_URL is not set: in the embedded mode `advocacy serve` runs the worker.")
    if processes < 1 or threads < 1:
        raise click.UsageError("--processes and --threads must be at least 1")
    if processes == 1:
        _run_worker(threads)
        return
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    stop = _StopSignals()

    def start(index: int) -> multiprocessing.process.BaseProcess:
        child = ctx.Process(target=_run_worker_process, args=(threads,), name=f"advocacy-worker-{index}")
        child.start()
        return child

    children = [start(index) for index in range(processes)]
    # supervise: a worker process that dies is replaced; a stop signal stops them all
    while not stop.wait(1.0):
        for index, child in enumerate(children):
            if not child.is_alive():
                log.warning("worker process %d exited with %s; starting another", index, child.exitcode)
                children[index] = start(index)
    for child in children:
        child.terminate()
    for child in children:
        child.join(30)


def _run_worker_process(threads: int) -> None:
    app = _create_app()
    with app.app_context():
        _run_worker(threads)


def _run_worker(threads: int) -> None:
    """One worker process: dramatiq threads, and a scheduler whose jobs run once per period across processes."""
    import dramatiq

    from advocacy.periodic.services import Scheduler
    from advocacy.queue import broker

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = _StopSignals()
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_threads=threads)
    worker.start()
    scheduler = Scheduler(app)
    scheduler.start()
    log.info("worker started with %d thread(s)", threads)
    try:
        while not stop.wait(1.0):
            pass
        log.info("worker stopping")
    finally:
        scheduler.stop()
        worker.stop(timeout=10_000)
        broker.close()


class _StopSignals:
    """SIGTERM or SIGINT sets a flag that the main thread polls.

    The handler does nothing but set the flag: anything that takes a lock there could deadlock with the
    main thread it interrupts (an Event.set() inside Event.wait(), say).
    """

    def __init__(self) -> None:
        self.received = False
        signal.signal(signal.SIGTERM, self._receive)
        signal.signal(signal.SIGINT, self._receive)

    def _receive(self, signum: int, frame: object) -> None:
        self.received = True

    def wait(self, seconds: float) -> bool:
        if not self.received:
            time.sleep(seconds)  # a signal cuts the sleep short and runs the handler first
        return self.received


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the People First demo data (safe to run again)."""
    from advocacy.demo import load_demo

    summary = load_demo()
    click.echo(summary)


@click.group("outbox")
def outbox_group() -> None:
    """What the background work is doing: failures an operator should look at."""


@outbox_group.command("failures")
@click.option("--limit", default=50, show_default=True, type=int)
@with_appcontext
def outbox_failures_command(limit: int) -> None:
    """List the jobs that failed for good (e.g. a mailbox that does not exist), newest first."""
    from advocacy.outbox import services as outbox

    rows = outbox.failures(limit)
    if not rows:
        click.echo("no failed jobs")
    for row in rows:
        args = " ".join(str(arg) for arg in row.args)
        click.echo(f"{row.id}\t{row.failed_at:%Y-%m-%d %H:%M} UTC\t{row.actor_name} {args}\t{row.last_error}")


@outbox_group.command("periodic")
@with_appcontext
def periodic_status_command() -> None:
    """When each periodic job last ran, and how it went."""
    from advocacy.periodic import services as periodic

    for job in periodic.status():
        last = f"{job.last_finished_at:%Y-%m-%d %H:%M:%S} UTC" if job.last_finished_at else "never finished"
        click.echo(f"{job.name}\truns {job.runs}\tlast {last}\t{job.last_result or ''}")


def register_commands(app: Flask) -> None:
    app.cli.add_command(serve_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(outbox_group)

    from advocacy.events.cli import events_group

    app.cli.add_command(events_group)
