"""advocacy: petitions to named parliaments, double-opt-in signing and per-country tallies."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from advocacy import (
    accounts,
    api,
    audit,
    cache,
    console,
    dashboard,
    events,
    fraud,
    i18n,
    logs,
    outbox,
    packets,
    petitions,
    share,
    signatures,
    tallies,
    updates,
)
from advocacy.config import ConfigError, Settings, load_settings
from advocacy.crypto import Keyring
from advocacy.extensions import babel, csrf, db, limiter, migrate, release_autocommit_connection
from advocacy.features import Feature

PACKAGE_DIR = Path(__file__).resolve().parent
# the top of a checkout; in an installed wheel this is site-packages, which is not a checkout
PROJECT_ROOT = PACKAGE_DIR.parent
# top-level folder of a checkout -> where a wheel carries it inside the package (see setup.py)
DATA_DIRS = {"migrations": "_migrations", "translations": "_translations"}
MAX_BODY_BYTES = 64 * 1024

# Every feature of the platform, in the order their blueprints and jobs are registered: adding a feature is
# adding it here (its package's ``feature(settings)`` says what it contributes).
FEATURES: tuple[Callable[[Settings], Feature], ...] = (
    petitions.feature,
    signatures.feature,
    tallies.feature,
    events.feature,
    outbox.feature,
    api.feature,
    accounts.feature,
    console.feature,
    audit.feature,
    fraud.feature,
    packets.feature,
    updates.feature,
    dashboard.feature,
    share.feature,
)

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])
# the one kind of page other sites may put in a frame (the embeddable counter); nothing else changes
FRAMEABLE_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")

# What a view relaxed for its own answer (the decorators below), kept with the request: a response that an
# error replaced (a 404) keeps every strict header.
_FRAMEABLE = "advocacy.frameable"
_CROSS_ORIGIN = "advocacy.cross_origin"

View = Callable[..., Any]


def frameable(view: View) -> View:
    """Other sites may frame what this view answers (``frame-ancestors *``, no X-Frame-Options). For the
    embeddable counter alone: every other page keeps ``frame-ancestors 'none'``."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        answer = view(*args, **kwargs)
        request.environ[_FRAMEABLE] = True
        return answer
    return wrapper


def cross_origin_resource(view: View) -> View:
    """Other sites may show what this view answers as an image (``Cross-Origin-Resource-Policy:
    cross-origin``): a badge or a share picture, never a page with anything of a reader in it."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        answer = view(*args, **kwargs)
        request.environ[_CROSS_ORIGIN] = True
        return answer
    return wrapper


class DeploymentError(ConfigError):
    """The installation is incomplete: the app refuses to start rather than run half-broken."""


def data_dirs(package_dir: Path | None = None, project_root: Path | None = None) -> dict[str, Path]:
    """Where the Alembic migrations and the compiled translations are, installed or in a checkout.

    An installed wheel carries them inside the package (advocacy/_migrations, advocacy/_translations);
    a checkout (recognised by its pyproject.toml) has them at its top. Without either the app would fail
    later in a confusing way (``db upgrade`` finds no revisions, every page silently in English), so it
    refuses to start with a message that says what is missing.
    """
    package_dir = package_dir or PACKAGE_DIR
    project_root = project_root or PROJECT_ROOT
    found: dict[str, Path] = {}
    for name, bundled in DATA_DIRS.items():
        candidates = [package_dir / bundled]
        if (project_root / "pyproject.toml").is_file():
            candidates.append(project_root / name)
        usable = [path for path in candidates if _is_complete(name, path)]
        if not usable:
            looked = ", ".join(str(path) for path in candidates)
            raise DeploymentError(
                f"advocacy cannot start: the {name} folder is missing or incomplete (looked in {looked}). "
                f"{_HOW_TO_FIX[name]}"
            )
        found[name] = usable[0]
    return found


_HOW_TO_FIX = {
    "migrations": "An installed advocacy must come from a wheel built by `pip install .` or "
    "`python -m build` in a checkout, which copies migrations/ into the package.",
    "translations": "Compile the catalogs (`pybabel compile -d translations`) and rebuild the wheel; without "
    "them every page would silently be in English.",
}


def _is_complete(name: str, path: Path) -> bool:
    if name == "migrations":
        return (path / "env.py").is_file() and (path / "versions").is_dir()
    # every language we offer besides English needs its compiled catalog
    return all(
        (path / locale / "LC_MESSAGES" / "messages.mo").is_file()
        for locale in i18n.SUPPORTED_LOCALES
        if locale != i18n.DEFAULT_LOCALE
    )


def create_app(config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    config = dict(config or {})
    folders = data_dirs()
    settings = settings or load_settings(instance_path=config.pop("INSTANCE_PATH", None))
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks),
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
        BASE_URL=settings.base_url,
        SMTP_URL=settings.smtp_url,
        MAIL_FROM=settings.mail_from,
        SITE_NAME=settings.site_name,
        MAIL_DIR=settings.mail_dir,
        BROKER_URL=settings.broker_url,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # behind a TLS-terminating proxy the app sees http: the base URL says what browsers use
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        # a request for any other Host gets 400 (Flask checks it while routing)
        TRUSTED_HOSTS=allowed_hosts(settings.base_url, settings.extra_hosts),
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
        BABEL_TRANSLATION_DIRECTORIES=str(folders["translations"]),
        RATELIMIT_STORAGE_URI=_limiter_storage(settings.broker_url),
        RATELIMIT_HEADERS_ENABLED=False,
        RATELIMIT_ENABLED=settings.rate_limits,
        # a limiter whose Redis is down falls back to memory rather than failing the request
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        OUTBOX_RESEND_AFTER=settings.outbox_resend_after,
        EMBEDDED_GIVE_WAY=settings.embedded_give_way,
        TALLY_CACHE_SECONDS=settings.cache_seconds,
        # petition pages and API answers are shared by all anonymous readers of a language for this long
        PAGE_CACHE_SECONDS=settings.cache_seconds,
        # per-country counts below this are public as "fewer than N"
        MIN_PUBLIC_COUNT=settings.min_public_count,
        WEBHOOK_ALLOW_LOOPBACK=settings.webhook_allow_loopback,
        JSON_SORT_KEYS=False,
    )
    app.config.update(config)
    app.extensions["advocacy.settings"] = settings
    # first of all before_request functions: no extension or view sees such a request
    app.before_request(_refuse_control_characters)
    # anonymous readers' shared answers (petition pages, the API) go out again from in front of Flask
    app.wsgi_app = cache.FrontCache(  # type: ignore[method-assign]
        app.wsgi_app, trusted_hosts=app.config["TRUSTED_HOSTS"], locale_for=i18n.locale_for_accept_language)
    if settings.trusted_proxies:
        # The client's address and scheme come from the last N X-Forwarded-For/-Proto hops (what our own
        # proxies appended), so rate limits count signers, not the proxy. X-Forwarded-Host is never
        # believed: a proxy that does not set it would pass the client's through, defeating the host
        # check; the proxy passes the real Host header instead (proxy_set_header Host $host).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies, x_host=0, x_port=0,
            x_prefix=0,
        )
    app.extensions["advocacy.keyring"] = Keyring(settings.data_keys, settings.blind_index_key)

    features = [make(settings) for make in FEATURES]
    db.init_app(app)
    app.teardown_appcontext(release_autocommit_connection)
    migrate.init_app(app, db, directory=str(folders["migrations"]))
    csrf.init_app(app)
    babel.init_app(app, default_locale=i18n.DEFAULT_LOCALE, locale_selector=i18n.select_babel_locale)
    limiter.init_app(app)
    logs.install_redaction()
    i18n.init_app(app)
    _configure_engine(app)

    _register_features(app, settings, features)

    _register_security_headers(app)
    _register_error_handlers(app)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app


def _register_features(app: Flask, settings: Settings, features: list[Feature]) -> None:
    """Blueprints, CLI groups, actors, broker middleware and periodic jobs, from the one list of features."""
    from advocacy import queue
    from advocacy.cli import register_commands

    queue.init_app(app, settings.broker_url,
                   middleware=[make for feature in features for make in feature.broker_middleware],
                   actors=[spec for feature in features for spec in feature.actors])
    register_commands(app)
    for feature in features:
        for blueprint in feature.blueprints:
            app.register_blueprint(blueprint)
        for blueprint in feature.csrf_exempt:
            csrf.exempt(blueprint)
        if feature.cli is not None:
            app.cli.add_command(feature.cli)
        app.jinja_env.globals.update(feature.template_globals)
        for init in feature.init_app:
            init(app)
    app.extensions["advocacy.periodic_jobs"] = tuple(job for feature in features for job in feature.jobs)
    app.extensions["advocacy.console_links"] = tuple(sorted(
        (link for feature in features for link in feature.console_links), key=lambda link: link.position))
    app.extensions["advocacy.embedded_start_hooks"] = tuple(
        hook for feature in features for hook in feature.on_embedded_start
    )


LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def allowed_hosts(base_url: str, extra_hosts: tuple[str, ...] = ()) -> list[str]:
    """The Host names the site answers: the base URL's, the extra ones, and all names of a loopback one."""
    base_host = urlsplit(base_url).hostname
    hosts = [base_host] if base_host else []
    if base_host in LOOPBACK_HOSTS:
        hosts.extend(LOOPBACK_HOSTS)
    hosts.extend(extra_hosts)
    return list(dict.fromkeys(hosts))


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def has_control_characters(value: str) -> bool:
    return _CONTROL_CHARACTERS.search(value) is not None


def _refuse_control_characters() -> None:
    """No link of ours puts control characters in a path or a query parameter: 400, before they reach a
    redirect (a newline in a Location header), a database (PostgreSQL refuses NUL in text) or a cookie."""
    if has_control_characters(request.path) or (request.query_string and any(
        has_control_characters(key) or has_control_characters(value) for key, value in request.args.items(multi=True)
    )):
        abort(400)




def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        from advocacy.sqlite_writers import WriterConnection

        return {"connect_args": {"timeout": 30, "factory": WriterConnection}}
    # no pool_pre_ping: configure_engine pings only a connection that sat idle (advocacy.pool_ping)
    return {"pool_size": 10, "max_overflow": 10}


def configure_engine(engine: Any) -> None:
    """What every engine of the app gets after it is made: SQLite's pragmas, or for a server database the
    check of idle pooled connections (advocacy.pool_ping)."""
    if engine.dialect.name == "sqlite":
        apply_sqlite_pragmas(engine)
    else:
        from advocacy.pool_ping import ping_after_idle

        ping_after_idle(engine)


def _limiter_storage(broker_url: str | None) -> str:
    if broker_url and broker_url.startswith(("redis://", "rediss://")):
        return broker_url
    return "memory://"


SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000")


def apply_sqlite_pragmas(engine: Any) -> None:
    """WAL lets readers go on while one writer commits; foreign keys are off in SQLite unless asked for."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


def restrict_sqlite_file(url: str) -> None:
    """The database file is readable by the app's account alone (0600), created so before SQLite opens it.

    SQLite creates its -wal and -shm files with the mode of the database file; existing ones are tightened.
    """
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except (FileExistsError, FileNotFoundError):
        pass  # there already, or a missing folder that SQLite itself will report
    else:
        os.close(fd)  # an empty file is a valid, empty SQLite database
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if each.exists() and each.stat().st_mode & 0o777 != 0o600:
                each.chmod(0o600)
        except PermissionError:
            logging.getLogger(__name__).warning("cannot restrict %s to mode 600", each)


def _configure_engine(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        restrict_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        configure_engine(db.engine)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)
_SECURITY_HEADER_NAMES = frozenset(name.lower() for name, _value in SECURITY_HEADERS)


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        # every answer gets them; appended at once (no view sets one of them, so nothing is replaced)
        if not _SECURITY_HEADER_NAMES.isdisjoint(name.lower() for name, _value in headers):
            for name, value in SECURITY_HEADERS:
                headers[name] = value
        else:
            headers.extend(SECURITY_HEADERS)
        environ = request.environ
        # the embeddable counter may be framed by any site, and the badge and picture shown on any site; an
        # error answer of theirs keeps the strict headers
        if environ.get(_FRAMEABLE) and response.status_code < 400:
            headers["Content-Security-Policy"] = FRAMEABLE_CONTENT_SECURITY_POLICY
            headers.pop("X-Frame-Options", None)
        if environ.get(_CROSS_ORIGIN) and response.status_code < 400:
            headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        if request.path.startswith(("/confirm/", "/withdraw/")):
            headers["Cache-Control"] = "no-store"
        if "Vary" in headers:
            response.vary.update(("Accept-Language", "Cookie"))
        else:
            headers["Vary"] = "Accept-Language, Cookie"
        return response


def _register_error_handlers(app: Flask) -> None:
    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You are not allowed to do this."),
        404: lambda: _("This page does not exist."),
        405: lambda: _("This page cannot be used that way."),
        413: lambda: _("What you sent is too large."),
        429: lambda: _("Too many requests. Please wait a little and try again."),
        500: lambda: _("Something went wrong on our side. Please try again later."),
    }

    def render_error(code: int, message: str | None = None) -> tuple[str, int]:
        text = message or messages.get(code, messages[500])()
        if request.path.startswith("/api/"):
            return {"error": text, "status": code}, code  # type: ignore[return-value]
        return render_template("error.html", code=code, message=text), code

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        return render_error(400, _("This form has expired. Please go back, reload the page and try again."))

    @app.errorhandler(SecurityError)
    def _untrusted_host(error: SecurityError) -> Response:
        # a Host that is not ours (TRUSTED_HOSTS): no URL can be built for it, so no page with links
        return Response(messages[400](), status=400, mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int]:
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        app.logger.exception("unhandled error on %s %s", request.method, request.endpoint)
        return render_error(500)
