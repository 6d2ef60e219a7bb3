"""Updates to signers: news an organiser writes (or a milestone the system notices), and one delivery row per
recipient, claimed before the mail is sent so that nobody ever gets the same update twice."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from advocacy.dbtypes import UTCDateTime, utcnow
from advocacy.extensions import db


class UpdateStatus(enum.StrEnum):
    """draft → submitted → approved → sending → sent, or submitted → rejected (edited and submitted again)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"  # waiting for the worker's first batch
    SENDING = "sending"
    SENT = "sent"
    REJECTED = "rejected"


class UpdateKind(enum.StrEnum):
    MANUAL = "manual"  # written by an organiser, approved by another
    MILESTONE = "milestone"  # the system's, when a goal is reached, from translated templates


class Update(db.Model):  # type: ignore[name-defined]
    __tablename__ = "updates"
    # one update per milestone of a petition (NULL for organisers' updates never collides)
    __table_args__ = (UniqueConstraint("petition_id", "milestone"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[UpdateKind] = mapped_column(
        Enum(UpdateKind, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        default=UpdateKind.MANUAL)
    # "goal:<n>" or "country:<CC>:<n>" for a milestone update
    milestone: Mapped[str | None] = mapped_column(String(40))
    # per locale: a one-line subject and a Markdown body (empty for milestones: their text is a template)
    subject: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[UpdateStatus] = mapped_column(
        Enum(UpdateStatus, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        default=UpdateStatus.DRAFT)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # fixed when sending starts: the recipients are the petition's signatures up to this id that qualify then
    # and when their turn comes; the cursor is the last signature id handed out (keyset pagination)
    last_signature_id: Mapped[int | None] = mapped_column()
    cursor: Mapped[int] = mapped_column(default=0, server_default="0")
    recipients_total: Mapped[int | None] = mapped_column()
    # no batch starts before this (the rate limit: one batch per minute)
    next_batch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class UpdateDelivery(db.Model):  # type: ignore[name-defined]
    """One recipient of one update, written and committed BEFORE the mail is sent (at most once).

    ``sent_at`` is set once the mail server took it; ``failure`` says why it was not; a row with neither was
    claimed by a worker that stopped before it knew (it is never sent again).
    """

    __tablename__ = "update_deliveries"
    __table_args__ = (UniqueConstraint("update_id", "signature_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"))
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(8))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure: Mapped[str | None] = mapped_column(String(40))
