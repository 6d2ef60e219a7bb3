"""The console's events pages: list, create, edit, publish, cancel and import events.

Thin views: parse the form, call the events service with the principal acting, commit once, flash and
redirect. The service checks the roles; :func:`console_required` turns its refusal into a 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue as ResponseValue
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from advocacy.accounts.roles import Principal
from advocacy.accounts.sessions import acting, console_required
from advocacy.cache import private
from advocacy.events import services
from advocacy.events.forms import ConfirmForm, EventForm, ImportForm, event_form, form_locales
from advocacy.events.models import Event
from advocacy.events.services import EventNotFound, EventRejected, StaleEdit
from advocacy.extensions import csrf, db

bp = Blueprint("events_console", __name__, url_prefix="/console/events")

# an upload carries the file and a few fields; the file alone is limited by the service, as on the command line
UPLOAD_OVERHEAD = 64 * 1024


bp.after_request(private)  # one person's pages: never stored


def _event(event_id: int, principal: Principal) -> Event:
    try:
        return services.get_managed_event(event_id, actor=principal)
    except EventNotFound:
        abort(404)


def _form(principal: Principal, event: Event | None = None, **kwargs: Any) -> EventForm:
    campaigns = services.organised_campaigns(principal)
    return event_form(
        locales=form_locales(campaigns, event), campaigns=campaigns, petitions=services.petitions_of(campaigns),
        allow_no_campaign=principal.is_admin, **kwargs,
    )


@bp.get("/")
@console_required
def index() -> str:
    principal = acting()
    coming, past = services.manageable_events(principal)
    return render_template("events/console/index.html", coming=coming, past=past)


@bp.route("/new", methods=["GET", "POST"])
@console_required
def new() -> ResponseValue:
    principal = acting()
    form = _form(principal)
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            event = services.create_event(form.details(), actor=principal)
            db.session.commit()
        except EventRejected as rejected:
            db.session.rollback()
            problems = rejected.errors
        else:
            flash(_("The event was saved as a draft. Publish it when it is ready."), "success")
            return redirect(url_for(".edit", event_id=event.id))
    return render_template("events/console/form.html", form=form, event=None, problems=problems)


@bp.route("/<int:event_id>", methods=["GET", "POST"])
@console_required
def edit(event_id: int) -> ResponseValue:
    principal = acting()
    event = _event(event_id, principal)
    form = _form(principal, event)
    if request.method == "GET":
        form.fill(event)
    problems: list[str] = []
    stale: Event | None = None
    if form.validate_on_submit():
        uid = event.uid
        try:
            services.update_event(uid, form.details(), actor=principal, version=int(form.version.data or 0))
            db.session.commit()
        except EventRejected as rejected:
            db.session.rollback()
            problems = rejected.errors
        except StaleEdit:
            db.session.rollback()
            # what is saved now is shown beside what was typed; saving again is a deliberate choice
            stale = event = _event(event_id, principal)
            form.version.data = str(event.version)
            problems = [_("Someone else changed this event since you opened it, so your changes were not "
                          "saved. What is saved now is shown below; your changes are still in the form. "
                          "Saving again replaces the other changes with yours.")]
        else:
            flash(_("The event was saved."), "success")
            return redirect(url_for(".edit", event_id=event_id))
    return render_template("events/console/form.html", form=form, event=event, problems=problems, stale=stale,
                           confirm=ConfirmForm())


@bp.post("/<int:event_id>/publish")
@console_required
def publish(event_id: int) -> Response:
    principal = acting()
    event = _event(event_id, principal)
    if ConfirmForm().validate_on_submit():
        services.publish_event(event.uid, actor=principal)
        db.session.commit()
        flash(_("The event is published."), "success")
    else:
        flash(_("This form had expired. Please try again."), "error")
    return redirect(url_for(".edit", event_id=event_id))


@bp.route("/<int:event_id>/cancel", methods=["GET", "POST"])
@console_required
def cancel(event_id: int) -> ResponseValue:
    principal = acting()
    event = _event(event_id, principal)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.cancel_event(event.uid, actor=principal)
        db.session.commit()
        flash(_("The event is cancelled. It stays listed as cancelled, and subscribed calendars are told."),
              "success")
        return redirect(url_for(".index"))
    return render_template("events/console/cancel.html", event=event, form=form)


def _import_form(principal: Principal, **kwargs: Any) -> ImportForm:
    campaigns = services.organised_campaigns(principal)
    return ImportForm(campaigns=campaigns, allow_no_campaign=principal.is_admin, locales=form_locales(campaigns),
                      **kwargs)


# The upload is larger than the app's body limit, so that limit is raised for this view alone before the body
# is read; the app-wide CSRF check would read it first, so it is exempted here and the form checks its own
# token in validate_on_submit (FlaskForm's CSRF), before anything is done.
@csrf.exempt
@bp.route("/import", methods=["GET", "POST"])
@console_required
def import_file() -> ResponseValue:
    principal = acting()
    request.max_content_length = services.MAX_ICS_BYTES + UPLOAD_OVERHEAD
    try:
        form = _import_form(principal)
    except RequestEntityTooLarge:
        return _import_page(_import_form(principal, formdata=None), [_too_large()]), 400
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            outcome = services.import_ics(
                form.file.data.stream, actor=principal, campaign_slug=form.campaign.data or None,
                default_locale=form.locale.data, default_timezone=form.timezone.data,
            )
            db.session.commit()
        except EventRejected as rejected:
            db.session.rollback()
            problems = rejected.errors
        except StaleEdit:
            db.session.rollback()
            problems = [_("An event of the file was changed by someone else meanwhile; nothing was imported. "
                          "Try again.")]
        else:
            return render_template("events/console/imported.html", outcome=outcome)
    status = 400 if problems else 200
    return _import_page(form, problems), status


def _import_page(form: ImportForm, problems: list[str]) -> str:
    return render_template("events/console/import.html", form=form, problems=problems,
                           max_mb=services.MAX_ICS_BYTES // (1024 * 1024))


def _too_large() -> str:
    return _("The file is larger than %(size)s MB. Nothing was imported.",
             size=services.MAX_ICS_BYTES // (1024 * 1024))

