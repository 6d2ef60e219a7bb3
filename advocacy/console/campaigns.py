"""Campaign pages: the list, creating one (admins), editing and publishing it, and its petitions."""

from __future__ import annotations

from flask import flash, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from advocacy.accounts.roles import Forbidden, require_any_organiser
from advocacy.accounts.sessions import acting, console_required
from advocacy.console.forms import ActionForm, CampaignForm, apply_errors, fill_texts, texts
from advocacy.console.views import (
    bp,
    campaign_or_404,
    see_other,
)
from advocacy.extensions import db
from advocacy.petitions import services
from advocacy.petitions.models import Campaign, Petition

ALIASES = {"email_footer": "footer"}


@bp.get("/campaigns")
@console_required
def campaigns() -> str:
    principal = acting()
    require_any_organiser(principal)
    return render_template("console/campaigns/list.html", campaigns=services.organised_campaigns(principal),
                           can_create=principal.is_admin)


def _fields(form: CampaignForm) -> dict[str, object]:
    return {
        "name": texts(form, "name"), "description": texts(form, "description"),
        "languages": list(form.languages.data or []), "website": (form.website.data or "").strip(),
        "sender_name": (form.sender_name.data or "").strip(), "email_footer": texts(form, "footer"),
    }


@bp.route("/campaigns/new", methods=["GET", "POST"])
@console_required
def new_campaign() -> str | tuple[str, int] | WerkzeugResponse:
    if not acting().is_admin:
        raise Forbidden()
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            campaign = services.create_campaign((form.slug.data or "").strip(), actor=acting(),
                                                **_fields(form))  # type: ignore[arg-type]
        except services.Rejected as rejected:
            db.session.rollback()
            apply_errors(form, rejected.errors, aliases=ALIASES)
        else:
            db.session.commit()
            flash(_("The campaign was created as a draft."), "success")
            return see_other("console.campaign", campaign_id=campaign.id)
    status = 400 if request.method == "POST" else 200
    return render_template("console/campaigns/form.html", form=form, campaign=None), status


@bp.get("/campaigns/<int:campaign_id>")
@console_required
def campaign(campaign_id: int) -> str:
    found = campaign_or_404(campaign_id)
    petitions = list(db.session.scalars(select(Petition).where(Petition.campaign_id == found.id)
                                        .order_by(Petition.parent_id.is_not(None), Petition.position, Petition.id)))
    return render_template("console/campaigns/show.html", campaign=found, petitions=petitions,
                           action=ActionForm(), status_label=services.status_label)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@console_required
def edit_campaign(campaign_id: int) -> str | tuple[str, int] | WerkzeugResponse:
    found = campaign_or_404(campaign_id)
    form = CampaignForm()
    if request.method == "GET":
        _fill(form, found)
    elif form.validate_on_submit():
        try:
            services.update_campaign(found.id, actor=acting(), version=int(form.version.data or 0),
                                     **_fields(form))  # type: ignore[arg-type]
        except services.Rejected as rejected:
            db.session.rollback()
            apply_errors(form, rejected.errors, aliases=ALIASES)
        except services.StaleEdit as stale:
            db.session.rollback()
            form.form_errors.append(_("Someone else changed this campaign while you were editing it. What you "
                                      "typed is kept below: check the campaign’s current details in another tab, "
                                      "then save again to replace them with yours."))
            form.version.data = str(stale.current_version)
        else:
            db.session.commit()
            flash(_("The campaign was saved."), "success")
            return see_other("console.campaign", campaign_id=found.id)
    status = 400 if request.method == "POST" else 200
    return render_template("console/campaigns/form.html", form=form, campaign=found), status


def _fill(form: CampaignForm, campaign: Campaign) -> None:
    form.version.data = str(campaign.version)
    form.slug.data = campaign.slug
    fill_texts(form, "name", campaign.name)
    fill_texts(form, "description", campaign.description)
    fill_texts(form, "footer", campaign.email_footer)
    form.languages.data = list(campaign.languages or [])
    form.website.data = campaign.website or ""
    form.sender_name.data = campaign.sender_name or ""


@bp.post("/campaigns/<int:campaign_id>/publish")
@console_required
def publish_campaign(campaign_id: int) -> WerkzeugResponse:
    found = campaign_or_404(campaign_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("This form has expired. Please try again."), "error")
        return see_other("console.campaign", campaign_id=found.id)
    try:
        services.publish_campaign(found.id, actor=acting())
    except (services.NotPublishable, services.StaleEdit) as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(_("The campaign is public."), "success")
    return see_other("console.campaign", campaign_id=found.id)
