"""Extensions are created here and bound in create_app; this module imports nothing of the app."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, g, has_app_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)


class MethodFirstCSRFProtect(CSRFProtect):
    """Flask-WTF's check before every request, asking first whether the method needs a token at all (Flask-WTF
    looks its exemptions up first, for every GET too)."""

    def protect(self, apply_exemptions: bool = False) -> None:
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        super().protect(apply_exemptions)


csrf = MethodFirstCSRFProtect()
babel = Babel()


class PostLimiter(Limiter):
    """Every limit of the site is on a POST (signing, asking for a new link, checking a packet): a GET, HEAD
    or OPTIONS request skips Flask-Limiter's bookkeeping altogether (its check runs before every request and
    again around every limited view, and cost a reader of a cached page about as much as the page itself).
    A limit put on a GET would therefore never apply: limit the POST that does the work."""

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if request.method in SAFE_METHODS:
            return
        super()._check_request_limit(callable_name, in_middleware)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The remote address lives only in the limiter's short-lived window counters, never in the database or logs.
limiter = PostLimiter(key_func=get_remote_address)
# organiser, admin and liaison accounts (advocacy.accounts binds it: user loader, session limits)
login_manager = LoginManager()


@contextmanager
def autocommit_connection() -> Iterator[Connection]:
    """A pooled connection, outside the session, on which every statement is its own transaction: no BEGIN
    and COMMIT around it, so one round trip per statement. Only for a statement that is atomic by itself and
    is all its caller writes (the worker's claim and done mark, a read alone, a new signature with its outbox
    row); use it as a context manager.

    The app context keeps the connection for its later statements, so that a worker's message claims its
    outbox row, reads its signature and marks the row done on one checkout of the pool, and a confirm POST
    reads and confirms on one. It goes back to the pool when the context ends, when the session takes a
    connection of its own (a thread holds one connection at a time, as the pool is sized for), and when a
    block using it raises and no outer block still uses it."""
    held: _Held | None = g.get(_AUTOCOMMIT)
    if held is None or held.connection.closed or held.connection.invalidated:
        held = _Held(db.engine.connect().execution_options(isolation_level="AUTOCOMMIT"))
        setattr(g, _AUTOCOMMIT, held)
    held.users += 1
    try:
        yield held.connection
    except BaseException:
        if held.users == 1:
            release_autocommit_connection()
        raise
    finally:
        held.users -= 1


class _Held:
    __slots__ = ("connection", "users")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.users = 0  # the ``with autocommit_connection()`` blocks under way


_AUTOCOMMIT = "_advocacy_autocommit_connection"


def release_autocommit_connection(exc: BaseException | None = None) -> None:
    """Give the app context's autocommit connection back to the pool (a teardown of the app context)."""
    held = g.pop(_AUTOCOMMIT, None)
    if held is not None:
        held.connection.close()


@event.listens_for(Session, "after_begin")
def _session_takes_a_connection(session: Session, transaction: Any, connection: Connection) -> None:
    if has_app_context():
        held = g.get(_AUTOCOMMIT)
        if held is not None and not held.users:
            release_autocommit_connection()


@contextmanager
def reading_connection() -> Iterator[Connection]:
    """Where reads alone go: the session's connection while it has a transaction under way (whose changes they
    must see), else an ``autocommit_connection`` outside it (no BEGIN and COMMIT: one round trip a statement;
    on PostgreSQL each statement then sees what was committed when it started)."""
    if db.session().in_transaction():
        yield db.session.connection()
        return
    with autocommit_connection() as connection:
        yield connection
