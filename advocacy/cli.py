"""The ``advocacy`` command: serve, worker, demo, and Flask-Migrate's ``db`` group."""

from __future__ import annotations

import logging
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from advocacy.config import Settings

log = logging.getLogger(__name__)


def _create_app() -> Flask:
    from advocacy import create_app
    from advocacy.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        # settings an operator must fix, or an incomplete installation: say what, without a traceback
        raise click.ClickException(str(exc)) from None


def main() -> None:
    cli = FlaskGroup(create_app=_create_app, add_version_option=False, load_dotenv=False,
                     help="advocacy: petitions, signatures, tallies and events.")
    cli.main(prog_name="advocacy")


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
    from advocacy.worker import EmbeddedWorker

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    settings: Settings = app.extensions["advocacy.settings"]
    if not settings.base_url_configured:
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
@click.option("--nice", default=0, show_default=True, type=click.IntRange(0, 19),
              help="Lower the workers' CPU priority by this much (0-19), so that on a machine they share with the "
                   "web processes a burst of signatures keeps the CPU and the mail follows after it.")
@with_appcontext
def worker_command(processes: int, threads: int, nice: int) -> None:
    """Run dramatiq worker processes against ADVOCACY_BROKER_URL."""
    from advocacy.worker import StopSignals, lower_cpu_priority, run_worker

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["BROKER_URL"]:
        raise click.UsageError("ADVOCACY_BROKER_URL is not set: in the embedded mode `advocacy serve` runs the worker.")
    if processes < 1 or threads < 1:
        raise click.UsageError("--processes and --threads must be at least 1")
    lower_cpu_priority(nice)  # before the processes start: they inherit it
    if processes == 1:
        run_worker(app, threads)
        return
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    stop = StopSignals()

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
    from advocacy.worker import run_worker

    app = _create_app()
    with app.app_context():
        run_worker(app, threads)


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the People First demo data (safe to run again)."""
    from advocacy.demo import load_demo

    summary = load_demo()
    click.echo(summary)


def register_commands(app: Flask) -> None:
    """The app-wide commands; each feature adds its own group (``advocacy <feature> <command>``)."""
    app.cli.add_command(serve_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(demo_command)

    from advocacy.periodic.cli import periodic_group

    app.cli.add_command(periodic_group)

    from advocacy.keys import keys_group

    app.cli.add_command(keys_group)
