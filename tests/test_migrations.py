"""A fresh database upgraded through every migration ends exactly where the models are."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from advocacy import create_app
from advocacy.extensions import db
from tests.conftest import settings_for_tests


def test_upgrade_to_head_matches_the_models(tmp_path, fresh_database_url, rebind_worker_app):
    app = create_app({"TESTING": True}, settings=settings_for_tests(tmp_path, fresh_database_url))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"signatures", "petitions", "targets", "campaigns", "tally_shards", "outbox"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == []
        # and back down to nothing, so every revision can be undone
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
