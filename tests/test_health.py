"""/healthz: what a load balancer or monitoring reads; JSON, never cached, no personal data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from advocacy.extensions import db
from advocacy.outbox import services as outbox
from advocacy.outbox.models import OutboxMessage
from tests.signatures.test_views import sign


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "database": True, "mail": True}
    assert response.headers["Cache-Control"] == "no-store"


def test_mail_failing_while_a_row_retries_after_a_system_error_and_healthy_once_it_is_sent(app, client,
                                                                                          make_petition, monkeypatch):
    from advocacy.queue import get_broker

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker unreachable")

    # the row stays with us: no worker runs it while the test plays the middleware's part
    monkeypatch.setattr(get_broker(), "enqueue", refuse)
    sign(client, make_petition().slug, email="health.signer@example.org")
    assert outbox.handed_over()  # the refused hand-over, flagged for the relay, is over
    with app.app_context():
        row_id = db.session.scalar(select(OutboxMessage.id))
        # what the queue middleware records when an attempt fails with our own error (e.g. SMTP login refused)
        outbox.claim(row_id, "message-1")
        outbox.record_attempt_failure(row_id, "message-1", timedelta(seconds=60),
                                      "SystemDeliveryError: SMTP login refused (535)", system_error=True)
        db.session.commit()
    failing = client.get("/healthz")
    assert failing.status_code == 503
    assert failing.get_json() == {"ok": False, "database": True, "mail": False}
    assert failing.headers["Cache-Control"] == "no-store"
    assert "health.signer" not in failing.get_data(as_text=True)

    with app.app_context():
        # a recipient's own failure on the next attempt is not the system's: mail works again
        outbox.record_attempt_failure(row_id, "message-1", timedelta(seconds=60),
                                      "TransientDeliveryError: recipient refused by the SMTP server (450)")
        db.session.commit()
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        outbox.record_attempt_failure(row_id, "message-1", timedelta(seconds=60),
                                      "SystemDeliveryError: SMTP login refused (535)", system_error=True)
        outbox.mark_done(row_id)
        db.session.commit()
    assert client.get("/healthz").get_json() == {"ok": True, "database": True, "mail": True}


def test_database_away(client, monkeypatch):
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["ok"] is False
    assert body["database"] is False
