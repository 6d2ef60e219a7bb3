"""Bulk actions in the console: a preview of what each action would change for a selection, starting one, and
the petition's list of actions with their progress and an undo for finished invalidations."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import BooleanField, RadioField, SelectChoice, StringField
from wtforms.validators import Length

from advocacy.accounts.sessions import acting, console_required
from advocacy.cache import private
from advocacy.console.forms import ButtonForm
from advocacy.console.views import petition_or_404, see_other
from advocacy.extensions import db
from advocacy.fraud import bulk
from advocacy.fraud.bulk_models import BulkAction, BulkKind, BulkStatus
from advocacy.fraud.filters import FilterError, SignatureFilter
from advocacy.petitions.models import Petition

bp = Blueprint("fraud_bulk", __name__, url_prefix="/console/petitions/<int:petition_id>/fraud/bulk")

ACTION_LABELS = {
    BulkKind.INVALIDATE: _l("Invalidate"),
    BulkKind.CLEAR_SUSPECT: _l("Clear the suspect flag"),
    BulkKind.RESTORE: _l("Restore (undo)"),
}
STATUS_LABELS = {
    BulkStatus.QUEUED: _l("Queued"),
    BulkStatus.RUNNING: _l("Running"),
    BulkStatus.DONE: _l("Done"),
    BulkStatus.FAILED: _l("Failed (retrying)"),
}


bp.after_request(private)  # one person's pages: never stored


class StartForm(FlaskForm):
    action = RadioField(_l("Action"), choices=[SelectChoice(k.value, ACTION_LABELS[k]) for k in bulk.STARTABLE],
                        default=BulkKind.INVALIDATE.value)
    reason = StringField(_l("Reason"), validators=[Length(max=200)])
    whole_petition = BooleanField(_l("Yes, act on every signature of this petition"))


def _filter_or_400(petition: Petition) -> SignatureFilter:
    """The selection in the query string; a console page with the filter's own message (400) if it is not one."""
    try:
        return SignatureFilter.from_args(petition.id, request.args)
    except FilterError as exc:
        page = render_template("fraud/bulk_filter_error.html", petition=petition, message=str(exc))
        abort(Response(page, status=400))


def _preview_page(petition: Petition, selection: SignatureFilter, form: StartForm, status: int = 200,
                  problems: tuple[str, ...] = ()) -> tuple[str, int]:
    counts = bulk.preview(selection, actor=acting())
    return render_template("fraud/bulk_preview.html", petition=petition, selection=selection, counts=counts,
                           form=form, problems=problems, labels=ACTION_LABELS), status


@bp.route("/preview", methods=["GET", "POST"])
@console_required
def preview(petition_id: int) -> tuple[str, int] | WerkzeugResponse:
    petition = petition_or_404(petition_id)
    selection = _filter_or_400(petition)
    form = StartForm()
    if request.method == "GET":
        return _preview_page(petition, selection, form)
    if not form.validate_on_submit():
        return _preview_page(petition, selection, form, 400)
    try:
        bulk.start(selection, form.action.data, form.reason.data, actor=acting(),
                   whole_petition=bool(form.whole_petition.data))
    except bulk.BulkError as exc:
        return _preview_page(petition, selection, form, 400, problems=(str(exc),))
    db.session.commit()
    flash(_("The action is running: its progress shows below."))
    return see_other("fraud_bulk.index", petition_id=petition.id)


@bp.get("/")
@console_required
def index(petition_id: int) -> str:
    petition = petition_or_404(petition_id)
    rows = bulk.of_petition(petition.id, actor=acting())
    undone = bulk.undone_ids(petition.id)
    return render_template("fraud/bulk_index.html", petition=petition, rows=rows, labels=ACTION_LABELS,
                           statuses=STATUS_LABELS, action=ButtonForm(),
                           undoable={row.id for row in rows if bulk.can_undo(row, undone)})


@bp.post("/<int:bulk_id>/undo")
@console_required
def undo(petition_id: int, bulk_id: int) -> WerkzeugResponse:
    petition = petition_or_404(petition_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    found = db.session.get(BulkAction, bulk_id)
    if found is None or found.petition_id != petition.id:
        abort(404)
    try:
        bulk.undo(bulk_id, actor=acting())
    except bulk.BulkError as exc:
        flash(str(exc))
    else:
        db.session.commit()
        flash(_("The signatures are being restored."))
    return see_other("fraud_bulk.index", petition_id=petition.id)
