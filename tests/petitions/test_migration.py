"""The moderation migration keeps existing campaigns, targets and petitions as they were."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from advocacy import create_app
from advocacy.extensions import db
from tests.conftest import settings_for_tests

BEFORE = "80cfa709c821"


def test_existing_rows_get_empty_footers_email_delivery_and_no_transitions(tmp_path, fresh_database_url,
                                                                          rebind_worker_app):
    app = create_app({"TESTING": True}, settings=settings_for_tests(tmp_path, fresh_database_url))
    created = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO campaigns (id, slug, name, description, languages, created_at, published_at, version)"
                " VALUES (1, 'people-first', '{\"en\": \"People First\"}', '{}', '[\"en\"]', :at, :at, 1)"),
                {"at": created})
            conn.execute(text(
                "INSERT INTO targets (id, slug, name, country, languages, data_sharing, published_at, version)"
                " VALUES (1, 'bundestag', '{\"en\": \"Bundestag\"}', 'DE', '[\"de\"]', 'names', :at, 1)"),
                {"at": created})
            conn.execute(text(
                "INSERT INTO petitions (id, campaign_id, slug, position, title, summary, body, status, goal,"
                " country_goals, postcode_required, retention_days, created_at, version) VALUES (1, 1, 'old', 0,"
                " '{\"en\": \"Old\"}', '{}', '{}', 'open', 0, '{}', false, 180, :at, 2)"), {"at": created})
        upgrade()
        from advocacy.petitions import services

        campaign = services.find_campaign("people-first")
        assert (campaign.sender_name, campaign.email_footer) == (None, {})
        target = services.find_target("bundestag")
        assert (target.delivery_channel, target.contact_email, target.webhook_url) == ("email", None, None)
        petition = services.get_petition("old")
        assert (petition.status, petition.parent_id, petition.country, petition.rejection_reason) == (
            "open", None, None, None)
        assert services.transitions(petition.id) == []
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE petitions SET status = 'submitted' WHERE id = 1"))
        db.session.remove()
        # going back, a petition waiting for approval becomes a draft again: never public
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM petitions")).scalar() == "draft"
        db.engine.dispose()
