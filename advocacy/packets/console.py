"""Packets in the console: organisers ask for one and follow it; liaisons download theirs, confirm receipt and
publish their institution's response."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectField, TextAreaField

from advocacy.accounts.sessions import acting, console_required
from advocacy.console.views import petition_or_404, see_other
from advocacy.extensions import db
from advocacy.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES
from advocacy.packets import services
from advocacy.packets.models import TargetResponse
from advocacy.packets.signing import fingerprint, packet_keys
from advocacy.petitions.models import Petition

bp = Blueprint("packets_console", __name__, url_prefix="/console")


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


class ActionForm(FlaskForm):
    """A button that posts: only the CSRF token."""


class RequestForm(FlaskForm):
    target = SelectField(coerce=int)


class ResponseForm(FlaskForm):
    pass


def _response_form(existing: TargetResponse | None) -> ResponseForm:
    class Form(ResponseForm):
        pass

    for locale in SUPPORTED_LOCALES:
        setattr(Form, f"text_{locale}", TextAreaField(LANGUAGE_NAMES[locale], render_kw={"lang": locale, "rows": 8},
                                                      default=(existing.text.get(locale) if existing else "")))
    return Form()


# --- organisers -----------------------------------------------------------------------------------------

@bp.route("/petitions/<int:petition_id>/packets", methods=["GET", "POST"])
@console_required
def petition_packets(petition_id: int) -> str | WerkzeugResponse:
    petition = petition_or_404(petition_id)
    form = RequestForm()
    form.target.label.text = _("Addressed to")
    form.target.choices = [(target.id, target.display_name()) for target in petition.targets]
    if form.validate_on_submit():
        try:
            packet = services.request_packet(petition.id, form.target.data, actor=acting())
        except services.PacketError as exc:
            form.target.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("The packet is being built: it appears below when it is ready."))
            return see_other("packets_console.petition_packets", petition_id=petition.id,
                             _anchor=f"packet-{packet.public_id}")
    packets = services.packets_of_petition(petition.id, actor=acting())
    return render_template("packets/petition_packets.html", petition=petition, form=form, packets=packets)


# --- liaisons -------------------------------------------------------------------------------------------

@bp.get("/packets/")
@console_required
def index() -> str:
    packets = services.packets_for(acting())
    return render_template("packets/index.html", packets=packets, action=ActionForm(),
                           fingerprint=fingerprint(packet_keys().current.public_key()))


@bp.get("/packets/<public_id>/packet.zip")
@console_required
def download(public_id: str) -> Response:
    try:
        packet, chunks = services.download(public_id, actor=acting())
    except services.PacketNotFound:
        abort(404)
    filename = f"packet-{packet.petition.slug}-{packet.target.slug}-{packet.cutoff:%Y%m%dT%H%M%SZ}.zip"
    db.session.commit()  # the audit entry of the download, before a byte leaves
    response = Response(stream_with_context(chunks), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Length"] = str(packet.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/packets/<public_id>/received")
@console_required
def received(public_id: str) -> WerkzeugResponse:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.mark_received(public_id, actor=acting())
    except services.PacketNotFound:
        abort(404)
    db.session.commit()
    flash(_("Marked as received."))
    return see_other("packets_console.index")


@bp.route("/petitions/<int:petition_id>/targets/<int:target_id>/response", methods=["GET", "POST"])
@console_required
def response(petition_id: int, target_id: int) -> tuple[str, int] | WerkzeugResponse:
    principal = acting()
    if not principal.can_liaise(target_id):
        abort(404)
    petition = db.session.get(Petition, petition_id)
    target = next((t for t in petition.targets if t.id == target_id), None) if petition else None
    if petition is None or target is None:
        abort(404)
    existing = next((r for r in services.responses(petition_id) if r.target_id == target_id), None)
    form = _response_form(existing)
    problem = None
    if request.method == "POST" and form.validate_on_submit():
        texts = {locale: getattr(form, f"text_{locale}").data or "" for locale in SUPPORTED_LOCALES}
        try:
            services.publish_response(petition_id, target_id, texts, actor=principal)
        except services.PacketError as exc:
            problem = str(exc)
        else:
            db.session.commit()
            flash(_("The response is published on the petition's page."))
            return see_other("packets_console.index")
    return render_template("packets/response.html", petition=petition, target=target, form=form,
                           problem=problem, existing=existing), 400 if problem else 200
