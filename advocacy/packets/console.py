"""Packets in the console: organisers ask for one and follow it; liaisons download theirs, confirm receipt and
publish their institution's response."""

from __future__ import annotations

from datetime import UTC

from flask import Blueprint, Response, abort, flash, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import DateTimeLocalField, IntegerField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import NumberRange, Optional

from advocacy.accounts.sessions import acting, console_required
from advocacy.cache import private
from advocacy.console.forms import ButtonForm
from advocacy.console.views import petition_or_404, see_other
from advocacy.crypto import TokenExpired, TokenInvalid
from advocacy.extensions import db
from advocacy.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES
from advocacy.packets import delivery, services
from advocacy.packets.models import Delivery, DeliverySchedule, TargetResponse
from advocacy.packets.signing import fingerprint, packet_keys
from advocacy.petitions.models import Petition, Target

bp = Blueprint("packets_console", __name__, url_prefix="/console")


bp.after_request(private)  # one person's pages: never stored


class RequestForm(FlaskForm):
    target = SelectField(coerce=int)


class ScheduleForm(FlaskForm):
    target = SelectField(coerce=int)
    when = RadioField(choices=[SelectChoice("now", _l("Now")), SelectChoice("at", _l("At a date")),
                               SelectChoice("every", _l("Every N days"))],
                      default="now")
    at = DateTimeLocalField(_l("Date and time (UTC)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    every_days = IntegerField(_l("Every how many days"), validators=[Optional(), NumberRange(min=1, max=365)])


class RetentionForm(FlaskForm):
    days = IntegerField(_l("Keep packet files for this many days after delivery"),
                        validators=[NumberRange(min=1, max=services.MAX_RETENTION_DAYS)])


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

def _target_choices(petition: Petition) -> list[tuple[int, str]]:
    return [(target.id, target.display_name()) for target in petition.targets]


def _packets_page(petition: Petition, form: RequestForm, plan: ScheduleForm, status: int = 200,
                  keep: RetentionForm | None = None) -> tuple[str, int]:
    packets = services.packets_of_petition(petition.id, actor=acting())
    if keep is None:
        keep = RetentionForm(prefix="keep", data={"days": petition.packet_retention_days})
    deliveries = delivery.deliveries_of_petition(petition.id)
    return render_template(
        "packets/petition_packets.html", petition=petition, form=form, plan=plan, packets=packets,
        deliveries=deliveries, attempts=delivery.attempts_of([d.id for d in deliveries]),
        schedules=delivery.schedules_of_petition(petition.id), action=ButtonForm(), keep=keep,
    ), status


def _forms(petition: Petition) -> tuple[RequestForm, ScheduleForm]:
    form, plan = RequestForm(prefix="build"), ScheduleForm(prefix="deliver")
    form.target.label.text = plan.target.label.text = _("Addressed to")
    form.target.choices = plan.target.choices = _target_choices(petition)
    plan.when.label.text = _("When")
    return form, plan


@bp.route("/petitions/<int:petition_id>/packets", methods=["GET", "POST"])
@console_required
def petition_packets(petition_id: int) -> tuple[str, int] | WerkzeugResponse:
    petition = petition_or_404(petition_id)
    form, plan = _forms(petition)
    if request.method == "POST" and form.validate_on_submit():
        try:
            packet = services.request_packet(petition.id, form.target.data, actor=acting())
        except services.PacketError as exc:
            form.target.errors = [str(exc)]
            return _packets_page(petition, form, plan, 400)
        db.session.commit()
        flash(_("The packet is being built: it appears below when it is ready."))
        return see_other("packets_console.petition_packets", petition_id=petition.id,
                         _anchor=f"packet-{packet.public_id}")
    return _packets_page(petition, form, plan, 400 if request.method == "POST" else 200)


@bp.post("/petitions/<int:petition_id>/deliveries")
@console_required
def schedule_delivery(petition_id: int) -> tuple[str, int] | WerkzeugResponse:
    petition = petition_or_404(petition_id)
    form, plan = _forms(petition)
    if plan.validate_on_submit():
        at = plan.at.data.replace(tzinfo=UTC) if plan.when.data in ("at", "every") and plan.at.data else None
        every = plan.every_days.data if plan.when.data == "every" else None
        if plan.when.data == "at" and at is None:
            plan.at.errors = [_("Choose the date and time of the delivery.")]
        elif plan.when.data == "every" and not every:
            plan.every_days.errors = [_("Say every how many days to deliver.")]
        else:
            try:
                delivery.schedule(petition.id, plan.target.data, actor=acting(), at=at, every_days=every)
            except delivery.ScheduleError as exc:
                plan.target.errors = [str(exc)]
            else:
                db.session.commit()
                flash(_("The delivery is scheduled.") if at else _("The packet is being built and delivered."))
                return see_other("packets_console.petition_packets", petition_id=petition.id, _anchor="deliveries")
    return _packets_page(petition, form, plan, 400)


@bp.post("/petitions/<int:petition_id>/packets/retention")
@console_required
def packet_retention(petition_id: int) -> tuple[str, int] | WerkzeugResponse:
    petition = petition_or_404(petition_id)
    form, plan = _forms(petition)
    keep = RetentionForm(prefix="keep")
    if keep.validate_on_submit():
        try:
            services.set_packet_retention(petition.id, keep.days.data, actor=acting())
        except services.PacketError as exc:
            keep.days.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Saved."))
            return see_other("packets_console.petition_packets", petition_id=petition.id, _anchor="retention")
    return _packets_page(petition, form, plan, 400, keep=keep)


@bp.post("/petitions/<int:petition_id>/deliveries/<int:delivery_id>/again")
@console_required
def redeliver(petition_id: int, delivery_id: int) -> WerkzeugResponse:
    petition = petition_or_404(petition_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        found = db.session.get(Delivery, delivery_id)
        if found is None or found.packet.petition_id != petition.id:
            abort(404)
        delivery.redeliver(delivery_id, actor=acting())
    except delivery.ScheduleError as exc:
        flash(str(exc))
        return see_other("packets_console.petition_packets", petition_id=petition.id, _anchor="deliveries")
    db.session.commit()
    flash(_("The packet is being delivered again."))
    return see_other("packets_console.petition_packets", petition_id=petition.id, _anchor="deliveries")


@bp.post("/petitions/<int:petition_id>/schedules/<int:schedule_id>/cancel")
@console_required
def cancel_schedule(petition_id: int, schedule_id: int) -> WerkzeugResponse:
    petition = petition_or_404(petition_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    found = db.session.get(DeliverySchedule, schedule_id)
    if found is None or found.petition_id != petition.id:
        abort(404)
    delivery.cancel(schedule_id, actor=acting())
    db.session.commit()
    flash(_("The schedule is cancelled."))
    return see_other("packets_console.petition_packets", petition_id=petition.id, _anchor="deliveries")


@bp.route("/targets/<int:target_id>/webhook-secret", methods=["GET", "POST"])
@console_required
def webhook_secret(target_id: int) -> str:
    from advocacy.petitions import services as petitions

    target = db.session.get(Target, target_id)
    if target is None:
        abort(404)
    petitions.require_target_editor(acting(), target_id)
    action, secret = ButtonForm(), None
    if request.method == "POST" and action.validate_on_submit():
        secret = delivery.new_webhook_secret(target_id, actor=acting())
        db.session.commit()
    return render_template("packets/webhook_secret.html", target=target, action=action, secret=secret,
                           has_secret=delivery.webhook_secret(target_id) is not None)


# --- liaisons -------------------------------------------------------------------------------------------

@bp.get("/packets/")
@console_required
def index() -> str:
    packets = services.packets_for(acting())
    return render_template("packets/index.html", packets=packets, action=ButtonForm(),
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


@bp.get("/packets/link/<token>")
@console_required
def from_link(token: str) -> tuple[str, int] | WerkzeugResponse:
    """The link in a delivery email: the packet in the liaison's list (after the login, if needed)."""
    try:
        public_id = delivery.packet_from_link(token)
    except TokenExpired:
        return render_template("packets/link_expired.html"), 410
    except TokenInvalid:
        abort(404)
    try:
        services.packet_for(public_id, actor=acting())
    except services.PacketNotFound:
        abort(404)
    return see_other("packets_console.index", _anchor=f"packet-{public_id}")


@bp.post("/packets/<public_id>/received")
@console_required
def received(public_id: str) -> WerkzeugResponse:
    if not ButtonForm().validate_on_submit():
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
            flash(_("The response is published on the petition’s page."))
            return see_other("packets_console.index")
    return render_template("packets/response.html", petition=petition, target=target, form=form,
                           problem=problem, existing=existing), 400 if problem else 200
