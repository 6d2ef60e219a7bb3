"""What a feature package contributes to the app, and the one list ``create_app`` walks.

A feature offers a blueprint, background actors, periodic jobs and a CLI group through a ``feature()``
function in its package; adding a feature touches :data:`advocacy.FEATURES` and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click
    from dramatiq.middleware import Middleware
    from flask import Blueprint, Flask

    from advocacy.accounts.roles import Principal
    from advocacy.queue import ActorSpec


@dataclass(frozen=True)
class Job:
    """A periodic job: ``run`` is called inside the app context; the scheduler commits after it."""

    name: str
    every: timedelta
    run: Callable[[], object]


@dataclass(frozen=True)
class ConsoleLink:
    """An entry of the console's navigation, shown to the principals ``visible`` accepts."""

    endpoint: str
    label: Callable[[], str]
    visible: Callable[[Principal], bool]
    # where it goes in the navigation, whichever feature offers it (the overview first, one's account last)
    position: int = 50


@dataclass(frozen=True)
class Feature:
    name: str
    blueprints: tuple[Blueprint, ...] = ()
    # blueprints that take no form posts from browsers (a JSON API) and so need no CSRF token
    csrf_exempt: tuple[Blueprint, ...] = ()
    actors: tuple[ActorSpec, ...] = ()
    jobs: tuple[Job, ...] = ()
    cli: click.Group | None = None
    # functions templates may call (pages and emails alike)
    template_globals: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # dramatiq middleware the feature needs around every message (the outbox's claim and acknowledgement)
    broker_middleware: tuple[Callable[[], Middleware], ...] = ()
    # called inside the app context when the embedded worker starts: its in-memory broker lost whatever a
    # previous process had queued
    on_embedded_start: tuple[Callable[[], Any], ...] = ()
    # called once with the app while it is built (a login manager, a session interface, request hooks)
    init_app: tuple[Callable[[Flask], Any], ...] = ()
    # the console's navigation, in feature order
    console_links: tuple[ConsoleLink, ...] = ()
