"""advocacy: petitions to named parliaments, double-opt-in signing and per-country tallies."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from advocacy import i18n, logs
from advocacy.config import Settings, load_settings
from advocacy.crypto import Keyring
from advocacy.extensions import babel, csrf, db, limiter, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_BODY_BYTES = 64 * 1024

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


def create_app(config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    config = dict(config or {})
    settings = settings or load_settings(instance_path=config.pop("INSTANCE_PATH", None))
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.secret_key,
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
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "translations"),
        RATELIMIT_STORAGE_URI=_limiter_storage(settings.broker_url),
        RATELIMIT_HEADERS_ENABLED=False,
        RATELIMIT_ENABLED=settings.rate_limits,
        # a limiter whose Redis is down falls back to memory rather than failing the request
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        OUTBOX_RESEND_AFTER=settings.outbox_resend_after,
        TALLY_CACHE_SECONDS=3,
        # petition pages and API answers are shared by all readers of a language for this long
        PAGE_CACHE_SECONDS=3,
        JSON_SORT_KEYS=False,
    )
    app.config.update(config)
    app.extensions["advocacy.settings"] = settings
    app.extensions["advocacy.keyring"] = Keyring(settings.data_keys, settings.blind_index_key)

    _import_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, default_locale=i18n.DEFAULT_LOCALE, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    logs.install_redaction()
    i18n.init_app(app)
    _configure_sqlite(app)

    from advocacy import queue

    queue.init_app(app)

    from advocacy.api.views import bp as api_bp
    from advocacy.events.views import bp as events_bp
    from advocacy.outbox.views import bp as health_bp
    from advocacy.petitions.views import bp as petitions_bp
    from advocacy.signatures.views import bp as signatures_bp

    app.register_blueprint(petitions_bp)
    app.register_blueprint(signatures_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(health_bp)
    csrf.exempt(api_bp)

    _register_security_headers(app)
    _register_error_handlers(app)

    from advocacy.cli import register_commands

    register_commands(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app


def _import_models() -> None:
    """Every model is known to the metadata before migrations or create_all look at it."""
    import advocacy.events.models
    import advocacy.outbox.models
    import advocacy.periodic.models
    import advocacy.petitions.models
    import advocacy.signatures.models
    import advocacy.tallies.models  # noqa: F401


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}


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


def _configure_sqlite(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        apply_sqlite_pragmas(db.engine)


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        if request.path.startswith(("/confirm/", "/withdraw/")):
            response.headers["Cache-Control"] = "no-store"
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
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

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int]:
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        app.logger.exception("unhandled error on %s %s", request.method, request.endpoint)
        return render_error(500)
