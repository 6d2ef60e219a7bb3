"""Target (institution) pages: the list, creating, editing and publishing one, and its liaisons (read-only:
admins manage roles on the users pages)."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from advocacy.accounts.models import Grant, User
from advocacy.accounts.roles import Role, require_any_organiser
from advocacy.accounts.sessions import acting, console_required
from advocacy.console.forms import ActionForm, TargetForm, apply_errors, fill_texts, split_codes, texts
from advocacy.console.views import bp, see_other, target_or_404
from advocacy.extensions import db
from advocacy.i18n import current_locale
from advocacy.petitions import services
from advocacy.petitions.models import DataSharing, DeliveryChannel, Target


@bp.get("/targets")
@console_required
def targets() -> str:
    require_any_organiser(acting())
    found = list(db.session.scalars(select(Target).order_by(Target.country.is_(None), Target.country, Target.id)))
    editable = {target.id for target in found if services.may_edit_target(acting(), target.id)}
    return render_template("console/targets/list.html", targets=found, editable=editable)


def _fields(form: TargetForm) -> dict[str, Any]:
    return {
        "name": texts(form, "name"), "country": form.country.data or "",
        "languages": split_codes(form.languages.data), "website": (form.website.data or "").strip(),
        "contact_email": (form.contact_email.data or "").strip(),
        "delivery_channel": DeliveryChannel(form.delivery_channel.data or DeliveryChannel.EMAIL.value),
        "webhook_url": (form.webhook_url.data or "").strip(),
        "data_sharing": DataSharing(form.data_sharing.data or DataSharing.NAMES.value),
    }


@bp.route("/targets/new", methods=["GET", "POST"])
@console_required
def new_target() -> str | tuple[str, int] | WerkzeugResponse:
    require_any_organiser(acting())
    form = TargetForm(locale=current_locale())
    if form.validate_on_submit():
        try:
            target = services.create_target((form.slug.data or "").strip(), actor=acting(), **_fields(form))
        except services.Rejected as rejected:
            db.session.rollback()
            apply_errors(form, rejected.errors)
        else:
            db.session.commit()
            flash(_("The target was added as a draft."), "success")
            return see_other("console.edit_target", target_id=target.id)
    status = 400 if request.method == "POST" else 200
    return render_template("console/targets/form.html", form=form, target=None, liaisons=[]), status


def liaisons(target_id: int) -> list[str]:
    """The addresses of the liaison accounts attached to a target."""
    users = db.session.scalars(
        select(User).join(Grant, Grant.user_id == User.id)
        .where(Grant.role == Role.LIAISON, Grant.target_id == target_id).order_by(User.id))
    return [str(user.email or "") for user in users]


@bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
@console_required
def edit_target(target_id: int) -> str | tuple[str, int] | WerkzeugResponse:
    target = target_or_404(target_id)
    services.require_target_editor(acting(), target.id)
    form = TargetForm(locale=current_locale())
    if request.method == "GET":
        _fill(form, target)
    elif form.validate_on_submit():
        try:
            services.update_target(target.id, actor=acting(), version=int(form.version.data or 0), **_fields(form))
        except services.Rejected as rejected:
            db.session.rollback()
            apply_errors(form, rejected.errors)
        except services.StaleEdit as stale:
            db.session.rollback()
            form.form_errors.append(_("Someone else changed this target while you were editing it. What you "
                                      "typed is kept below: check its current details in another tab, then save "
                                      "again to replace them with yours."))
            form.version.data = str(stale.current_version)
        else:
            db.session.commit()
            flash(_("The target was saved."), "success")
            return see_other("console.edit_target", target_id=target.id)
    status = 400 if request.method == "POST" else 200
    target = target_or_404(target_id)
    return render_template("console/targets/form.html", form=form, target=target, liaisons=liaisons(target.id),
                           action=ActionForm()), status


def _fill(form: TargetForm, target: Target) -> None:
    form.version.data = str(target.version)
    form.slug.data = target.slug
    fill_texts(form, "name", target.name)
    form.country.data = target.country or ""
    form.languages.data = ", ".join(target.languages or [])
    form.website.data = target.website or ""
    form.contact_email.data = target.contact_email or ""
    form.delivery_channel.data = DeliveryChannel(target.delivery_channel).value
    form.webhook_url.data = target.webhook_url or ""
    form.data_sharing.data = DataSharing(target.data_sharing).value


@bp.post("/targets/<int:target_id>/publish")
@console_required
def publish_target(target_id: int) -> WerkzeugResponse:
    target = target_or_404(target_id)
    services.require_target_editor(acting(), target.id)
    if not ActionForm().validate_on_submit():
        flash(_("This form has expired. Please try again."), "error")
        return see_other("console.edit_target", target_id=target.id)
    try:
        services.publish_target(target.id, actor=acting())
    except (services.NotPublishable, services.StaleEdit) as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(_("The target is public: petitions can be addressed to it."), "success")
    return see_other("console.edit_target", target_id=target.id)
