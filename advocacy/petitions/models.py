from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Column, Enum, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy.dbtypes import UTCDateTime, utcnow
from advocacy.extensions import db
from advocacy.i18n import localized, text_locales


class Campaign(db.Model):  # type: ignore[name-defined]
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    website: Mapped[str | None] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the name emails to signers come from, and the text at their foot, per locale
    sender_name: Mapped[str | None] = mapped_column(String(120))
    email_footer: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None while a draft; petitions can only be published in a published campaign
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # bumped by every change (the services do it, so a change to targets alone counts too): an edit names
    # the version it was made on, and the UPDATE of a stale one matches no row
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    petitions: Mapped[list[Petition]] = relationship(back_populates="campaign", order_by="Petition.position")

    def display_name(self, locale: str | None = None) -> str:
        return localized(self.name, locale)


class DataSharing(enum.StrEnum):
    """What a target may receive: consenting signers' names with their country, or counts alone."""

    NAMES = "names"
    COUNTS_ONLY = "counts_only"


class DeliveryChannel(enum.StrEnum):
    """How a target receives its packets: an email to its contact address, or an HTTPS webhook."""

    EMAIL = "email"
    WEBHOOK = "webhook"


class Target(db.Model):  # type: ignore[name-defined]
    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    country: Mapped[str | None] = mapped_column(String(2))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    website: Mapped[str | None] = mapped_column(String(200))
    data_sharing: Mapped[DataSharing] = mapped_column(
        Enum(DataSharing, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=DataSharing.NAMES,
    )
    # an institution's address (a committee's secretariat), not a person's: no personal data
    contact_email: Mapped[str | None] = mapped_column(String(254))
    delivery_channel: Mapped[DeliveryChannel] = mapped_column(
        Enum(DeliveryChannel, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        default=DeliveryChannel.EMAIL,
    )
    # https only (the services check it)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    def display_name(self, locale: str | None = None) -> str:
        return localized(self.name, locale)


petition_targets = Table(
    "petition_targets",
    db.metadata,
    Column("petition_id", ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True),
    Column("target_id", ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True),
)


class PetitionStatus(enum.StrEnum):
    """draft → submitted → open → closed, or submitted → rejected → draft; only open and closed are public."""

    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for a second person's approval
    OPEN = "open"
    CLOSED = "closed"
    REJECTED = "rejected"  # sent back with a reason the author sees


PUBLIC_STATUSES = (PetitionStatus.OPEN, PetitionStatus.CLOSED)


class Petition(db.Model):  # type: ignore[name-defined]
    __tablename__ = "petitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    summary: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # per locale: Markdown (paragraphs separated by blank lines), rendered by advocacy.petitions.markdown
    body: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[PetitionStatus] = mapped_column(
        Enum(PetitionStatus, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        default=PetitionStatus.DRAFT,
    )
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    goal: Mapped[int] = mapped_column(default=0)
    country_goals: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    postcode_required: Mapped[bool] = mapped_column(default=False)
    # names, emails and postcodes of the signatures are erased this many days after the petition closed
    retention_days: Mapped[int] = mapped_column(default=180, server_default="180")
    # when the retention job last found nothing left to erase: the hourly run skips the petition until it
    # ends again later (reopened and closed again), instead of reading every one of its signatures
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # why the last submission was rejected, for its author; cleared when it is submitted again
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    # a country petition: the campaign petition it was launched from, and its country
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("petitions.id"), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    # quiet fraud marking: more than this many signatures in fraud_window_minutes from one client address,
    # one network or one email domain are accepted but held back as suspect (0 switches a signal off)
    fraud_window_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    fraud_limit_address: Mapped[int] = mapped_column(default=10, server_default="10")
    fraud_limit_network: Mapped[int] = mapped_column(default=50, server_default="50")
    fraud_limit_domain: Mapped[int] = mapped_column(default=300, server_default="300")
    # emails to signers who opted in to news when the petition, or a country, reaches its goal (advocacy.updates)
    milestone_emails: Mapped[bool] = mapped_column(default=False, server_default=db.false())
    # the zips of this petition's packets are deleted this many days after their last delivery (or their
    # build, if never delivered); manifests, counts and delivery records stay
    packet_retention_days: Mapped[int] = mapped_column(default=90, server_default="90")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    campaign: Mapped[Campaign] = relationship(back_populates="petitions")
    targets: Mapped[list[Target]] = relationship(secondary=petition_targets, order_by="Target.id")

    def display_title(self, locale: str | None = None) -> str:
        return localized(self.title, locale)

    def locales(self) -> tuple[str, ...]:
        """The languages the petition is written in: its page is offered in these."""
        return text_locales(self.title)

    @property
    def is_public(self) -> bool:
        """Open or closed: pages, the API and feeds may show it. Drafts, submitted and rejected ones never."""
        return self.status in PUBLIC_STATUSES

    def is_open(self, now: datetime | None = None) -> bool:
        if self.status != PetitionStatus.OPEN:
            return False
        return self.closes_at is None or (now or utcnow()) < self.closes_at


class PetitionTransition(db.Model):  # type: ignore[name-defined]
    """One step of a petition's lifecycle: who moved it from which status to which, when, and why."""

    __tablename__ = "petition_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    # the account that made the change; None for the system (the demo loader, the closing job)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
