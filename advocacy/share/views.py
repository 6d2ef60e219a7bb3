"""Public, cookieless answers for sharing: the share picture, the embeddable counter and badge, the feeds, and
the campaign news pages the feeds link to.

None of them depends on who asks, so they may be cached by anyone. The picture, counter, badge and feeds never
set a cookie, not even the language one a ``?lang=`` link otherwise leaves (they are fetched by other sites,
crawlers and feed readers, which are not choosing a language for their next pages).
"""

from __future__ import annotations

import hashlib
from email.utils import format_datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import format_decimal, format_percent, ngettext
from flask_babel import gettext as _

from advocacy import cross_origin_resource, frameable, urls
from advocacy.cache import TTLCache
from advocacy.i18n import current_locale
from advocacy.petitions.services import site_name
from advocacy.share import image, services

bp = Blueprint("share", __name__)

# the picture is redrawn at most this often for the same petition, language and count (and shared that long)
IMAGE_SECONDS = 300
# counters, badges and feeds: as long as pages are shared, but at least a little (they are fetched a lot)
MIN_PUBLIC_SECONDS = 30
SVG = "image/svg+xml; charset=utf-8"


class CookielessResponse(Response):
    """A response that never carries a cookie, whoever tries to set one (the session, the language choice)."""

    def set_cookie(self, *args: Any, **kwargs: Any) -> None:
        return None

    def delete_cookie(self, *args: Any, **kwargs: Any) -> None:
        return None


def _public_seconds() -> int:
    return max(int(current_app.config["PAGE_CACHE_SECONDS"]), MIN_PUBLIC_SECONDS)


def _public(body: bytes | str, mimetype: str, seconds: int) -> CookielessResponse:
    """A cacheable answer for everyone, with an ETag (a repeated request with it gets 304)."""
    response = CookielessResponse(body, mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    return response.make_conditional(request)  # type: ignore[return-value]


def _counter(slug: str) -> services.Counter:
    try:
        return services.counter(slug, current_locale())
    except services.NotFound:
        abort(404)


def signatures_text(total: int) -> str:
    return ngettext("%(count)s signature", "%(count)s signatures", total, count=format_decimal(total))


_images: TTLCache[bytes] = TTLCache(maxsize=256)


@bp.get("/p/<slug>/share.png", endpoint="image")
@cross_origin_resource
def image_png(slug: str) -> Response:
    counter = _counter(slug)
    locale = current_locale()
    png = _images.get_or_make(
        (counter.petition_id, locale, counter.total), IMAGE_SECONDS,
        lambda: image.share_png(counter.title, signatures_text(counter.total), site_name(locale), counter.fraction))
    return _public(png, "image/png", IMAGE_SECONDS)


@bp.get("/p/<slug>/embed")
@frameable
def embed(slug: str) -> Response:
    counter = _counter(slug)
    percent = format_percent(counter.fraction) if counter.fraction is not None else None
    page = render_template("share/embed.html", counter=counter, count_text=signatures_text(counter.total),
                           percent=percent, locale=current_locale())
    return _public(page, "text/html", _public_seconds())


@bp.get("/p/<slug>/badge.svg")
@cross_origin_resource
def badge(slug: str) -> Response:
    counter = _counter(slug)
    label = _("signatures")
    value = format_decimal(counter.total)
    size = 11
    left = round(image.text_width(label, size)) + 12
    right = round(image.text_width(value, size, bold=True)) + 12
    svg = render_template("share/badge.svg", label=label, value=value, left=left, right=right,
                          title=f"{counter.title}: {signatures_text(counter.total)}", locale=current_locale())
    response = _public(svg, "image/svg+xml", _public_seconds())
    response.headers["Content-Type"] = SVG
    return response


# --- feeds -------------------------------------------------------------------------------------------------

ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"


def _feed(feed: services.Feed, kind: str) -> Response:
    template, mimetype = ("share/feed.atom.xml", ATOM) if kind == "atom" else ("share/feed.rss.xml", RSS)
    page = render_template(template, feed=feed, rfc822=format_datetime)
    response = _public(page, mimetype.split(";")[0], _public_seconds())
    response.headers["Content-Type"] = mimetype
    return response


@bp.get("/feeds/petitions.atom", defaults={"kind": "atom"}, endpoint="petitions_feed")
@bp.get("/feeds/petitions.rss", defaults={"kind": "rss"}, endpoint="petitions_rss")
def petitions_feed(kind: str) -> Response:
    locale = current_locale()
    endpoint = "share.petitions_feed" if kind == "atom" else "share.petitions_rss"
    return _feed(services.new_petitions_feed(locale, urls.external_url(endpoint, lang=locale)), kind)


@bp.get("/c/<campaign_slug>/news.atom", defaults={"kind": "atom"}, endpoint="news_feed")
@bp.get("/c/<campaign_slug>/news.rss", defaults={"kind": "rss"}, endpoint="news_rss")
def news_feed(campaign_slug: str, kind: str) -> Response:
    locale = current_locale()
    endpoint = "share.news_feed" if kind == "atom" else "share.news_rss"
    try:
        feed = services.campaign_news_feed(
            campaign_slug, locale, urls.external_url(endpoint, campaign_slug=campaign_slug, lang=locale))
    except services.NotFound:
        abort(404)
    return _feed(feed, kind)


@bp.get("/c/<campaign_slug>/news")
def news(campaign_slug: str) -> str:
    try:
        campaign, items = services.campaign_news(campaign_slug, current_locale())
    except services.NotFound:
        abort(404)
    return render_template("share/news.html", campaign=campaign, items=items)


@bp.get("/c/<campaign_slug>/news/<int:update_id>")
def news_item(campaign_slug: str, update_id: int) -> str:
    try:
        campaign, item = services.news_item(campaign_slug, update_id, current_locale())
    except services.NotFound:
        abort(404)
    return render_template("share/news_item.html", campaign=campaign, item=item)
