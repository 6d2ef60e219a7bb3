"""Campaigns, targets and petitions: lookups for pages and the API, creation for the CLI and demo data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from advocacy.extensions import db
from advocacy.petitions.models import Campaign, DataSharing, Petition, PetitionStatus, Target


class PetitionNotFound(LookupError):
    pass


def get_petition(slug: str, *, include_drafts: bool = False) -> Petition:
    # targets load when a page or answer shows them; signing, the busiest caller, does not need them
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug))
    if petition is None or (petition.status == PetitionStatus.DRAFT and not include_drafts):
        raise PetitionNotFound(slug)
    return petition


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


def upsert_campaign(slug: str, *, name: dict[str, str], description: dict[str, str],
                    website: str | None = None, languages: Iterable[str] = ()) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug)) or Campaign(slug=slug)
    campaign.name = dict(name)
    campaign.description = dict(description)
    campaign.website = website
    campaign.languages = list(languages)
    db.session.add(campaign)
    return campaign


def upsert_target(slug: str, *, name: dict[str, str], country: str | None, languages: Iterable[str] = (),
                  website: str | None = None, data_sharing: DataSharing = DataSharing.NAMES) -> Target:
    target = db.session.scalar(select(Target).where(Target.slug == slug)) or Target(slug=slug)
    target.name = dict(name)
    target.country = country
    target.languages = list(languages)
    target.website = website
    target.data_sharing = data_sharing
    db.session.add(target)
    return target


def upsert_petition(slug: str, *, campaign: Campaign, title: dict[str, str], summary: dict[str, str],
                    body: dict[str, str], targets: list[Target], goal: int = 0,
                    country_goals: dict[str, int] | None = None, status: PetitionStatus = PetitionStatus.OPEN,
                    closes_at: datetime | None = None, position: int = 0,
                    postcode_required: bool = False) -> Petition:
    petition = db.session.scalar(select(Petition).where(Petition.slug == slug)) or Petition(slug=slug)
    petition.campaign = campaign
    petition.title = dict(title)
    petition.summary = dict(summary)
    petition.body = dict(body)
    petition.targets = list(targets)
    petition.goal = goal
    petition.country_goals = dict(country_goals or {})
    petition.status = status
    petition.closes_at = closes_at
    petition.position = position
    petition.postcode_required = postcode_required
    db.session.add(petition)
    return petition
