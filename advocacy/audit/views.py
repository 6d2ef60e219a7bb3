"""The audit log in the console, for admins: the latest entries, filtered by the kind of action."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from advocacy.accounts.models import User
from advocacy.accounts.roles import require_admin
from advocacy.accounts.sessions import acting, console_required
from advocacy.audit import services
from advocacy.audit.models import AuditEvent
from advocacy.cache import private
from advocacy.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/console/audit")
PAGE_SIZE = 200

PREFIX_LABELS = {
    "login": _l("Logins"),
    "role": _l("Roles"),
    "invitation": _l("Invitations"),
    "account": _l("Accounts"),
    "password": _l("Passwords"),
    "second_factor": _l("Second factors"),
    "petition": _l("Petitions"),
    "campaign": _l("Campaigns"),
    "target": _l("Targets"),
    "event": _l("Events"),
    "update": _l("Updates to signers"),
    "packet": _l("Packets"),
    "delivery": _l("Deliveries"),
    "response": _l("Responses"),
    "signature": _l("Signatures"),
    "fraud": _l("Bulk actions on signatures"),
}


bp.after_request(private)  # one person's pages: never stored


def _chosen_prefix() -> str | None:
    prefix = request.args.get("action", "")
    return prefix if prefix in services.PREFIXES else None


def _entries() -> tuple[list[AuditEvent], dict[int, str]]:
    entries = services.recent(PAGE_SIZE, actor=acting(), prefix=_chosen_prefix())
    ids = {entry.actor_user_id for entry in entries if entry.actor_user_id is not None}
    # admins may see staff email addresses; signers never appear here
    users = db.session.scalars(select(User).where(User.id.in_(ids))).all() if ids else []
    return entries, {user.id: user.email or f"#{user.id}" for user in users}


def describe(detail: dict[str, Any]) -> str:
    return "; ".join(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
                     for key, value in sorted(detail.items()))


@bp.route("/")
@console_required
def index() -> str:
    require_admin(acting())
    entries, emails = _entries()
    return render_template("audit/index.html", entries=entries, emails=emails, describe=describe,
                           prefixes=PREFIX_LABELS, chosen=_chosen_prefix() or "")


def _cell(value: str) -> str:
    # a spreadsheet must not take a cell for a formula
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.route("/export.csv")
@console_required
def export() -> Response:
    require_admin(acting())
    entries, emails = _entries()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at", "actor", "action", "object_type", "object_id", "detail"])
    for entry in entries:
        actor = emails.get(entry.actor_user_id, "") if entry.actor_user_id is not None else "system"
        writer.writerow([entry.id, entry.at.isoformat(), _cell(actor), entry.action, entry.object_type or "",
                         entry.object_id if entry.object_id is not None else "", _cell(describe(entry.detail))])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit.csv"})
