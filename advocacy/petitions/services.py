"""Campaigns, targets and petitions: lookups for pages and the API; creating, changing and publishing them.

Create, update and publish are separate steps. Everything starts as a draft that no public page shows;
``update_*`` is given the version the editor read and refuses a stale one, so two organisers editing at once
never overwrite each other silently; ``publish_*`` makes it public. The services flush and never commit:
the view, command or job that calls them commits once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from advocacy.cache import TTLCache
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.i18n import SUPPORTED_LOCALES, current_locale, is_country
from advocacy.petitions.models import Campaign, DataSharing, Petition, PetitionStatus, Target


class PetitionNotFound(LookupError):
    pass


class NotFound(LookupError):
    """No campaign, target or petition with that id or slug."""


class Rejected(ValueError):
    """What was given cannot be stored; ``errors`` maps field names to messages for the editor."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class StaleEdit(Exception):
    """Somebody changed it since the editor read it: nothing was changed; reload and edit again."""

    def __init__(self, kind: str, ident: int, current_version: int) -> None:
        super().__init__(_("Someone changed this since you opened it (it is at version %(version)s now). Reload it and "
                           "make your changes again.", version=current_version))
        self.kind, self.ident = kind, ident
        self.current_version = current_version


class NotPublishable(ValueError):
    """It cannot go public yet; the message says what is missing."""


def get_petition(slug: str, *, include_drafts: bool = False) -> Petition:
    # targets load when a page or answer shows them; signing, the busiest caller, does not need them
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None or (petition.status == PetitionStatus.DRAFT and not include_drafts):
        raise PetitionNotFound(slug)
    return petition


_site_names: TTLCache[str] = TTLCache(maxsize=16)


def site_name(locale: str | None = None) -> str:
    """The name of the whole site: ADVOCACY_SITE_NAME, else the first published campaign's name in the
    reader's language, else "Petitions" in it."""
    configured = current_app.config.get("SITE_NAME")
    if configured:
        return str(configured)
    locale = locale or current_locale()

    def first_campaign() -> str:
        campaign = db.session.scalar(
            select(Campaign).where(Campaign.published_at.is_not(None)).order_by(Campaign.id).limit(1))
        if campaign is not None:
            return campaign.display_name(locale)
        with force_locale(locale):
            return str(_("Petitions"))

    return _site_names.get_or_make(locale, 60.0, first_campaign)


def public_petitions(*, only_open: bool = False) -> list[Petition]:
    statuses = [PetitionStatus.OPEN] if only_open else [PetitionStatus.OPEN, PetitionStatus.CLOSED]
    petitions = db.session.scalars(
        select(Petition)
        .where(Petition.status.in_(statuses))
        .options(selectinload(Petition.targets), selectinload(Petition.campaign))
        .order_by(Petition.campaign_id, Petition.position, Petition.id)
    ).all()
    if only_open:
        return [p for p in petitions if p.is_open()]
    return list(petitions)


# --- validation ------------------------------------------------------------------------------------------

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 80
TEXT_MAX = 20_000
RETENTION_DAYS = (1, 3650)


def _slug(value: str, errors: dict[str, str]) -> str:
    if not SLUG.match(value or "") or len(value) > SLUG_MAX:
        errors["slug"] = _("The address is lowercase letters, digits and single hyphens, at most %(max)s characters.",
                            max=SLUG_MAX)
    return value


def _texts(value: Mapping[str, str] | None, field: str, errors: dict[str, str], *, required: bool,
           limit: int = TEXT_MAX) -> dict[str, str]:
    """Text per locale: only supported locales, no empty values, at least one when required."""
    texts = {locale: text.strip() for locale, text in (value or {}).items() if text and text.strip()}
    unknown = sorted(set(texts) - set(SUPPORTED_LOCALES))
    if unknown:
        errors[field] = _("Unsupported language: %(codes)s.", codes=", ".join(unknown))
    elif required and not texts:
        errors[field] = _("Give the text in at least one language.")
    elif any(len(text) > limit for text in texts.values()):
        errors[field] = _("At most %(max)s characters per language.", max=limit)
    return texts


def _languages(value: Iterable[str], errors: dict[str, str]) -> list[str]:
    codes = [code.strip().lower() for code in value if code.strip()]
    if any(not (2 <= len(code) <= 3 and code.isalpha()) for code in codes):
        errors["languages"] = _("Languages are ISO 639 codes such as en, uk or de.")
    return list(dict.fromkeys(codes))


def _country(value: str | None, errors: dict[str, str], field: str = "country") -> str | None:
    if value is None or value == "":
        return None
    code = value.strip().upper()
    if not is_country(code):
        errors[field] = _("%(value)s is not an ISO 3166 country code.", value=value)
    return code


def _website(value: str | None, errors: dict[str, str]) -> str | None:
    if not value:
        return None
    if not re.match(r"^https?://[^\s/]+\.[^\s]+$", value) or len(value) > 200:
        errors["website"] = _("A website is an http or https address of at most 200 characters.")
    return value


def _unique_slug(model: type[Campaign] | type[Target] | type[Petition], slug: str, errors: dict[str, str]) -> None:
    if "slug" not in errors and db.session.scalar(select(model.id).where(model.slug == slug)) is not None:
        errors["slug"] = _("The address %(slug)s is taken.", slug=slug)


def _goals(goal: int, country_goals: Mapping[str, int] | None, errors: dict[str, str]) -> dict[str, int]:
    if not isinstance(goal, int) or goal < 0:
        errors["goal"] = _("The goal is a whole number, 0 for none.")
    goals: dict[str, int] = {}
    for code, value in (country_goals or {}).items():
        country = _country(code, errors, "country_goals")
        if not isinstance(value, int) or value < 0:
            errors["country_goals"] = _("Country goals are whole numbers.")
        elif country:
            goals[country] = value
    return goals


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise Rejected(errors)


M = TypeVar("M", Campaign, Target, Petition)


def _by_id(model: type[M], ident: int) -> M:
    found = db.session.get(model, ident)
    if found is None:
        raise NotFound(f"no {model.__tablename__[:-1]} {ident}")
    return found


def _edit(obj: M, version: int, apply: Any) -> M:
    """Apply changes made on ``version``; refuse them if the row has moved on, here or in another process."""
    kind = type(obj).__tablename__[:-1]
    if obj.version != version:
        raise StaleEdit(kind, obj.id, obj.version)
    apply()
    obj.version = version + 1
    try:
        db.session.flush()
    except StaleDataError:
        # another transaction committed a change between our read and this UPDATE
        db.session.rollback()
        raise StaleEdit(kind, obj.id, _current_version(type(obj), obj.id)) from None
    return obj


def _current_version(model: type[M], ident: int) -> int:
    return int(db.session.scalar(select(model.version).where(model.id == ident)) or 0)


# --- campaigns ---------------------------------------------------------------------------------------------

def find_campaign(slug: str) -> Campaign | None:
    return db.session.scalar(select(Campaign).where(Campaign.slug == slug))


def create_campaign(slug: str, *, name: Mapping[str, str], description: Mapping[str, str] | None = None,
                    website: str | None = None, languages: Iterable[str] = ()) -> Campaign:
    """A draft campaign."""
    errors: dict[str, str] = {}
    campaign = Campaign(
        slug=_slug(slug, errors), name=_texts(name, "name", errors, required=True, limit=200),
        description=_texts(description, "description", errors, required=False),
        website=_website(website, errors), languages=_languages(languages, errors), version=1,
    )
    _unique_slug(Campaign, slug, errors)
    _raise(errors)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def update_campaign(campaign_id: int, *, version: int, name: Mapping[str, str] | None = None,
                    description: Mapping[str, str] | None = None, website: str | None = None,
                    languages: Iterable[str] | None = None) -> Campaign:
    campaign = _by_id(Campaign, campaign_id)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _texts(name, "name", errors, required=True, limit=200)
    if description is not None:
        values["description"] = _texts(description, "description", errors, required=False)
    if website is not None:
        values["website"] = _website(website, errors)
    if languages is not None:
        values["languages"] = _languages(languages, errors)
    _raise(errors)
    return _edit(campaign, version, lambda: _assign(campaign, values))


def _publish(model: type[Campaign] | type[Target], ident: int) -> Any:
    found = _by_id(model, ident)
    if found.published_at is None:
        _edit(found, found.version, lambda: setattr(found, "published_at", utcnow()))
    return found


def publish_campaign(campaign_id: int) -> Campaign:
    """Make a campaign public (a no-op if it is)."""
    campaign: Campaign = _publish(Campaign, campaign_id)
    return campaign


# --- targets -----------------------------------------------------------------------------------------------

def find_target(slug: str) -> Target | None:
    return db.session.scalar(select(Target).where(Target.slug == slug))


def create_target(slug: str, *, name: Mapping[str, str], country: str | None, languages: Iterable[str] = (),
                  website: str | None = None, data_sharing: DataSharing = DataSharing.NAMES) -> Target:
    """A draft target: an institution petitions can be addressed to once it is published."""
    errors: dict[str, str] = {}
    target = Target(
        slug=_slug(slug, errors), name=_texts(name, "name", errors, required=True, limit=200),
        country=_country(country, errors), languages=_languages(languages, errors),
        website=_website(website, errors), data_sharing=DataSharing(data_sharing), version=1,
    )
    _unique_slug(Target, slug, errors)
    _raise(errors)
    db.session.add(target)
    db.session.flush()
    return target


def update_target(target_id: int, *, version: int, name: Mapping[str, str] | None = None,
                  country: str | None = None, languages: Iterable[str] | None = None, website: str | None = None,
                  data_sharing: DataSharing | None = None) -> Target:
    target = _by_id(Target, target_id)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _texts(name, "name", errors, required=True, limit=200)
    if country is not None:
        values["country"] = _country(country, errors)
    if languages is not None:
        values["languages"] = _languages(languages, errors)
    if website is not None:
        values["website"] = _website(website, errors)
    if data_sharing is not None:
        values["data_sharing"] = DataSharing(data_sharing)
    _raise(errors)
    return _edit(target, version, lambda: _assign(target, values))


def publish_target(target_id: int) -> Target:
    """Make a target public: petitions can be addressed to it once it is (a no-op if it is)."""
    target: Target = _publish(Target, target_id)
    return target


# --- petitions ---------------------------------------------------------------------------------------------

def _targets(target_ids: Iterable[int], errors: dict[str, str]) -> list[Target]:
    ids = list(dict.fromkeys(target_ids))
    targets = list(db.session.scalars(select(Target).where(Target.id.in_(ids)).order_by(Target.id))) if ids else []
    if len(targets) != len(ids):
        errors["targets"] = _("Unknown target.")
    return targets


def _retention(value: int, errors: dict[str, str]) -> int:
    low, high = RETENTION_DAYS
    if not isinstance(value, int) or not low <= value <= high:
        errors["retention_days"] = _("Keep signers’ data between %(low)s and %(high)s days after closing.", low=low,
                                     high=high)
    return value


def create_petition(slug: str, *, campaign_id: int, title: Mapping[str, str],
                    summary: Mapping[str, str] | None = None, body: Mapping[str, str] | None = None,
                    target_ids: Iterable[int] = (), goal: int = 0, country_goals: Mapping[str, int] | None = None,
                    closes_at: datetime | None = None, position: int = 0, postcode_required: bool = False,
                    retention_days: int = 180) -> Petition:
    """A draft petition: nobody can see or sign it until it is published."""
    errors: dict[str, str] = {}
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        errors["campaign"] = _("Unknown campaign.")
    petition = Petition(
        slug=_slug(slug, errors), campaign_id=campaign_id, title=_texts(title, "title", errors, required=True,
                                                                        limit=300),
        summary=_texts(summary, "summary", errors, required=False, limit=1000),
        body=_texts(body, "body", errors, required=False), targets=_targets(target_ids, errors),
        country_goals=_goals(goal, country_goals, errors), goal=goal, closes_at=closes_at, position=position,
        postcode_required=bool(postcode_required), retention_days=_retention(retention_days, errors),
        status=PetitionStatus.DRAFT, version=1,
    )
    _unique_slug(Petition, slug, errors)
    _raise(errors)
    db.session.add(petition)
    db.session.flush()
    return petition


_PETITION_FIELDS = {"title", "summary", "body", "target_ids", "goal", "country_goals", "closes_at", "position",
                    "postcode_required", "retention_days"}


def update_petition(petition_id: int, *, version: int, **changes: Any) -> Petition:
    """Change a petition made on ``version``; only the fields given change. A closing date in the past
    closes an open petition."""
    unknown = set(changes) - _PETITION_FIELDS
    if unknown:
        raise TypeError(f"update_petition() cannot change {', '.join(sorted(unknown))}")
    petition = _by_id(Petition, petition_id)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for field in ("title", "summary", "body"):
        if field in changes:
            limit = {"title": 300, "summary": 1000}.get(field, TEXT_MAX)
            values[field] = _texts(changes[field], field, errors, required=field == "title", limit=limit)
    if "target_ids" in changes:
        values["targets"] = _targets(changes["target_ids"], errors)
        if petition.status != PetitionStatus.DRAFT and not values["targets"]:
            errors["targets"] = _("A published petition is addressed to at least one target.")
    if "goal" in changes or "country_goals" in changes:
        goal = changes.get("goal", petition.goal)
        values["country_goals"] = _goals(goal, changes.get("country_goals", petition.country_goals), errors)
        values["goal"] = goal
    if "retention_days" in changes:
        values["retention_days"] = _retention(changes["retention_days"], errors)
    for field in ("closes_at", "position", "postcode_required"):
        if field in changes:
            values[field] = changes[field]
    _raise(errors)
    return _edit(petition, version, lambda: _assign(petition, values))


def publish_petition(petition_id: int, *, now: datetime | None = None) -> Petition:
    """Open a draft for signing (a no-op if it is open). Its campaign and every target must be public."""
    petition = _by_id(Petition, petition_id)
    if petition.status == PetitionStatus.OPEN:
        return petition
    if petition.status == PetitionStatus.CLOSED:
        raise NotPublishable(_("A closed petition cannot be opened again."))
    problems = []
    if petition.campaign.published_at is None:
        problems.append(_("Its campaign is not published."))
    if not petition.targets:
        problems.append(_("It is addressed to no target."))
    if any(target.published_at is None for target in petition.targets):
        problems.append(_("A target is not published."))
    if petition.closes_at is not None and petition.closes_at <= (now or utcnow()):
        problems.append(_("Its closing date has passed."))
    if problems:
        raise NotPublishable(" ".join(problems))
    return _edit(petition, petition.version, lambda: setattr(petition, "status", PetitionStatus.OPEN))


def close_petition(petition_id: int) -> Petition:
    """Stop taking signatures now (a no-op if closed); its retention period starts."""
    petition = _by_id(Petition, petition_id)
    if petition.status == PetitionStatus.CLOSED:
        return petition
    if petition.status == PetitionStatus.DRAFT:
        raise NotPublishable(_("A draft was never open."))

    def close() -> None:
        petition.status = PetitionStatus.CLOSED
        if petition.closes_at is None or petition.closes_at > utcnow():
            petition.closes_at = utcnow()

    return _edit(petition, petition.version, close)


def _assign(obj: Any, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        setattr(obj, key, value)
