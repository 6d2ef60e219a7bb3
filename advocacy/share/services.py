"""What sharing shows: links to the networks, a page's metadata, the counter's figures, and the feeds' entries.

Everything here is public and the same for every reader of a language: petition titles and summaries,
confirmed totals, and the text organisers wrote for an update (never an email as a signer got it, which
holds that signer's unsubscribe link). Absolute links come from the base URL, never from a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from babel.core import LOCALE_ALIASES
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from advocacy import urls
from advocacy.extensions import db
from advocacy.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, current_locale, localized
from advocacy.petitions.markdown import plain_paragraphs
from advocacy.petitions.markdown import render as render_markdown
from advocacy.petitions.models import PUBLIC_STATUSES, Campaign, Petition, PetitionStatus, PetitionTransition
from advocacy.petitions.services import site_name
from advocacy.tallies import services as tallies
from advocacy.updates.models import Update, UpdateKind, UpdateStatus

IMAGE_WIDTH, IMAGE_HEIGHT = 1200, 630
DESCRIPTION_MAX = 200
FEED_SIZE = 50
# An update is news once its sending started: its recipients have it, so it is no secret any more.
PUBLISHED_UPDATES = (UpdateStatus.SENDING, UpdateStatus.SENT)
# the date in the feeds' own tag: URIs (never changes)
FEEDS_SINCE = datetime(2024, 1, 1, tzinfo=UTC)


class NotFound(LookupError):
    """No such public campaign or published update."""


# --- links and metadata ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShareLink:
    network: str  # a stable name for styling and tests: email, telegram, whatsapp, facebook, x, bluesky
    label: str
    href: str


def _query(**values: str) -> str:
    # %20 rather than +: mailto: (RFC 6068) and some apps read + literally
    return urlencode(values, quote_via=quote)


def share_links(url: str, title: str, locale: str) -> list[ShareLink]:
    """Plain links that open each network's own share page with ``url`` and ``title``: nothing is loaded from
    any network before the reader clicks one."""
    with force_locale(locale):
        invitation = _("Please sign this petition: %(title)s", title=title)
        email_body = f"{invitation}\n\n{url}"
        email_label = _("Email")
    text = f"{title} {url}"
    return [
        ShareLink("email", email_label, "mailto:?" + _query(subject=title, body=email_body)),
        ShareLink("telegram", "Telegram", "https://t.me/share/url?" + _query(url=url, text=title)),
        ShareLink("whatsapp", "WhatsApp", "https://wa.me/?" + _query(text=text)),
        ShareLink("facebook", "Facebook", "https://www.facebook.com/sharer/sharer.php?" + _query(u=url)),
        ShareLink("x", "X", "https://x.com/intent/post?" + _query(text=title, url=url)),
        ShareLink("bluesky", "Bluesky", "https://bsky.app/intent/compose?" + _query(text=text)),
    ]


def petition_url(petition: Petition) -> str:
    """The petition's public address under the base URL (without a language: readers get their own)."""
    return urls.external_url("petitions.show", slug=petition.slug)


def petition_share_links(petition: Petition, locale: str | None = None) -> list[ShareLink]:
    locale = locale or current_locale()
    return share_links(petition_url(petition), petition.display_title(locale), locale)


def og_locale(locale: str) -> str:
    """OpenGraph wants language_TERRITORY: uk -> uk_UA."""
    return LOCALE_ALIASES.get(locale, locale)


def description(petition: Petition, locale: str) -> str:
    """The summary, else the start of the text, shortened for a preview card."""
    text = localized(petition.summary, locale) or " ".join(plain_paragraphs(localized(petition.body, locale)))
    text = " ".join(text.split())
    if len(text) > DESCRIPTION_MAX:
        text = text[:DESCRIPTION_MAX - 1].rsplit(" ", 1)[0] + "…"
    return text


def embed_code(embed_url: str, title: str) -> str:
    """HTML another site pastes to show the counter (text to copy: the template escapes it once more)."""
    return (f'<iframe src="{escape(embed_url)}" width="360" height="220" title="{escape(title)}" loading="lazy">'
            "</iframe>")


def badge_code(petition_url: str, badge_url: str, title: str) -> str:
    return f'<a href="{escape(petition_url)}"><img src="{escape(badge_url)}" alt="{escape(title)}"></a>'


@dataclass(frozen=True)
class Meta:
    url: str
    title: str
    description: str
    site_name: str
    locale: str
    alternate_locales: tuple[str, ...]
    image_url: str
    image_alt: str
    embed_url: str
    badge_url: str
    image_width: int = IMAGE_WIDTH
    image_height: int = IMAGE_HEIGHT

    @property
    def embed_code(self) -> str:
        return embed_code(self.embed_url, self.title)

    @property
    def badge_code(self) -> str:
        return badge_code(self.url, self.badge_url, self.title)


def petition_meta(petition: Petition, locale: str | None = None) -> Meta:
    """OpenGraph and Twitter-card metadata of a petition's page in ``locale``."""
    locale = locale or current_locale()
    title = petition.display_title(locale)
    others = tuple(og_locale(code) for code in SUPPORTED_LOCALES if code != locale and code in petition.title)
    with force_locale(locale):
        image_alt = _("%(title)s: the petition’s title and its number of signatures", title=title)
    return Meta(url=petition_url(petition), title=title, description=description(petition, locale),
                site_name=site_name(locale), locale=og_locale(locale), alternate_locales=others,
                image_url=urls.external_url("share.image", slug=petition.slug, lang=locale), image_alt=image_alt,
                embed_url=urls.external_url("share.embed", slug=petition.slug, lang=locale),
                badge_url=urls.external_url("share.badge", slug=petition.slug, lang=locale))


# --- the counter -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Counter:
    petition_id: int
    slug: str
    title: str
    url: str
    total: int
    goal: int
    is_open: bool

    @property
    def fraction(self) -> float | None:
        """How far towards the goal, 0..1; None without a goal."""
        return min(self.total / self.goal, 1.0) if self.goal else None


def counter(slug: str, locale: str) -> Counter:
    """A public petition's title and confirmed total (the total is exact; per-country counts are not shown)."""
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None or petition.status not in PUBLIC_STATUSES:
        raise NotFound(slug)
    return Counter(petition_id=petition.id, slug=petition.slug, title=petition.display_title(locale),
                   url=petition_url(petition), total=tallies.tally(petition.id).total, goal=petition.goal,
                   is_open=petition.is_open())


# --- feeds -------------------------------------------------------------------------------------------------

# characters XML 1.0 cannot carry at all: organisers' text with one must not break a whole feed
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def text_locale(values: dict[str, str] | None, locale: str) -> str:
    """The language ``localized(values, locale)`` picks: the reader's, else English, else the first."""
    if not values:
        return locale
    if values.get(locale):
        return locale
    if values.get(DEFAULT_LOCALE):
        return DEFAULT_LOCALE
    return next(iter(values))


@dataclass(frozen=True)
class Entry:
    id: str  # a stable tag: URI, the same whatever the language
    title: str
    summary: str
    content_html: str
    url: str
    published: datetime
    updated: datetime
    locale: str


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    subtitle: str
    url: str  # the HTML page
    self_url: str  # this feed
    locale: str
    updated: datetime
    author: str
    entries: tuple[Entry, ...]


def _tag(kind: str, ident: int | str, since: datetime) -> str:
    """A tag: URI (RFC 4151) that stays the same when the title changes or the site moves to https."""
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"tag:{host},{since:%Y-%m-%d}:{kind}/{ident}"


def _published_at() -> dict[int, datetime]:
    """When each petition first opened (its first transition to open)."""
    rows = db.session.execute(
        select(PetitionTransition.petition_id, func.min(PetitionTransition.at))
        .where(PetitionTransition.to_status == PetitionStatus.OPEN.value)
        .group_by(PetitionTransition.petition_id)).all()
    return {int(pid): at for pid, at in rows}


def new_petitions_feed(locale: str, feed_url: str) -> Feed:
    """Public petitions of published campaigns, newest first."""
    petitions = db.session.scalars(
        select(Petition).join(Campaign)
        .where(Petition.status.in_(PUBLIC_STATUSES), Campaign.published_at.is_not(None))
        .options(selectinload(Petition.campaign))).all()
    opened = _published_at()
    dated = sorted(((opened.get(p.id, p.created_at), p) for p in petitions), key=lambda pair: (pair[0], pair[1].id),
                   reverse=True)[:FEED_SIZE]
    entries = []
    for published, petition in dated:
        chosen = text_locale(petition.title, locale)
        summary = description(petition, chosen)
        entries.append(Entry(
            id=_tag("petition", petition.id, petition.created_at), title=xml_safe(petition.display_title(locale)),
            summary=xml_safe(summary), content_html=xml_safe(str(render_markdown(localized(petition.body, chosen)))),
            url=urls.external_url("petitions.show", slug=petition.slug, lang=chosen),
            published=published, updated=published, locale=chosen))
    with force_locale(locale):
        title = _("New petitions")
        subtitle = _("Petitions as they open on %(site)s", site=site_name(locale))
    newest = max((entry.updated for entry in entries), default=None)
    return Feed(id=_tag("petitions", "new", FEEDS_SINCE), title=f"{title} · {site_name(locale)}",
                subtitle=subtitle, url=urls.external_url("petitions.index", lang=locale), self_url=feed_url,
                locale=locale, updated=newest or FEEDS_SINCE, author=site_name(locale), entries=tuple(entries))


def public_campaign(slug: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None or campaign.published_at is None:
        raise NotFound(slug)
    return campaign


def _news_query(campaign_id: int) -> Select[Any]:
    # Milestones are left out: their whole text is "the petition reached N signatures", which the petition
    # page and the counter show live, and it thanks the reader for signing: it is written to signers.
    return (select(Update).join(Petition, Petition.id == Update.petition_id)
            .where(Petition.campaign_id == campaign_id, Petition.status.in_(PUBLIC_STATUSES),
                   Update.kind == UpdateKind.MANUAL, Update.status.in_(PUBLISHED_UPDATES)))


@dataclass(frozen=True)
class NewsItem:
    id: int
    petition_slug: str
    petition_title: str
    subject: str
    body_html: str
    locale: str
    published: datetime
    url: str


def _sent_at(found: Update) -> datetime:
    return found.started_at or found.approved_at or found.created_at


def _news_item(found: Update, petition: Petition, campaign: Campaign, locale: str) -> NewsItem:
    chosen = text_locale(found.subject, locale)
    # the organisers' own text, rendered like the email's body: no signer's name, address or link is in it
    return NewsItem(id=found.id, petition_slug=petition.slug, petition_title=petition.display_title(chosen),
                    subject=found.subject.get(chosen, ""), body_html=str(render_markdown(found.body.get(chosen, ""))),
                    locale=chosen, published=_sent_at(found),
                    url=urls.external_url("share.news_item", campaign_slug=campaign.slug, update_id=found.id,
                                          lang=chosen))


def campaign_news(slug: str, locale: str, limit: int = FEED_SIZE) -> tuple[Campaign, list[NewsItem]]:
    """A public campaign's sent news, newest first, each in ``locale`` or the language it falls back to."""
    campaign = public_campaign(slug)
    petitions = {p.id: p for p in campaign.petitions}
    found = db.session.scalars(_news_query(campaign.id)).all()
    found = sorted(found, key=lambda u: (_sent_at(u), u.id), reverse=True)[:limit]
    return campaign, [_news_item(u, petitions[u.petition_id], campaign, locale) for u in found]


def news_item(slug: str, update_id: int, locale: str) -> tuple[Campaign, NewsItem]:
    campaign = public_campaign(slug)
    found = db.session.scalar(_news_query(campaign.id).where(Update.id == update_id))
    if found is None:
        raise NotFound(update_id)
    petitions = {p.id: p for p in campaign.petitions}
    return campaign, _news_item(found, petitions[found.petition_id], campaign, locale)


def campaign_news_feed(slug: str, locale: str, feed_url: str) -> Feed:
    campaign, items = campaign_news(slug, locale)
    entries = tuple(Entry(
        id=_tag("update", item.id, item.published), title=xml_safe(item.subject),
        summary=xml_safe(item.petition_title), content_html=xml_safe(item.body_html), url=item.url,
        published=item.published, updated=item.published, locale=item.locale) for item in items)
    name = campaign.display_name(locale)
    with force_locale(locale):
        title = _("News from %(campaign)s", campaign=name)
        subtitle = _("Updates the organisers of %(campaign)s sent to signers", campaign=name)
    newest = max((entry.updated for entry in entries), default=None)
    return Feed(id=_tag("campaign-news", campaign.id, campaign.created_at), title=xml_safe(title),
                subtitle=xml_safe(subtitle),
                url=urls.external_url("share.news", campaign_slug=campaign.slug, lang=locale), self_url=feed_url,
                locale=locale, updated=newest or campaign.published_at or campaign.created_at, author=xml_safe(name),
                entries=entries)
