"""Extensions are created here and bound in create_app; this module imports nothing of the app."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase

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


def autocommit_connection() -> Connection:
    """A pooled connection, outside the session, on which every statement is its own transaction: no BEGIN
    and COMMIT around it, so one round trip per statement. Only for a statement that is atomic by itself and
    is all its caller writes (the worker's claim and done mark, a read alone, a new signature with its outbox
    row); use it as a context manager, which gives the connection back."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


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
