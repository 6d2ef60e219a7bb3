"""The console's fraud pages for a petition: trending signals, the signatures behind them, an admin's reveal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_wtf import FlaskForm

from advocacy.accounts.sessions import acting, console_required
from advocacy.console.views import petition_or_404
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.fraud import services
from advocacy.fraud.filters import FilterError, SignatureFilter
from advocacy.signatures.models import Signature

bp = Blueprint("fraud", __name__, url_prefix="/console/petitions/<int:petition_id>/fraud")
WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


class ActionForm(FlaskForm):
    """A button that posts: only the CSRF token."""


@bp.get("/")
@console_required
def trending(petition_id: int) -> str:
    petition = petition_or_404(petition_id)
    now = utcnow().replace(microsecond=0)
    windows = {name: (now - length, services.trending(petition.id, now - length, actor=acting()))
               for name, length in WINDOWS.items()}
    return render_template("fraud/trending.html", petition=petition, windows=windows)


def _bulk_link(selection: SignatureFilter) -> str | None:
    if "fraud_bulk.preview" not in current_app.view_functions:
        return None
    values: dict[str, Any] = {"petition_id": selection.petition_id, **selection.to_args()}
    return url_for("fraud_bulk.preview", **values)


def _listing(petition_id: int, revealed: dict[int, str | None] | None = None) -> tuple[str, int]:
    petition = petition_or_404(petition_id)
    try:
        selection = SignatureFilter.from_args(petition.id, request.args)
        before = int(request.args["before"]) if request.args.get("before") else None
    except (FilterError, ValueError) as exc:
        return render_template("fraud/signatures.html", petition=petition, problem=str(exc), rows=[],
                               selection=None, action=ActionForm(), revealed={}, bulk_link=None,
                               next_page=None), 400
    rows = services.listing(selection, actor=acting(), before=before)
    following: dict[str, Any] = {"petition_id": petition.id, "before": rows[-1].id if rows else None,
                                    **selection.to_args()}
    next_page = url_for("fraud.signatures", **following) if len(rows) == services.PAGE else None
    return render_template("fraud/signatures.html", petition=petition, problem=None, rows=rows,
                           selection=selection, action=ActionForm(), revealed=revealed or {},
                           bulk_link=_bulk_link(selection), next_page=next_page), 200


@bp.get("/signatures")
@console_required
def signatures(petition_id: int) -> tuple[str, int]:
    return _listing(petition_id)


@bp.post("/signatures/<int:signature_id>/reveal")
@console_required
def reveal(petition_id: int, signature_id: int) -> tuple[str, int]:
    petition = petition_or_404(petition_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    found = db.session.get(Signature, signature_id)
    if found is None or found.petition_id != petition.id:
        abort(404)
    name = services.reveal_name(signature_id, actor=acting())  # admins only: Forbidden is a 403
    db.session.commit()  # the audit entry, before the name is shown
    return _listing(petition_id, revealed={signature_id: name})
