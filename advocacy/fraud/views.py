"""The console's fraud pages for a petition: trending signals, the signatures behind them, an admin's reveal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from advocacy.accounts.sessions import acting, console_required
from advocacy.cache import private
from advocacy.console.forms import ButtonForm
from advocacy.console.views import petition_or_404
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.fraud import services
from advocacy.fraud.filters import FilterError, SignatureFilter
from advocacy.petitions.models import Petition
from advocacy.signatures.models import Signature

bp = Blueprint("fraud", __name__, url_prefix="/console/petitions/<int:petition_id>/fraud")
WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


bp.after_request(private)  # one person's pages: never stored


class LimitsForm(FlaskForm):
    window = IntegerField(_l("Window (minutes)"), validators=[InputRequired(), NumberRange(min=1)])
    address = IntegerField(_l("Signatures from one address"), validators=[InputRequired(), NumberRange(min=0)])
    network = IntegerField(_l("Signatures from one network"), validators=[InputRequired(), NumberRange(min=0)])
    domain = IntegerField(_l("Signatures with one email domain"), validators=[InputRequired(), NumberRange(min=0)])


def _trending_page(petition: Petition, form: LimitsForm, status: int = 200) -> tuple[str, int]:
    now = utcnow().replace(microsecond=0)
    windows = {name: (now - length, services.trending(petition.id, now - length, actor=acting()))
               for name, length in WINDOWS.items()}
    return render_template("fraud/trending.html", petition=petition, windows=windows, form=form), status


@bp.get("/")
@console_required
def trending(petition_id: int) -> tuple[str, int]:
    petition = petition_or_404(petition_id)
    form = LimitsForm(data={"window": petition.fraud_window_minutes, "address": petition.fraud_limit_address,
                            "network": petition.fraud_limit_network, "domain": petition.fraud_limit_domain})
    return _trending_page(petition, form)


@bp.post("/limits")
@console_required
def limits(petition_id: int) -> tuple[str, int] | WerkzeugResponse:
    petition = petition_or_404(petition_id)
    form = LimitsForm()
    if form.validate_on_submit():
        try:
            services.set_limits(petition.id, actor=acting(), window_minutes=form.window.data,
                                address=form.address.data, network=form.network.data, domain=form.domain.data)
        except ValueError as exc:
            form.window.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Saved."))
            return redirect(url_for("fraud.trending", petition_id=petition.id), code=303)
    return _trending_page(petition, form, 400)


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
                               selection=None, action=ButtonForm(), revealed={}, bulk_link=None,
                               next_page=None), 400
    rows = services.listing(selection, actor=acting(), before=before)
    following: dict[str, Any] = {"petition_id": petition.id, "before": rows[-1].id if rows else None,
                                    **selection.to_args()}
    next_page = url_for("fraud.signatures", **following) if len(rows) == services.PAGE else None
    return render_template("fraud/signatures.html", petition=petition, problem=None, rows=rows,
                           selection=selection, action=ButtonForm(), revealed=revealed or {},
                           bulk_link=_bulk_link(selection), next_page=next_page), 200


@bp.get("/signatures")
@console_required
def signatures(petition_id: int) -> tuple[str, int]:
    return _listing(petition_id)


@bp.post("/signatures/<int:signature_id>/reveal")
@console_required
def reveal(petition_id: int, signature_id: int) -> tuple[str, int]:
    petition = petition_or_404(petition_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    found = db.session.get(Signature, signature_id)
    if found is None or found.petition_id != petition.id:
        abort(404)
    name = services.reveal_name(signature_id, actor=acting())  # admins only: Forbidden is a 403
    db.session.commit()  # the audit entry, before the name is shown
    return _listing(petition_id, revealed={signature_id: name})
