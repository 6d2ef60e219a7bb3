"""The drafts-and-versions migration publishes the events that were already public."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from advocacy import create_app
from advocacy.extensions import db
from tests.conftest import settings_for_tests


def test_existing_events_are_published_at_version_one(tmp_path, fresh_database_url, rebind_worker_app):
    app = create_app({"TESTING": True}, settings=settings_for_tests(tmp_path, fresh_database_url))
    created = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with app.app_context():
        upgrade(revision="5d0e7a3c91f2")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO events (uid, sequence, kind, status, title, description, starts_at, ends_at, timezone,"
                " venue, organisers, languages, interpretation, created_at, updated_at) VALUES ('old@test', 2,"
                " 'side-event', 'scheduled', '{\"en\": \"Old\"}', '{}', :start, :end, 'Europe/Zurich',"
                " 'Palais des Nations', '[]', '[]', '[]', :created, :created)"
            ), {"start": datetime(2030, 3, 29, 12, tzinfo=UTC), "end": datetime(2030, 3, 29, 13, tzinfo=UTC),
                "created": created})
        upgrade()
        from advocacy.events import services

        event = services.get_event("old@test")
        assert not event.is_draft
        assert event.published_at == created
        assert (event.version, event.sequence) == (1, 2)
        assert [e.uid for e in services.all_events()] == ["old@test"]
        db.session.remove()
        downgrade(revision="5d0e7a3c91f2")
        db.engine.dispose()
