"""Open data: petitions and their tallies as JSON, with no personal data."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app
from flask.wrappers import Response

from advocacy.cache import TTLCache, anonymous_reader, share_response, shared_seconds
from advocacy.fraud import services as fraud
from advocacy.i18n import country_name, current_locale
from advocacy.packets import services as packets
from advocacy.packets.models import TargetResponse
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


# Answers are the same for everybody in a language: each is built once every few seconds.
_answers: TTLCache[bytes] = TTLCache(maxsize=512)


def _shared(key: tuple[str, ...], build: Callable[[], dict[str, Any]]) -> Response:
    seconds = shared_seconds(float(current_app.config["PAGE_CACHE_SECONDS"]))
    body = _answers.get_or_make(key, seconds,
                                lambda: json.dumps(build(), ensure_ascii=False).encode())
    if seconds > 0:
        share_response(current_locale())  # the next anonymous readers may get it from in front of Flask
    return Response(body, mimetype="application/json",
                    headers=_PUBLIC_HEADERS if seconds > 0 or anonymous_reader() else _PRIVATE_HEADERS)


# written out once rather than through response.cache_control, which parses and rebuilds the header
_PUBLIC_HEADERS = (("Cache-Control", "public, max-age=5"), ("Access-Control-Allow-Origin", "*"))
_PRIVATE_HEADERS = (("Cache-Control", "private, no-store"), ("Access-Control-Allow-Origin", "*"))


def _response(answer: TargetResponse, locale: str) -> dict[str, Any]:
    """An institution's published answer, in the reader's language if it was written in it."""
    lang = locale if answer.text.get(locale) else ("en" if answer.text.get("en") else next(iter(answer.text)))
    return {"target": answer.target.slug, "text": answer.text[lang], "lang": lang,
            "published_at": answer.published_at.isoformat(), "updated_at": answer.updated_at.isoformat()}


def _country(row: tallies.PublicRow, locale: str) -> dict[str, Any]:
    """A country below the public threshold has ``count: null`` and ``count_below: N`` instead of its count."""
    item: dict[str, Any] = {"code": row.country, "name": country_name(row.country, locale), "count": row.count}
    if row.suppressed:
        item["count_below"] = row.below
    return item


@bp.get("/petitions")
def petitions() -> Response:
    locale = current_locale()

    def build() -> dict[str, Any]:
        items = []
        for petition in services.public_petitions(only_open=True):
            item = _summary(petition, locale)
            item["signature_count"] = tallies.tally(petition.id).total
            items.append(item)
        return {"petitions": items, "lang": locale}

    return _shared(("list", locale), build)


@bp.get("/petitions/<slug>")
def petition(slug: str) -> Response:
    locale = current_locale()

    def build() -> dict[str, Any]:
        try:
            found = services.get_petition(slug)
        except PetitionNotFound:
            abort(404)
        tally = tallies.public_tally(found.id, locale)
        item = _summary(found, locale)
        item["signature_count"] = tally.total
        item["held_back"] = fraud.held_back(found.id)  # suspect signatures not counted until cleared
        item["signatures_by_country"] = [_country(row, locale) for row in tally.rows]
        item["responses"] = [_response(answer, locale) for answer in packets.responses(found.id)]
        item["lang"] = locale
        return item

    return _shared(("petition", slug, locale), build)
