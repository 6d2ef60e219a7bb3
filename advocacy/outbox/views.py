"""/healthz: is the site able to do its work? For load balancers and monitoring; no personal data."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from advocacy.extensions import db, limiter

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz() -> tuple[Response, int]:
    """{"ok", "database", "mail"}: 200 when all is well, 503 when the database is away or mail is failing."""
    from advocacy.outbox import services as outbox

    database = True
    mail: bool | None = None
    try:
        db.session.execute(text("SELECT 1"))
        mail = not outbox.mail_failing()
    except Exception as exc:
        db.session.rollback()
        log.warning("health check: the database does not answer (%s)", type(exc).__name__)
        database = False
    ok = database and bool(mail)
    response = jsonify(ok=ok, database=database, mail=mail)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if ok else 503
