"""Petition pages: create and edit (with a preview that saves nothing), the moderation buttons, the history,
and launching country petitions from a campaign petition."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from babel.languages import get_official_languages
from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from advocacy.accounts.sessions import acting, console_required
from advocacy.console.forms import (
    ActionForm,
    LaunchForm,
    PetitionForm,
    RejectForm,
    add_error,
    apply_errors,
    closing_datetime,
    closing_day,
    fill_texts,
    format_country_goals,
    parse_country_goals,
    texts,
)
from advocacy.console.views import bp, campaign_or_404, emails, petition_or_404, see_other
from advocacy.extensions import db
from advocacy.i18n import SUPPORTED_LOCALES, collation_key, country_name, current_locale, localized
from advocacy.petitions import services
from advocacy.petitions.models import Campaign, Petition, PetitionStatus, Target
from advocacy.petitions.parliaments import all_parliaments

EDITABLE = (PetitionStatus.DRAFT, PetitionStatus.REJECTED)


def form_locales(campaign: Campaign, petition: Petition | None = None) -> list[str]:
    """The languages to write in: the campaign's (those the site speaks), any the petition already has, and
    for a country petition its country's official languages (CLDR) that the site speaks: a petition to the
    Bundestag is written in German too."""
    wanted = set(campaign.languages or []) | set(petition.title if petition else [])
    if petition is not None and petition.country:
        wanted |= set(get_official_languages(petition.country, de_facto=True))
    locales = [locale for locale in SUPPORTED_LOCALES if locale in wanted]
    return locales or list(SUPPORTED_LOCALES)


def _target_choices(form: PetitionForm) -> list[Target]:
    found = list(db.session.scalars(select(Target).order_by(Target.country.is_(None), Target.country, Target.id)))
    form.targets.choices = [(target.id, target.display_name()) for target in found]
    return found


def _render_markdown(text: str) -> Markup:
    from advocacy.petitions.markdown import render

    return render(text)


def _previews(form: PetitionForm, locales: Sequence[str]) -> list[dict[str, Any]]:
    """What the public page would show in each language, rendered by the public page's own renderer."""
    previews = []
    for locale in locales:
        title = (form[f"title_{locale}"].data or "").strip()
        summary = (form[f"summary_{locale}"].data or "").strip()
        body = (form[f"body_{locale}"].data or "").strip()
        if title or summary or body:
            previews.append({"locale": locale, "title": title, "summary": summary, "body": _render_markdown(body)})
    return previews


def _changes(form: PetitionForm, locales: Sequence[str], fields: set[str] | None = None) -> dict[str, Any]:
    """The form's values as the petition services take them; ``fields`` limits them to what may change."""
    values: dict[str, Any] = {
        "title": texts(form, "title", locales), "summary": texts(form, "summary", locales),
        "body": texts(form, "body", locales), "target_ids": list(form.targets.data or []),
        "closes_at": closing_datetime(form.closes_on.data), "goal": int(form.goal.data or 0),
        "country_goals": parse_country_goals(form.country_goals.data),
        "postcode_required": bool(form.postcode_required.data), "retention_days": int(form.retention_days.data or 0),
    }
    if fields is not None:
        values = {key: value for key, value in values.items() if key in fields}
    return values


def _editable_fields(petition: Petition) -> set[str] | None:
    """None: everything; otherwise what the services still let change in this status."""
    if petition.status in EDITABLE:
        return None
    if petition.status == PetitionStatus.CLOSED:
        return {"goal", "country_goals"}
    return {"closes_at", "goal", "country_goals"}


def _render_form(form: PetitionForm, campaign: Campaign, petition: Petition | None, locales: Sequence[str],
                 previews: list[dict[str, Any]] | None = None, status: int = 200) -> tuple[str, int]:
    fields = _editable_fields(petition) if petition is not None else None
    return render_template("console/petitions/form.html", form=form, campaign=campaign, petition=petition,
                           locales=locales, previews=previews, editable=fields,
                           status_label=services.status_label), status


@bp.route("/campaigns/<int:campaign_id>/petitions/new", methods=["GET", "POST"])
@console_required
def new_petition(campaign_id: int) -> tuple[str, int] | WerkzeugResponse:
    campaign = campaign_or_404(campaign_id)
    locales = form_locales(campaign)
    form = PetitionForm()
    _target_choices(form)
    if not form.validate_on_submit():
        return _render_form(form, campaign, None, locales, status=400 if request.method == "POST" else 200)
    if "preview" in request.form:
        return _render_form(form, campaign, None, locales, previews=_previews(form, locales))
    try:
        petition = services.create_petition((form.slug.data or "").strip(), actor=acting(), campaign_id=campaign.id,
                                            **_changes(form, locales))
    except services.Rejected as rejected:
        db.session.rollback()
        apply_errors(form, rejected.errors, locales, aliases={"target_ids": "targets", "closes_at": "closes_on"})
        return _render_form(form, campaign, None, locales, status=400)
    db.session.commit()
    flash(_("The petition was saved as a draft."), "success")
    return see_other("console.petition", petition_id=petition.id)


@bp.route("/petitions/<int:petition_id>/edit", methods=["GET", "POST"])
@console_required
def edit_petition(petition_id: int) -> tuple[str, int] | WerkzeugResponse:
    petition = petition_or_404(petition_id)
    campaign = petition.campaign
    locales = form_locales(campaign, petition)
    form = PetitionForm()
    _target_choices(form)
    if request.method == "GET":
        _fill(form, petition)
        return _render_form(form, campaign, petition, locales)
    if not form.validate_on_submit():
        return _render_form(form, campaign, petition, locales, status=400)
    if "preview" in request.form:
        return _render_form(form, campaign, petition, locales, previews=_previews(form, locales))
    try:
        services.update_petition(petition.id, actor=acting(), version=int(form.version.data or 0),
                                 **_changes(form, locales, _editable_fields(petition)))
    except services.Rejected as rejected:
        db.session.rollback()
        apply_errors(form, rejected.errors, locales, aliases={"target_ids": "targets", "closes_at": "closes_on"})
    except services.StaleEdit as stale:
        db.session.rollback()
        form.form_errors.append(_("Someone else changed this petition while you were editing it. What you typed "
                                  "is kept below: check the petition’s current text in another tab, then save "
                                  "again to replace it with yours."))
        form.version.data = str(stale.current_version)
    except services.InvalidTransition as refused:
        db.session.rollback()
        form.form_errors.append(str(refused))
    else:
        db.session.commit()
        flash(_("The petition was saved."), "success")
        return see_other("console.petition", petition_id=petition.id)
    petition = petition_or_404(petition_id)
    return _render_form(form, petition.campaign, petition, locales, status=409 if form.form_errors else 400)


def _fill(form: PetitionForm, petition: Petition) -> None:
    form.version.data = str(petition.version)
    form.slug.data = petition.slug
    fill_texts(form, "title", petition.title)
    fill_texts(form, "summary", petition.summary)
    fill_texts(form, "body", petition.body)
    form.targets.data = [target.id for target in petition.targets]
    form.closes_on.data = closing_day(petition.closes_at)
    form.goal.data = petition.goal
    form.country_goals.data = format_country_goals(petition.country_goals)
    form.postcode_required.data = petition.postcode_required
    form.retention_days.data = petition.retention_days


# --- the petition's page and its lifecycle -----------------------------------------------------------------

def _render_petition(petition: Petition, reject_form: RejectForm | None = None, status: int = 200) -> tuple[str, int]:
    principal = acting()
    submitted_by = services.submitter(petition.id)
    history = services.transitions(petition.id)
    actors = emails({step.actor_user_id for step in history})
    children = list(db.session.scalars(select(Petition).where(Petition.parent_id == petition.id)
                                       .order_by(Petition.country, Petition.id)))
    parent = db.session.get(Petition, petition.parent_id) if petition.parent_id else None
    is_submitter = submitted_by is not None and submitted_by == principal.user_id
    body = {locale: _render_markdown(text) for locale, text in petition.body.items()}
    return render_template(
        "console/petitions/show.html", petition=petition, campaign=petition.campaign, history=history,
        actors=actors, children=children, parent=parent, is_submitter=is_submitter, action=ActionForm(),
        reject_form=reject_form or RejectForm(), status_label=services.status_label, body=body,
        public_url=url_for("petitions.show", slug=petition.slug) if petition.status in (
            PetitionStatus.OPEN, PetitionStatus.CLOSED) else None,
    ), status


@bp.get("/petitions/<int:petition_id>")
@console_required
def petition(petition_id: int) -> tuple[str, int]:
    return _render_petition(petition_or_404(petition_id))


def _step(petition_id: int, call: Callable[[Petition, ActionForm], Any], done: str) -> WerkzeugResponse:
    """One lifecycle button: call the service, commit, say what happened; a refusal is shown as a message."""
    found = petition_or_404(petition_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("This form has expired. Please try again."), "error")
        return see_other("console.petition", petition_id=found.id)
    try:
        call(found, form)
    except services.StaleEdit:
        db.session.rollback()
        flash(_("Someone else changed this petition in the meantime: check it and try again."), "error")
    except (services.InvalidTransition, services.NotPublishable, services.Rejected) as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(done, "success")
    return see_other("console.petition", petition_id=petition_id)


def _version(form: ActionForm) -> int:
    try:
        return int(form.version.data or 0)
    except ValueError:
        abort(400)


@bp.post("/petitions/<int:petition_id>/submit")
@console_required
def submit_petition(petition_id: int) -> WerkzeugResponse:
    return _step(petition_id, lambda p, f: services.submit_petition(p.id, actor=acting(), version=_version(f)),
                 _("The petition was submitted: another organiser of the campaign or an admin must approve it."))


@bp.post("/petitions/<int:petition_id>/approve")
@console_required
def approve_petition(petition_id: int) -> WerkzeugResponse:
    return _step(petition_id, lambda p, f: services.approve_petition(p.id, actor=acting()),
                 _("The petition is open for signing."))


@bp.post("/petitions/<int:petition_id>/reject")
@console_required
def reject_petition(petition_id: int) -> tuple[str, int] | WerkzeugResponse:
    found = petition_or_404(petition_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            services.reject_petition(found.id, actor=acting(), reason=form.reason.data or "")
        except services.Rejected as rejected:
            db.session.rollback()
            apply_errors(form, rejected.errors)
        except services.InvalidTransition as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return see_other("console.petition", petition_id=found.id)
        else:
            db.session.commit()
            flash(_("The petition was rejected; its author sees your reason."), "success")
            return see_other("console.petition", petition_id=found.id)
    return _render_petition(petition_or_404(petition_id), reject_form=form, status=400)


@bp.post("/petitions/<int:petition_id>/return-to-draft")
@console_required
def return_to_draft(petition_id: int) -> WerkzeugResponse:
    return _step(petition_id, lambda p, f: services.return_to_draft(p.id, actor=acting()),
                 _("The petition is a draft again."))


@bp.post("/petitions/<int:petition_id>/close")
@console_required
def close_petition(petition_id: int) -> WerkzeugResponse:
    return _step(petition_id, lambda p, f: services.close_petition(p.id, actor=acting()),
                 _("The petition is closed: it keeps its signatures and takes no more."))


# --- country launch ----------------------------------------------------------------------------------------

def _launch_choices(locale: str) -> list[dict[str, Any]]:
    """One entry per country to choose: the reference parliaments, by country name in the reader's language."""
    entries = [{"code": p.country, "country": country_name(p.country, locale),
                "parliament": localized(p.name, locale)} for p in all_parliaments()]
    return sorted(entries, key=lambda entry: collation_key(entry["country"], locale))


@bp.route("/petitions/<int:petition_id>/launch", methods=["GET", "POST"])
@console_required
def launch(petition_id: int) -> tuple[str, int] | WerkzeugResponse:
    parent = petition_or_404(petition_id)
    if parent.parent_id is not None:
        abort(404)  # country petitions are launched from a campaign petition only
    locale = current_locale()
    choices = _launch_choices(locale)
    form = LaunchForm()
    form.countries.choices = [(entry["code"], entry["country"]) for entry in choices]
    if form.validate_on_submit():
        try:
            created = services.launch_country_petitions(parent.id, actor=acting(),
                                                        countries=list(form.countries.data or []))
        except services.Rejected as rejected:
            db.session.rollback()
            for code, message in rejected.errors.items():
                add_error(form, "countries", message if code in ("countries", "petition") else f"{code}: {message}")
        else:
            db.session.commit()
            flash(_("%(num)s country petitions were created as drafts.", num=len(created)), "success")
            return see_other("console.launch", petition_id=parent.id,
                             created=",".join(str(petition.id) for petition in created))
    parent = petition_or_404(petition_id)
    children = list(db.session.scalars(select(Petition).where(Petition.parent_id == parent.id)
                                       .order_by(Petition.country, Petition.id)))
    created_ids = {int(part) for part in request.args.get("created", "").split(",") if part.isdigit()}
    launched = {child.country: child for child in children}
    return render_template(
        "console/petitions/launch.html", form=form, petition=parent, campaign=parent.campaign, choices=choices,
        launched=launched, created=[child for child in children if child.id in created_ids],
        chosen=set(form.countries.data or []), status_label=services.status_label,
    ), 400 if request.method == "POST" else 200
