"""Only the embeddable counter may be framed by other sites: a walk over every GET route of ``app.url_map``.

Path variables are filled as tests/test_console_routes.py fills them (campaign Alpha and its objects), with
Alpha's petition published and its update sent, so the public pages answer with their content rather than
404. Every answer but the embed's carries ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``, whoever
asks (anonymous, or an organiser of Alpha who sees the console's pages).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from advocacy.accounts.roles import SYSTEM
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.petitions import services as petitions
from advocacy.updates.models import Update, UpdateStatus
from tests.test_console_routes import Alpha, fill
from tests.test_console_routes import alpha as alpha  # the fixture

FRAMEABLE = {"share.embed"}


def get_rules(app: Flask) -> list[tuple[str, str]]:
    return sorted((rule.endpoint, rule.rule) for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ()))


def test_only_the_embed_may_be_framed(app: Flask, alpha: Alpha, login_as: Any) -> None:
    with app.app_context():
        petition = petitions.publish_petition(alpha.petition_id, actor=SYSTEM)
        update = db.session.get(Update, alpha.update_id)
        assert update is not None
        update.status, update.started_at = UpdateStatus.SENT, utcnow()
        db.session.commit()
        assert petition.is_public
        db.session.remove()
    anonymous = app.test_client()
    organiser = app.test_client()
    login_as(organiser, organiser_of=[alpha.campaign_id])
    values = alpha.path_values()
    rules = get_rules(app)
    answered: dict[str, set[int]] = {}
    for endpoint, rule in rules:
        path = fill(rule, values)
        for client in (anonymous, organiser):
            for query in ("", "?lang=uk"):
                response = client.get(path + query)
                where = f"GET {path}{query} ({endpoint}) answered {response.status_code}"
                csp = response.headers.get("Content-Security-Policy", "")
                ancestors = [part.strip() for part in csp.split(";") if part.strip().startswith("frame-ancestors")]
                if endpoint in FRAMEABLE and response.status_code == 200:
                    assert ancestors == ["frame-ancestors *"], where
                    assert "X-Frame-Options" not in response.headers, where
                else:
                    assert ancestors == ["frame-ancestors 'none'"], where
                    assert response.headers.get("X-Frame-Options") == "DENY", where
                answered.setdefault(endpoint, set()).add(response.status_code)
    # the walk reached the pages themselves, not only their 404s
    for endpoint in ("share.embed", "share.badge", "share.image", "share.news", "share.news_item", "share.news_feed",
                     "petitions.show", "petitions.index"):
        assert answered[endpoint] == {200}, (endpoint, answered[endpoint])
    assert len(rules) >= 60
