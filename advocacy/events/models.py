from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, CheckConstraint, Column, Enum, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy.dbtypes import UTCDateTime, utcnow
from advocacy.extensions import db
from advocacy.i18n import localized, text_locales
from advocacy.petitions.models import Campaign, Petition


class EventKind(enum.StrEnum):
    SIDE_EVENT = "side-event"
    HAND_IN = "hand-in"
    EXHIBITION = "exhibition"
    RALLY = "rally"
    WEBINAR = "webinar"


class EventStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


event_petitions = Table(
    "event_petitions",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("petition_id", ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True),
)


class Event(db.Model):  # type: ignore[name-defined]
    """A dated happening; times are stored in UTC, ``timezone`` says where its clocks are."""

    __tablename__ = "events"
    __table_args__ = (CheckConstraint("ends_at >= starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # the iCalendar UID: never changes once given, so calendar apps update rather than duplicate
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    kind: Mapped[EventKind] = mapped_column(
        Enum(EventKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=EventKind.SIDE_EVENT,
    )
    status: Mapped[EventStatus] = mapped_column(
        Enum(EventStatus, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        default=EventStatus.SCHEDULED,
    )
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    venue: Mapped[str | None] = mapped_column(String(200))
    room: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    online_url: Mapped[str | None] = mapped_column(String(500))
    hrc_session: Mapped[int | None] = mapped_column(index=True)
    organisers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # languages spoken at the event, and those interpretation is offered into
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    interpretation: Mapped[list[str]] = mapped_column(JSON, default=list)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # a draft (None) is seen by organisers only: not on public pages, in feeds or in "upcoming"
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the row's version, raised by SQLAlchemy on every UPDATE; an edit names the version it read and a stale
    # one is refused. Not the iCalendar SEQUENCE, which only rises on changes calendar apps must notice.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    campaign: Mapped[Campaign | None] = relationship()
    petitions: Mapped[list[Petition]] = relationship(secondary=event_petitions, order_by="Petition.position")

    def display_title(self, locale: str | None = None) -> str:
        return localized(self.title, locale)

    def display_description(self, locale: str | None = None) -> str:
        return localized(self.description, locale)

    def locales(self) -> tuple[str, ...]:
        """The languages the event is described in: its page is offered in these."""
        return text_locales(self.title)

    @property
    def public_petitions(self) -> list[Petition]:
        """The linked petitions readers may see: open or closed, never a draft or one awaiting approval."""
        return [petition for petition in self.petitions if petition.is_public]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.zone)

    @property
    def is_draft(self) -> bool:
        return self.published_at is None

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def is_online(self) -> bool:
        return bool(self.online_url)

    @property
    def is_in_person(self) -> bool:
        return bool(self.venue)

    @property
    def all_languages(self) -> list[str]:
        return list(dict.fromkeys([*self.languages, *self.interpretation]))


@dataclass(frozen=True)
class EventDetails:
    """What an organiser says about an event. Times may be in any zone; they are stored in UTC."""

    title: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    timezone: str = "Europe/Zurich"
    kind: EventKind = EventKind.SIDE_EVENT
    description: dict[str, str] = field(default_factory=dict)
    venue: str | None = None
    room: str | None = None
    city: str | None = None
    country: str | None = None
    online_url: str | None = None
    hrc_session: int | None = None
    organisers: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    interpretation: tuple[str, ...] = ()
    campaign_slug: str | None = None
    petition_slugs: tuple[str, ...] = ()
    status: EventStatus = EventStatus.SCHEDULED
