"""The baseline of the benchmark: a bare Flask app on the same server settings and the same database.

``POST /insert`` does one INSERT of a small row per request (SQLAlchemy Core, one transaction);
``GET /hello`` returns a short text. ``BASELINE_DATABASE_URL`` names the database: the run script points it
at a SQLite file (WAL, with the app's pragmas) or at the PostgreSQL database of
the run, and creates the table before gunicorn starts (``create_table``).

    BASELINE_DATABASE_URL=sqlite:////tmp/x.sqlite3 gunicorn -w 2 --chdir benchmarks baseline_app:app
"""

from __future__ import annotations

import os
import secrets

import sqlalchemy as sa
from flask import Flask, request

from advocacy import configure_engine, engine_options

metadata = sa.MetaData()
rows = sa.Table(
    "bench_baseline_insert", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("payload", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()),
)


def make_engine(url: str) -> sa.Engine:
    """The app's own engine options and set-up (``advocacy.configure_engine``: SQLite's pragmas, or the check of
    idle pooled connections), so the baseline differs from it only in the work."""
    engine = sa.create_engine(url, **engine_options(url))
    configure_engine(engine)
    return engine


def create_table(url: str) -> None:
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()


def create_app(url: str) -> Flask:
    app = Flask(__name__)
    engine = make_engine(url)

    @app.post("/insert")
    def insert() -> tuple[str, int]:
        payload = request.form.get("payload") or secrets.token_hex(8)
        with engine.begin() as conn:
            conn.execute(rows.insert().values(payload=payload[:64]))
        return "inserted\n", 201

    @app.get("/hello")
    def hello() -> str:
        return "hello\n"

    return app


app = create_app(os.environ.get("BASELINE_DATABASE_URL", "sqlite:///baseline.sqlite3"))
