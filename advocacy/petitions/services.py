"""Campaigns, targets and petitions: lookups for pages and the API; creating, changing and publishing them.

Create, update and publish are separate steps. Everything starts as a draft that no public page shows;
``update_*`` is given the version the editor read and refuses a stale one, so two organisers editing at once
never overwrite each other silently; ``publish_*`` makes a campaign or target public. A petition goes public
through moderation: draft → submitted → open → closed, or submitted → rejected → draft; a second person
approves it, and every step is recorded as a :class:`PetitionTransition`. Every change takes the ``actor``
(a :class:`Principal`) it is made for and checks its role first. The services flush and never commit: the
view, command or job that calls them commits once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from advocacy import cache
from advocacy.accounts.roles import Forbidden, Principal, require_admin, require_any_organiser, require_organiser
from advocacy.audit.services import record
from advocacy.cache import TTLCache
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.i18n import SUPPORTED_LOCALES, country_name, current_locale, is_country
from advocacy.petitions.models import (
    PUBLIC_STATUSES,
    Campaign,
    DataSharing,
    DeliveryChannel,
    Petition,
    PetitionStatus,
    PetitionTransition,
    Target,
    petition_targets,
)
from advocacy.petitions.parliaments import Parliament, all_parliaments


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


class InvalidTransition(ValueError):
    """The petition is not in a status this step starts from (or this field is fixed in its status)."""


_STATUS_LABELS = {
    PetitionStatus.DRAFT: _l("a draft"),
    PetitionStatus.SUBMITTED: _l("submitted for approval"),
    PetitionStatus.OPEN: _l("open"),
    PetitionStatus.CLOSED: _l("closed"),
    PetitionStatus.REJECTED: _l("rejected"),
}


def status_label(status: PetitionStatus | str) -> str:
    """A petition's status as editors read it, in the current language."""
    return str(_STATUS_LABELS[PetitionStatus(status)])


def get_petition(slug: str, *, include_drafts: bool = False) -> Petition:
    """A public (open or closed) petition by its slug; ``include_drafts`` finds it in any status."""
    # targets load when a page or answer shows them; signing, the busiest caller, does not need them
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None or (petition.status not in PUBLIC_STATUSES and not include_drafts):
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
    statuses = [PetitionStatus.OPEN] if only_open else list(PUBLIC_STATUSES)
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


def _sender_name(value: str | None, errors: dict[str, str]) -> str | None:
    name = (value or "").strip()
    if len(name) > 120 or any(c in name for c in "\r\n<>\"@"):
        errors["sender_name"] = _("A sender name is at most 120 characters, without an address or quotes.")
    return name or None


def _contact_email(value: str | None, errors: dict[str, str]) -> str | None:
    if not value or not value.strip():
        return None
    try:
        address = validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        errors["contact_email"] = _("%(value)s is not an email address.", value=value)
        return value
    if len(address) > 254:
        errors["contact_email"] = _("An email address is at most 254 characters.")
    return str(address)


def _webhook_url(value: str | None, errors: dict[str, str]) -> str | None:
    if not value or not value.strip():
        return None
    url = value.strip()
    if not re.match(r"^https://[^\s/:@]+\.[^\s/:@]+(:\d+)?(/[^\s]*)?$", url) or len(url) > 500:
        errors["webhook_url"] = _("A webhook is an https address of at most 500 characters.")
    return url


def _delivery(channel: DeliveryChannel | str, webhook_url: str | None, errors: dict[str, str]) -> DeliveryChannel:
    try:
        chosen = DeliveryChannel(channel)
    except ValueError:
        errors["delivery_channel"] = _("Deliver by email or by webhook.")
        return DeliveryChannel.EMAIL
    if chosen == DeliveryChannel.WEBHOOK and not webhook_url and "webhook_url" not in errors:
        errors["webhook_url"] = _("Give the https address of the webhook packets are delivered to.")
    return chosen


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

def organised_campaigns(actor: Principal) -> list[Campaign]:
    """The campaigns the actor organises (every one for an admin), oldest first."""
    query = select(Campaign).order_by(Campaign.id)
    if not actor.is_admin:
        query = query.where(Campaign.id.in_(actor.campaign_ids))
    return list(db.session.scalars(query))


def find_campaign(slug: str) -> Campaign | None:
    return db.session.scalar(select(Campaign).where(Campaign.slug == slug))


def create_campaign(slug: str, *, actor: Principal, name: Mapping[str, str],
                    description: Mapping[str, str] | None = None, website: str | None = None,
                    languages: Iterable[str] = (), sender_name: str | None = None,
                    email_footer: Mapping[str, str] | None = None) -> Campaign:
    """A draft campaign. Only an admin creates campaigns."""
    require_admin(actor)
    errors: dict[str, str] = {}
    campaign = Campaign(
        slug=_slug(slug, errors), name=_texts(name, "name", errors, required=True, limit=200),
        description=_texts(description, "description", errors, required=False),
        website=_website(website, errors), languages=_languages(languages, errors),
        sender_name=_sender_name(sender_name, errors),
        email_footer=_texts(email_footer, "email_footer", errors, required=False, limit=2000), version=1,
    )
    _unique_slug(Campaign, slug, errors)
    _raise(errors)
    db.session.add(campaign)
    db.session.flush()
    record("campaign.created", actor=actor, object_type="campaign", object_id=campaign.id, slug=campaign.slug)
    return campaign


def update_campaign(campaign_id: int, *, actor: Principal, version: int, name: Mapping[str, str] | None = None,
                    description: Mapping[str, str] | None = None, website: str | None = None,
                    languages: Iterable[str] | None = None, sender_name: str | None = None,
                    email_footer: Mapping[str, str] | None = None) -> Campaign:
    """Change what is given (None leaves a field as it is; "" or {} empties it)."""
    campaign = _by_id(Campaign, campaign_id)
    require_organiser(actor, campaign.id)
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
    if sender_name is not None:
        values["sender_name"] = _sender_name(sender_name, errors)
    if email_footer is not None:
        values["email_footer"] = _texts(email_footer, "email_footer", errors, required=False, limit=2000)
    _raise(errors)
    _edit(campaign, version, lambda: _assign(campaign, values))
    record("campaign.edited", actor=actor, object_type="campaign", object_id=campaign.id, fields=sorted(values))
    return campaign


def _publish(model: type[Campaign] | type[Target], ident: int, actor: Principal) -> Any:
    found = _by_id(model, ident)
    if found.published_at is None:
        _edit(found, found.version, lambda: setattr(found, "published_at", utcnow()))
        kind = model.__tablename__[:-1]
        record(f"{kind}.published", actor=actor, object_type=kind, object_id=found.id, slug=found.slug)
    return found


def publish_campaign(campaign_id: int, *, actor: Principal) -> Campaign:
    """Make a campaign public (a no-op if it is)."""
    require_organiser(actor, _by_id(Campaign, campaign_id).id)
    campaign: Campaign = _publish(Campaign, campaign_id, actor)
    return campaign


# --- targets -----------------------------------------------------------------------------------------------

def find_target(slug: str) -> Target | None:
    return db.session.scalar(select(Target).where(Target.slug == slug))


def create_target(slug: str, *, actor: Principal, name: Mapping[str, str], country: str | None,
                  languages: Iterable[str] = (), website: str | None = None,
                  data_sharing: DataSharing = DataSharing.NAMES, contact_email: str | None = None,
                  delivery_channel: DeliveryChannel = DeliveryChannel.EMAIL,
                  webhook_url: str | None = None) -> Target:
    """A draft target: an institution petitions can be addressed to once it is published."""
    require_any_organiser(actor)
    errors: dict[str, str] = {}
    url = _webhook_url(webhook_url, errors)
    target = Target(
        slug=_slug(slug, errors), name=_texts(name, "name", errors, required=True, limit=200),
        country=_country(country, errors), languages=_languages(languages, errors),
        website=_website(website, errors), data_sharing=DataSharing(data_sharing),
        contact_email=_contact_email(contact_email, errors), delivery_channel=_delivery(delivery_channel, url, errors),
        webhook_url=url, version=1,
    )
    _unique_slug(Target, slug, errors)
    _raise(errors)
    db.session.add(target)
    db.session.flush()
    record("target.created", actor=actor, object_type="target", object_id=target.id, slug=target.slug)
    return target


def may_edit_target(actor: Principal, target_id: int) -> bool:
    """Admins may change any target; an organiser one that only their own campaigns address (or none yet).

    A target's contact address, delivery channel and data-sharing policy decide where signers' names go:
    an organiser of one campaign never changes them for another campaign's petitions.
    """
    if actor.is_admin:
        return True
    if not actor.is_organiser:
        return False
    addressed_by = set(db.session.scalars(
        select(Petition.campaign_id).join(petition_targets, petition_targets.c.petition_id == Petition.id)
        .where(petition_targets.c.target_id == target_id)))
    return addressed_by <= actor.campaign_ids


def require_target_editor(actor: Principal, target_id: int) -> None:
    if not may_edit_target(actor, target_id):
        raise Forbidden(_("Only the organisers of the campaigns that address this target, or an admin, may "
                          "change it."))


def update_target(target_id: int, *, actor: Principal, version: int, name: Mapping[str, str] | None = None,
                  country: str | None = None, languages: Iterable[str] | None = None, website: str | None = None,
                  data_sharing: DataSharing | None = None, contact_email: str | None = None,
                  delivery_channel: DeliveryChannel | None = None, webhook_url: str | None = None) -> Target:
    """Change what is given (None leaves a field as it is; "" empties a text)."""
    require_target_editor(actor, target_id)
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
    if contact_email is not None:
        values["contact_email"] = _contact_email(contact_email, errors)
    if webhook_url is not None:
        values["webhook_url"] = _webhook_url(webhook_url, errors)
    if delivery_channel is not None or webhook_url is not None:
        values["delivery_channel"] = _delivery(
            delivery_channel if delivery_channel is not None else target.delivery_channel,
            values.get("webhook_url", target.webhook_url), errors)
    _raise(errors)
    _edit(target, version, lambda: _assign(target, values))
    record("target.edited", actor=actor, object_type="target", object_id=target.id, fields=sorted(values))
    return target


def publish_target(target_id: int, *, actor: Principal) -> Target:
    """Make a target public: petitions can be addressed to it once it is (a no-op if it is)."""
    require_target_editor(actor, target_id)
    target: Target = _publish(Target, target_id, actor)
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


def create_petition(slug: str, *, actor: Principal, campaign_id: int, title: Mapping[str, str],
                    summary: Mapping[str, str] | None = None, body: Mapping[str, str] | None = None,
                    target_ids: Iterable[int] = (), goal: int = 0, country_goals: Mapping[str, int] | None = None,
                    closes_at: datetime | None = None, position: int = 0, postcode_required: bool = False,
                    retention_days: int = 180) -> Petition:
    """A draft petition: nobody can see or sign it until it is submitted and approved."""
    require_organiser(actor, campaign_id)
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
    record("petition.created", actor=actor, object_type="petition", object_id=petition.id, slug=petition.slug)
    return petition


_PETITION_FIELDS = {"title", "summary", "body", "target_ids", "goal", "country_goals", "closes_at", "position",
                    "postcode_required", "retention_days"}
# what may still change once a petition is submitted (its text and targets are what the approver approved)
_AFTER_SUBMISSION = {"closes_at", "goal", "country_goals"}
_EDITABLE = (PetitionStatus.DRAFT, PetitionStatus.REJECTED)


def update_petition(petition_id: int, *, actor: Principal, version: int, **changes: Any) -> Petition:
    """Change a petition made on ``version``; only the fields given change.

    Everything can change in a draft or a rejected petition (its status stays). Once submitted or open, only
    the closing date and the goals; once closed, only the goals. A closing date in the past closes an open
    petition.
    """
    unknown = set(changes) - _PETITION_FIELDS
    if unknown:
        raise TypeError(f"update_petition() cannot change {', '.join(sorted(unknown))}")
    petition = _by_id(Petition, petition_id)
    require_organiser(actor, petition.campaign_id)
    if petition.status == PetitionStatus.CLOSED and set(changes) - {"goal", "country_goals"}:
        raise InvalidTransition(_("Only the goals of a closed petition can be changed."))
    if petition.status not in _EDITABLE and set(changes) - _AFTER_SUBMISSION:
        raise InvalidTransition(_("Its text, targets and signer fields cannot be changed once submitted: only the "
                                  "closing date and the goals can."))
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for field in ("title", "summary", "body"):
        if field in changes:
            limit = {"title": 300, "summary": 1000}.get(field, TEXT_MAX)
            values[field] = _texts(changes[field], field, errors, required=field == "title", limit=limit)
    if "target_ids" in changes:
        values["targets"] = _targets(changes["target_ids"], errors)
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
    _edit(petition, version, lambda: _assign(petition, values))
    record("petition.edited", actor=actor, object_type="petition", object_id=petition.id, fields=sorted(changes))
    return petition


# --- the lifecycle -----------------------------------------------------------------------------------------

def transitions(petition_id: int) -> list[PetitionTransition]:
    """Every step of a petition's lifecycle, oldest first."""
    return list(db.session.scalars(
        select(PetitionTransition).where(PetitionTransition.petition_id == petition_id)
        .order_by(PetitionTransition.at, PetitionTransition.id)))


def submitters(petition_ids: Iterable[int]) -> dict[int, int | None]:
    """The account behind each petition's latest submission (None for the system; petitions never submitted
    are left out)."""
    ids = list(petition_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(PetitionTransition.petition_id, PetitionTransition.actor_user_id)
        .where(PetitionTransition.petition_id.in_(ids),
               PetitionTransition.to_status == PetitionStatus.SUBMITTED.value)
        .order_by(PetitionTransition.at, PetitionTransition.id))
    return dict(rows.all())  # in time order: the latest submission of each petition wins


def submitter(petition_id: int) -> int | None:
    """The account that made the latest submission (None if nobody did, or the system did)."""
    return submitters([petition_id]).get(petition_id)


def _move(petition: Petition, to: PetitionStatus, actor: Principal | None, *, version: int | None = None,
          reason: str | None = None, also: Any = None) -> Petition:
    """Change the status (on ``version``, the current one if not given) and record who did it and when."""
    before = petition.status

    def apply() -> None:
        petition.status = to
        if also is not None:
            also()
        db.session.add(PetitionTransition(
            petition_id=petition.id, from_status=PetitionStatus(before).value, to_status=to.value,
            actor_user_id=actor.user_id if actor is not None else None, reason=reason, at=utcnow()))

    _edit(petition, petition.version if version is None else version, apply)
    record(_transition_action(PetitionStatus(before), to), actor=actor, object_type="petition", object_id=petition.id,
           slug=petition.slug, from_status=PetitionStatus(before).value, to_status=to.value, reason=reason)
    return petition


_TRANSITION_ACTIONS = {
    PetitionStatus.SUBMITTED: "petition.submitted",
    PetitionStatus.REJECTED: "petition.rejected",
    PetitionStatus.DRAFT: "petition.returned_to_draft",
    PetitionStatus.CLOSED: "petition.closed",
}


def _transition_action(before: PetitionStatus, to: PetitionStatus) -> str:
    """Opening a submitted petition is its approval; opening a draft directly (the system) its publication."""
    if to == PetitionStatus.OPEN:
        return "petition.approved" if before == PetitionStatus.SUBMITTED else "petition.published"
    return _TRANSITION_ACTIONS[to]


def _problems(petition: Petition, now: datetime | None = None) -> list[str]:
    """What keeps a petition from going public."""
    problems = []
    if petition.campaign.published_at is None:
        problems.append(_("Its campaign is not published."))
    if not petition.targets:
        problems.append(_("It is addressed to no target."))
    if any(target.published_at is None for target in petition.targets):
        problems.append(_("A target is not published."))
    untitled = sorted((set(petition.summary) | set(petition.body)) - set(petition.title))
    if untitled:
        problems.append(_("It has text but no title in %(locales)s.", locales=", ".join(untitled)))
    if petition.closes_at is not None and petition.closes_at <= (now or utcnow()):
        problems.append(_("Its closing date has passed."))
    return [str(problem) for problem in problems]


def _publishable(petition: Petition, now: datetime | None = None) -> None:
    problems = _problems(petition, now)
    if problems:
        raise NotPublishable(" ".join(problems))


def submit_petition(petition_id: int, *, actor: Principal, version: int) -> Petition:
    """Ask for approval: draft → submitted. Refused (NotPublishable) if it could not go public as it is."""
    petition = _by_id(Petition, petition_id)
    require_organiser(actor, petition.campaign_id)
    if petition.status != PetitionStatus.DRAFT:
        raise InvalidTransition(_("Only a draft can be submitted; this petition is %(status)s.",
                                  status=status_label(petition.status)))
    if petition.version != version:
        raise StaleEdit("petition", petition.id, petition.version)
    _publishable(petition)
    return _move(petition, PetitionStatus.SUBMITTED, actor, version=version,
                 also=lambda: setattr(petition, "rejection_reason", None))


def _not_the_submitter(petition: Petition, actor: Principal, message: str) -> None:
    if actor.user_id is not None and submitter(petition.id) == actor.user_id:
        raise Forbidden(message)


def approve_petition(petition_id: int, *, actor: Principal) -> Petition:
    """Open a submitted petition for signing. Another organiser of its campaign or an admin approves it: never
    the person who submitted it."""
    petition = _by_id(Petition, petition_id)
    require_organiser(actor, petition.campaign_id)
    if petition.status != PetitionStatus.SUBMITTED:
        raise InvalidTransition(_("Only a submitted petition can be approved; this one is %(status)s.",
                                  status=status_label(petition.status)))
    _not_the_submitter(petition, actor, _("Another person must approve a petition you submitted."))
    _publishable(petition)  # a closing date may have passed, a target been withdrawn, since it was submitted
    return _move(petition, PetitionStatus.OPEN, actor)


def reject_petition(petition_id: int, *, actor: Principal, reason: str) -> Petition:
    """Send a submitted petition back to its author with the reason, which the author sees."""
    petition = _by_id(Petition, petition_id)
    require_organiser(actor, petition.campaign_id)
    if petition.status != PetitionStatus.SUBMITTED:
        raise InvalidTransition(_("Only a submitted petition can be rejected; this one is %(status)s.",
                                  status=status_label(petition.status)))
    _not_the_submitter(petition, actor, _("Another person must review a petition you submitted. You can withdraw "
                                          "it instead."))
    text = (reason or "").strip()
    if not text:
        raise Rejected({"reason": _("Say why it is rejected: its author will read it.")})
    if len(text) > TEXT_MAX:
        raise Rejected({"reason": _("At most %(max)s characters.", max=TEXT_MAX)})
    return _move(petition, PetitionStatus.REJECTED, actor, reason=text,
                 also=lambda: setattr(petition, "rejection_reason", text))


def return_to_draft(petition_id: int, *, actor: Principal) -> Petition:
    """A rejected petition becomes a draft again to be reworked; its author may also withdraw a submission."""
    petition = _by_id(Petition, petition_id)
    require_organiser(actor, petition.campaign_id)
    if petition.status == PetitionStatus.SUBMITTED:
        if not actor.is_system and submitter(petition.id) != actor.user_id:
            raise Forbidden(_("Only the person who submitted it can withdraw it; reject it with a reason instead."))
    elif petition.status != PetitionStatus.REJECTED:
        raise InvalidTransition(_("Only a rejected or submitted petition goes back to being a draft; this one is "
                                  "%(status)s.", status=status_label(petition.status)))
    return _move(petition, PetitionStatus.DRAFT, actor)


def publish_petition(petition_id: int, *, actor: Principal, now: datetime | None = None) -> Petition:
    """Open a draft without approval (a no-op if it is open): for the demo loader, imports and tests, so the
    system alone may. Its campaign and every target must be public."""
    if not actor.is_system:
        raise Forbidden(_("A petition opens when another person approves it."))
    petition = _by_id(Petition, petition_id)
    if petition.status == PetitionStatus.OPEN:
        return petition
    if petition.status == PetitionStatus.CLOSED:
        raise InvalidTransition(_("A closed petition cannot be opened again."))
    if petition.status != PetitionStatus.DRAFT:
        raise InvalidTransition(_("Only a draft can be opened directly; this petition is %(status)s.",
                                  status=status_label(petition.status)))
    _publishable(petition, now)
    return _move(petition, PetitionStatus.OPEN, actor)


def _close_now(petition: Petition) -> None:
    now = utcnow()
    if petition.closes_at is None or petition.closes_at > now:
        petition.closes_at = now


def close_petition(petition_id: int, *, actor: Principal) -> Petition:
    """Stop taking signatures now (a no-op if closed); its tallies stay and its retention period starts."""
    petition = _by_id(Petition, petition_id)
    require_organiser(actor, petition.campaign_id)
    if petition.status == PetitionStatus.CLOSED:
        return petition
    if petition.status != PetitionStatus.OPEN:
        raise InvalidTransition(_("Only an open petition can be closed; this one is %(status)s.",
                                  status=status_label(petition.status)))
    return _move(petition, PetitionStatus.CLOSED, actor, also=lambda: _close_now(petition))


def close_due_petitions(now: datetime | None = None) -> int:
    """Close the open petitions whose closing date has passed (a periodic job); returns how many."""
    now = now or utcnow()
    due = list(db.session.scalars(
        select(Petition).where(Petition.status == PetitionStatus.OPEN, Petition.closes_at.is_not(None),
                               Petition.closes_at <= now).order_by(Petition.id)))
    for petition in due:
        petition.status = PetitionStatus.CLOSED
        petition.version += 1
        db.session.add(PetitionTransition(petition_id=petition.id, from_status=PetitionStatus.OPEN.value,
                                          to_status=PetitionStatus.CLOSED.value, actor_user_id=None, at=now))
        record("petition.closed", actor=None, object_type="petition", object_id=petition.id, slug=petition.slug,
               from_status=PetitionStatus.OPEN.value, to_status=PetitionStatus.CLOSED.value, reason="closing date")
    db.session.flush()
    return len(due)


# --- country launch ----------------------------------------------------------------------------------------

def _reference_parliaments() -> list[Parliament]:
    return all_parliaments()


def _parliament_target(parliament: Parliament, actor: Principal) -> Target:
    """The country's parliament as a target: the one there is, or a new published one from the list."""
    country = parliament.country.upper()
    slug = f"parliament-{country.lower()}"
    found = db.session.scalar(select(Target).where(Target.slug == slug, Target.country == country))
    if found is not None:
        return found
    # target names are kept in the languages the site speaks; the local name stays in the reference list
    names = {locale: text for locale, text in parliament.name.items() if locale in SUPPORTED_LOCALES}
    if not names:
        names = {"en": next(iter(parliament.name.values()))}
    target = create_target(slug, actor=actor, name=names, country=country, languages=list(parliament.languages),
                           website=parliament.website or None)
    return publish_target(target.id, actor=actor)


def _child_slug(parent: Petition, country: str, taken: set[str]) -> str:
    suffix = f"-{country.lower()}"
    base = parent.slug[:SLUG_MAX - len(suffix) - 3].rstrip("-") + suffix
    slug, n = base, 1
    while slug in taken or db.session.scalar(select(Petition.id).where(Petition.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug


def launch_country_petitions(petition_id: int, *, actor: Principal, countries: Sequence[str],
                             parliaments: Iterable[Parliament] | None = None) -> list[Petition]:
    """From a campaign petition, one draft per country addressed to its national parliament, in its languages
    (those of the parent's texts that the country speaks, English and the campaign's languages) with the
    country's goal. All or nothing: an unknown country, or one that already has a petition launched from this
    one, is refused (``Rejected.errors`` is keyed by country code) and nothing is created.

    ``parliaments`` is the reference list to use (by default advocacy.petitions.parliaments.all_parliaments()).
    """
    parent = _by_id(Petition, petition_id)
    require_organiser(actor, parent.campaign_id)
    if parent.parent_id is not None:
        raise Rejected({"petition": _("Country petitions are launched from a campaign petition, not from another "
                                      "country petition.")})
    by_country = {p.country.upper(): p for p in (_reference_parliaments() if parliaments is None else parliaments)}
    codes = list(dict.fromkeys(code.strip().upper() for code in countries if code and code.strip()))
    if not codes:
        raise Rejected({"countries": _("Choose at least one country.")})
    launched = set(db.session.scalars(select(Petition.country).where(Petition.parent_id == parent.id)))
    errors: dict[str, str] = {}
    for code in codes:
        if code not in by_country:
            errors[code] = (_("%(country)s has no national parliament in the reference list.",
                              country=country_name(code)) if is_country(code)
                            else _("%(value)s is not an ISO 3166 country code.", value=code))
        elif code in launched:
            errors[code] = _("%(country)s already has a petition launched from this one.",
                             country=country_name(code))
    _raise(errors)

    campaign_languages = set(parent.campaign.languages)
    taken: set[str] = set()
    created = []
    for code in codes:
        parliament = by_country[code]
        target = _parliament_target(parliament, actor)
        wanted = set(parliament.languages) | {"en"} | campaign_languages
        locales = [locale for locale in parent.title if locale in wanted] or list(parent.title)
        goal = int(parent.country_goals.get(code, 0))
        petition = Petition(
            slug=_child_slug(parent, code, taken), campaign_id=parent.campaign_id, parent_id=parent.id, country=code,
            title={locale: parent.title[locale] for locale in locales},
            summary={locale: parent.summary[locale] for locale in locales if locale in parent.summary},
            body={locale: parent.body[locale] for locale in locales if locale in parent.body},
            goal=goal, country_goals={code: goal} if goal else {}, postcode_required=parent.postcode_required,
            retention_days=parent.retention_days, closes_at=parent.closes_at, position=parent.position,
            status=PetitionStatus.DRAFT, targets=[target], version=1,
        )
        db.session.add(petition)
        created.append(petition)
    db.session.flush()
    record("petition.launched", actor=actor, object_type="petition", object_id=parent.id, slug=parent.slug,
           countries=codes, petition_ids=[petition.id for petition in created])
    return created


def _assign(obj: Any, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        setattr(obj, key, value)


# --- public pages follow at once ----------------------------------------------------------------------------

_STALE_PAGES_KEY = "advocacy.public_pages_stale"


@event.listens_for(Session, "after_flush")
def _note_public_changes(session: Session, flush_context: Any) -> None:
    if any(isinstance(obj, Campaign | Target | Petition) for obj in (*session.new, *session.dirty)):
        session.info[_STALE_PAGES_KEY] = True


@event.listens_for(Session, "after_commit")
def _forget_shared_pages(session: Session) -> None:
    """A petition that opens or closes (or any edit) shows on this process's pages at once, not after the few
    seconds anonymous pages are shared for; other processes follow within those seconds."""
    if session.in_nested_transaction():
        return
    if session.info.pop(_STALE_PAGES_KEY, False):
        cache.clear_all()


@event.listens_for(Session, "after_rollback")
def _nothing_changed(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_STALE_PAGES_KEY, None)
