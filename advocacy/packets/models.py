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
