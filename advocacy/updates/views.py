"""The console's update pages under /console/petitions/<id>/updates/, and the signers' unsubscribe page.

Console views are thin: parse, call a service with ``actor=acting()``, commit once, flash, answer a POST with
303. The unsubscribe link works without logging in: GET shows a button (mail scanners open links), POST acts;
an RFC 8058 one-click POST (``List-Unsubscribe=One-Click``) carries no CSRF token and is accepted as it is,
since the signed token in the address is what authorises it. That one view is exempt from CSRF; a browser's
POST through the page's button still has to carry its token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from advocacy.accounts.sessions import acting, console_required
from advocacy.cache import private
from advocacy.console.forms import ActionForm, RejectForm
from advocacy.console.views import petition_or_404
from advocacy.crypto import TokenInvalid, read_token
from advocacy.extensions import csrf, db
from advocacy.i18n import SUPPORTED_LOCALES
from advocacy.petitions.models import Petition
from advocacy.signatures.models import Signature
from advocacy.updates import services
from advocacy.updates.forms import MilestoneForm, UnsubscribeForm, UpdateForm
from advocacy.updates.models import Update, UpdateKind

bp = Blueprint("updates", __name__, url_prefix="/updates")
console_bp = Blueprint("updates_console", __name__, url_prefix="/console/petitions/<int:petition_id>/updates")


bp.after_request(private)  # one person's pages: never stored
console_bp.after_request(private)  # one person's pages: never stored


# --- unsubscribe ---------------------------------------------------------------------------------------------

def _signature(token: str) -> Signature:
    try:
        signature_id = read_token("unsubscribe-news", token)
    except TokenInvalid:
        abort(404)
    signature = db.session.get(Signature, signature_id) if isinstance(signature_id, int) else None
    if signature is None:
        abort(404)
    return signature


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> str:
    signature = _signature(token)
    return render_template("updates/unsubscribe.html", signature=signature, petition=signature.petition,
                           form=UnsubscribeForm(), token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str) -> tuple[str, int] | str:
    signature = _signature(token)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if not one_click and not UnsubscribeForm().validate_on_submit():
        return render_template("updates/unsubscribe.html", signature=signature, petition=signature.petition,
                               form=UnsubscribeForm(), token=token, done=False), 400
    services.unsubscribe(signature.id)
    db.session.commit()
    return render_template("updates/unsubscribe.html", signature=signature, petition=signature.petition,
                           form=None, token=token, done=True)


# --- console -------------------------------------------------------------------------------------------------

def _update(petition: Petition, update_id: int) -> Update:
    try:
        found = services.get_update(update_id, actor=acting())
    except services.UpdateNotFound:
        abort(404)
    if found.petition_id != petition.id:
        abort(404)
    return found


def _see(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)


@console_bp.get("/")
@console_required
def index(petition_id: int) -> str:
    petition = petition_or_404(petition_id)
    found = services.updates_of(petition.id, actor=acting())
    form = MilestoneForm(enabled=petition.milestone_emails)
    return render_template("updates/index.html", petition=petition, updates=found, form=form,
                           progress=services.progress([u.id for u in found]), status_label=services.status_label,
                           recipients=services.count_recipients(petition.id))


@console_bp.post("/milestones")
@console_required
def milestones(petition_id: int) -> Response:
    petition = petition_or_404(petition_id)
    form = MilestoneForm()
    if form.validate_on_submit():
        services.set_milestone_emails(petition.id, actor=acting(), enabled=bool(form.enabled.data))
        db.session.commit()
        flash(_("Milestone emails are on.") if form.enabled.data else _("Milestone emails are off."), "success")
    else:
        flash(_("This form has expired. Please try again."), "error")
    return _see("updates_console.index", petition_id=petition.id)


def _texts(form: UpdateForm, prefix: str, locales: list[str]) -> dict[str, str]:
    return {locale: form[f"{prefix}_{locale}"].data or "" for locale in locales}


def _previews(petition: Petition, subject: dict[str, str], body: dict[str, str]) -> list[dict[str, Any]]:
    draft = Update(petition_id=petition.id, kind=UpdateKind.MANUAL,
                   subject={k: " ".join(v.split()) for k, v in subject.items() if v.strip()},
                   body={k: v.strip() for k, v in body.items() if v.strip()})
    previews = []
    for locale in services.update_locales(petition):
        if locale in draft.subject:
            rendered = services.render_email(draft, locale, unsubscribe_url="#unsubscribe")
            previews.append({"locale": locale, "email": rendered})
    return previews


def _editor(petition: Petition, found: Update | None) -> tuple[str, int] | Response:
    locales = services.update_locales(petition)
    form = UpdateForm()
    if request.method == "GET":
        if found is not None:
            form.version.data = str(found.version)
            for locale in SUPPORTED_LOCALES:
                form[f"subject_{locale}"].data = found.subject.get(locale, "")
                form[f"body_{locale}"].data = found.body.get(locale, "")
        return _render_editor(form, petition, found, locales)
    if not form.validate_on_submit():
        return _render_editor(form, petition, found, locales, status=400)
    subject, body = _texts(form, "subject", locales), _texts(form, "body", locales)
    if "preview" in request.form:
        return _render_editor(form, petition, found, locales, previews=_previews(petition, subject, body))
    try:
        if found is None:
            found = services.create_update(petition.id, actor=acting(), subject=subject, body=body)
        else:
            services.edit_update(found.id, actor=acting(), version=int(form.version.data or 0), subject=subject,
                                 body=body)
    except services.Rejected as rejected:
        db.session.rollback()
        for name, message in rejected.errors.items():
            field = form._fields.get(name) or form._fields.get(f"subject_{locales[0]}")
            if field is not None:
                field.errors = [*field.errors, message]
        return _render_editor(form, petition, found, locales, status=400)
    except (services.StaleEdit, services.InvalidTransition) as refused:
        db.session.rollback()
        form.form_errors.append(str(refused))
        return _render_editor(form, petition, found, locales, status=409)
    db.session.commit()
    flash(_("The update was saved as a draft."), "success")
    return _see("updates_console.show", petition_id=petition.id, update_id=found.id)


def _render_editor(form: UpdateForm, petition: Petition, found: Update | None, locales: list[str],
                   previews: list[dict[str, Any]] | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("updates/form.html", form=form, petition=petition, update=found, locales=locales,
                           previews=previews, recipients=services.count_recipients(petition.id)), status


@console_bp.route("/new", methods=["GET", "POST"])
@console_required
def new(petition_id: int) -> tuple[str, int] | Response:
    return _editor(petition_or_404(petition_id), None)


@console_bp.route("/<int:update_id>/edit", methods=["GET", "POST"])
@console_required
def edit(petition_id: int, update_id: int) -> tuple[str, int] | Response:
    petition = petition_or_404(petition_id)
    return _editor(petition, _update(petition, update_id))


def _render_show(petition: Petition, found: Update, reject_form: RejectForm | None = None,
                 status: int = 200) -> tuple[str, int]:
    principal = acting()
    locales = list(SUPPORTED_LOCALES) if found.kind == UpdateKind.MILESTONE else \
        [locale for locale in SUPPORTED_LOCALES if locale in found.subject]
    previews = [{"locale": locale, "email": services.render_email(found, locale, unsubscribe_url="#unsubscribe")}
                for locale in locales]
    wrote = principal.user_id is not None and principal.user_id in (found.author_user_id,
                                                                    found.submitted_by_user_id)
    return render_template("updates/show.html", petition=petition, update=found, previews=previews,
                           progress=services.progress([found.id])[found.id], action=ActionForm(),
                           reject_form=reject_form or RejectForm(), wrote=wrote,
                           status_label=services.status_label), status


@console_bp.get("/<int:update_id>")
@console_required
def show(petition_id: int, update_id: int) -> tuple[str, int]:
    petition = petition_or_404(petition_id)
    return _render_show(petition, _update(petition, update_id))


@console_bp.get("/<int:update_id>/email")
@console_required
def email_html(petition_id: int, update_id: int) -> str:
    """The email's HTML in ``?locale=`` as a page of its own, exactly as it is sent (with a dummy unsubscribe
    link)."""
    petition = petition_or_404(petition_id)
    found = _update(petition, update_id)
    locale = request.args.get("locale", "")
    if locale not in SUPPORTED_LOCALES or (found.kind == UpdateKind.MANUAL and locale not in found.subject):
        abort(404)
    return services.render_email(found, locale, unsubscribe_url="#unsubscribe").html


def _step(petition_id: int, update_id: int, call: Callable[[Update, ActionForm], Any], done: str) -> Response:
    petition = petition_or_404(petition_id)
    found = _update(petition, update_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("This form has expired. Please try again."), "error")
    else:
        try:
            call(found, form)
        except (services.StaleEdit, services.InvalidTransition, services.Rejected) as refused:
            db.session.rollback()
            flash(str(refused), "error")
        else:
            db.session.commit()
            flash(done, "success")
    return _see("updates_console.show", petition_id=petition.id, update_id=update_id)


def _version(form: ActionForm) -> int:
    try:
        return int(form.version.data or 0)
    except ValueError:
        abort(400)


@console_bp.post("/<int:update_id>/submit")
@console_required
def submit(petition_id: int, update_id: int) -> Response:
    return _step(petition_id, update_id,
                 lambda u, f: services.submit_update(u.id, actor=acting(), version=_version(f)),
                 _("The update was submitted: another organiser of the campaign or an admin must approve it."))


@console_bp.post("/<int:update_id>/approve")
@console_required
def approve(petition_id: int, update_id: int) -> Response:
    return _step(petition_id, update_id, lambda u, f: services.approve_update(u.id, actor=acting()),
                 _("The update is approved: it is being sent."))


@console_bp.post("/<int:update_id>/reject")
@console_required
def reject(petition_id: int, update_id: int) -> tuple[str, int] | Response:
    petition = petition_or_404(petition_id)
    found = _update(petition, update_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            services.reject_update(found.id, actor=acting(), reason=form.reason.data or "")
        except services.InvalidTransition as refused:
            db.session.rollback()
            flash(str(refused), "error")
        else:
            db.session.commit()
            flash(_("The update was rejected; its author sees your reason."), "success")
        return _see("updates_console.show", petition_id=petition.id, update_id=found.id)
    return _render_show(petition, found, reject_form=form, status=400)
