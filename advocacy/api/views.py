"""Open data: petitions and their tallies as JSON, with no personal data."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify
from flask.wrappers import Response

from advocacy.i18n import country_name, current_locale
from advocacy.petitions import services
from advocacy.petitions.models import Petition
from advocacy.petitions.services import PetitionNotFound
from advocacy.tallies import services as tallies

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _summary(petition: Petition, locale: str) -> dict[str, Any]:
    return {
        "slug": petition.slug,
        "title": petition.display_title(locale),
        "status": "open" if petition.is_open() else "closed",
        "targets": [
            {"slug": t.slug, "name": t.display_name(locale), "country": t.country} for t in petition.targets
        ],
        "goal": petition.goal,
        "closes_at": petition.closes_at.isoformat() if petition.closes_at else None,
    }


def _cached(response: Response) -> Response:
    response.cache_control.public = True
    response.cache_control.max_age = 5
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/petitions")
def petitions() -> Response:
    locale = current_locale()
    items = []
    for petition in services.public_petitions(only_open=True):
        item = _summary(petition, locale)
        item["signature_count"] = tallies.tally(petition.id).total
        items.append(item)
    return _cached(jsonify({"petitions": items, "lang": locale}))


@bp.get("/petitions/<slug>")
def petition(slug: str) -> Response:
    try:
        found = services.get_petition(slug)
    except PetitionNotFound:
        abort(404)
    locale = current_locale()
    tally = tallies.tally(found.id)
    item = _summary(found, locale)
    item["signature_count"] = tally.total
    item["signatures_by_country"] = [
        {"code": code, "name": country_name(code, locale), "count": count} for code, count in tally.ranked()
    ]
    item["lang"] = locale
    return _cached(jsonify(item))
