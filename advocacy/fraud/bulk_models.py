"""Bulk actions on a petition's signatures (issue 9): one row per action, and one item per signature it changed,
with the state and suspect flag the signature had before, so an invalidation can be undone exactly."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from advocacy.dbtypes import UTCDateTime, utcnow
from advocacy.extensions import db
from advocacy.signatures.models import SignatureState


class BulkKind(enum.StrEnum):
    INVALIDATE = "invalidate"
    CLEAR_SUSPECT = "clear_suspect"
    RESTORE = "restore"      # undoes an invalidation (``undoes_id``)


class BulkStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def _enum(cls: type[enum.StrEnum], length: int) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class BulkAction(db.Model):  # type: ignore[name-defined]
    __tablename__ = "bulk_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), index=True)
    action: Mapped[BulkKind] = mapped_column(_enum(BulkKind, 16))
    # the selection as SignatureFilter.to_args() wrote it (hashes, country, window, state: no personal data)
    filter: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(String(200))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("bulk_actions.id"))
    status: Mapped[BulkStatus] = mapped_column(_enum(BulkStatus, 10), default=BulkStatus.QUEUED)
    matched: Mapped[int] = mapped_column(default=0)     # signatures the selection held when the action started
    processed: Mapped[int] = mapped_column(default=0)   # signatures changed so far
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BulkActionItem(db.Model):  # type: ignore[name-defined]
    """One signature changed by one action, and what it was before."""

    __tablename__ = "bulk_action_items"

    bulk_action_id: Mapped[int] = mapped_column(ForeignKey("bulk_actions.id", ondelete="CASCADE"),
                                                primary_key=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"), primary_key=True)
    previous_state: Mapped[SignatureState] = mapped_column(_enum(SignatureState, 12))
    previous_suspect: Mapped[bool] = mapped_column()
