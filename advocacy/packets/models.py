from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy.dbtypes import UTCDateTime, utcnow
from advocacy.extensions import db
from advocacy.petitions.models import Petition, Target


class PacketStatus(enum.StrEnum):
    QUEUED = "queued"        # asked for; the worker builds it
    READY = "ready"          # built: its zip is stored in packet_chunks
    FAILED = "failed"        # the build failed for good (the outbox row says why)
    EXPIRED = "expired"      # its zip was deleted after the retention period; manifest and counts stay


class Packet(db.Model):  # type: ignore[name-defined]
    """One petition's signatures for one target up to a cut-off. The zip itself is kept in ``packet_chunks``
    (in the database, so every web process and worker on every host reads the same bytes)."""

    __tablename__ = "packets"
    __table_args__ = (UniqueConstraint("petition_id", "target_id", "cutoff"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # the packet id of the manifest (build.packet_id): what liaisons see, quote and download by
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[PacketStatus] = mapped_column(
        Enum(PacketStatus, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        default=PacketStatus.QUEUED,
    )
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total: Mapped[int | None] = mapped_column()
    listed: Mapped[int | None] = mapped_column()
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    size: Mapped[int | None] = mapped_column()
    sha256: Mapped[str | None] = mapped_column(String(64))  # of the whole zip
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    files_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    petition: Mapped[Petition] = relationship()
    target: Mapped[Target] = relationship()


class PacketChunk(db.Model):  # type: ignore[name-defined]
    """The zip of a packet in pieces of CHUNK_BYTES, read back in order to stream a download."""

    __tablename__ = "packet_chunks"

    packet_id: Mapped[int] = mapped_column(ForeignKey("packets.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class TargetResponse(db.Model):  # type: ignore[name-defined]
    """An institution's public answer to a petition, per locale, published by the target's liaison."""

    __tablename__ = "target_responses"
    __table_args__ = (UniqueConstraint("petition_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    text: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    target: Mapped[Target] = relationship()


class DeliveryChannelUsed(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"      # waiting for its packet, or being tried
    DELIVERED = "delivered"
    FAILED = "failed"        # every attempt failed: the campaign's organisers were told


class DeliverySchedule(db.Model):  # type: ignore[name-defined]
    """An organiser's plan to deliver a petition to a target: once at ``next_at``, or every ``every_days`` days
    from then while the petition is open."""

    __tablename__ = "delivery_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # None: nothing more to do
    every_days: Mapped[int | None] = mapped_column()
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    target: Mapped[Target] = relationship()


class Delivery(db.Model):  # type: ignore[name-defined]
    """Sending one packet to its target by the target's channel. Every attempt is a DeliveryAttempt."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    packet_id: Mapped[int] = mapped_column(ForeignKey("packets.id", ondelete="CASCADE"), index=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_schedules.id", ondelete="SET NULL"))
    channel: Mapped[DeliveryChannelUsed] = mapped_column(
        Enum(DeliveryChannelUsed, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]))
    # the Standard Webhooks message id: one per packet, so a redelivery of the same packet carries the same id
    webhook_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    packet: Mapped[Packet] = relationship()


class DeliveryAttempt(db.Model):  # type: ignore[name-defined]
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column()
    # what happened, without personal data: "HTTP 500", "timed out", "refused: private address", "sent"
    outcome: Mapped[str] = mapped_column(String(200))
    duration_ms: Mapped[int | None] = mapped_column()


class WebhookSecret(db.Model):  # type: ignore[name-defined]
    """A target's Standard Webhooks secret, sealed with the data key (shown once, when made)."""

    __tablename__ = "webhook_secrets"

    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
