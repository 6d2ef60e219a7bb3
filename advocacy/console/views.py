"""The console blueprint, its home page and what its pages share.

Pages for campaigns, targets and petitions live in campaigns.py, targets.py and petitions.py on this same
blueprint. Every view is thin: parse the form, call one service with ``actor=acting()``, commit once, flash,
and answer a POST with 303. A campaign or petition that does not exist is 404; one the principal may not
organise is 403, like every refusal of a service.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from advocacy.accounts.models import User
from advocacy.accounts.roles import Forbidden, require_any_organiser
from advocacy.accounts.sessions import acting, console_required
from advocacy.cache import private
from advocacy.extensions import db
from advocacy.petitions import services
from advocacy.petitions.models import Campaign, Petition, PetitionStatus, Target

bp = Blueprint("console", __name__, url_prefix="/console")


bp.after_request(private)  # one person's pages: never stored


def see_other(endpoint: str, **values: Any) -> WerkzeugResponse:
    """The answer to a POST that worked: the browser fetches the next page with GET."""
    return redirect(url_for(endpoint, **values), code=303)


def campaign_or_404(campaign_id: int) -> Campaign:
    """A campaign the acting principal organises: 404 if there is none, 403 if it is somebody else's."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    if not acting().can_organise(campaign.id):
        raise Forbidden()
    return campaign


def petition_or_404(petition_id: int) -> Petition:
    petition = db.session.get(Petition, petition_id)
    if petition is None:
        abort(404)
    if not acting().can_organise(petition.campaign_id):
        raise Forbidden()
    return petition


def target_or_404(target_id: int) -> Target:
    require_any_organiser(acting())
    target = db.session.get(Target, target_id)
    if target is None:
        abort(404)
    return target


def emails(user_ids: set[int | None]) -> dict[int, str]:
    """Staff accounts' addresses (staff, not signers: organisers of the campaign may see who acted)."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    return {user.id: str(user.email or "") for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


@bp.get("/")
@console_required
def home() -> str:
    principal = acting()
    campaigns = services.organised_campaigns(principal)
    campaign_ids = [campaign.id for campaign in campaigns]
    petitions = list(db.session.scalars(
        select(Petition).where(Petition.campaign_id.in_(campaign_ids),
                               Petition.status.in_([PetitionStatus.SUBMITTED, PetitionStatus.DRAFT,
                                                    PetitionStatus.REJECTED]))
        .order_by(Petition.campaign_id, Petition.id))) if campaign_ids else []
    submitted_by = services.submitters(petition.id for petition in petitions)
    awaiting = [p for p in petitions
                if p.status == PetitionStatus.SUBMITTED and submitted_by.get(p.id) != principal.user_id]
    mine = [p for p in petitions
            if p.status == PetitionStatus.SUBMITTED and submitted_by.get(p.id) == principal.user_id]
    drafts = [p for p in petitions if p.status == PetitionStatus.DRAFT]
    rejected = [p for p in petitions
                if p.status == PetitionStatus.REJECTED and submitted_by.get(p.id) == principal.user_id]
    targets = [target for target in db.session.scalars(select(Target).order_by(Target.id))
               if target.id in principal.target_ids]
    return render_template("console/home.html", campaigns=campaigns, targets=targets, awaiting=awaiting,
                           mine=mine, drafts=drafts, rejected=rejected)
