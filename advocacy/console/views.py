from __future__ import annotations

from flask import Blueprint, Response, render_template
from sqlalchemy import select

from advocacy.accounts.sessions import acting, console_required
from advocacy.extensions import db
from advocacy.petitions.models import Campaign, Target

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.after_request
def _private(response: Response) -> Response:
    # console pages are for one person: never stored by a browser or a proxy
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@console_required
def home() -> str:
    principal = acting()
    campaigns = [campaign for campaign in db.session.scalars(select(Campaign).order_by(Campaign.id))
                 if principal.can_organise(campaign.id)]
    targets = [target for target in db.session.scalars(select(Target).order_by(Target.id))
               if target.id in principal.target_ids]
    return render_template("console/home.html", campaigns=campaigns, targets=targets)
