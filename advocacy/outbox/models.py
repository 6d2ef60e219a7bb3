from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from advocacy.dbtypes import UTCDateTime, utcnow
from advocacy.extensions import db


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    """Work that leaves the system, written in the same transaction as the change that caused it.

    Holds an actor name and ids only, never personal data.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_done_at_dispatched_at", "done_at", "dispatched_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_name: Mapped[str] = mapped_column(String(100))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatch_count: Mapped[int] = mapped_column(default=0)
    # set when handing the row to the broker failed: the relay sends it at its next pass
    needs_dispatch: Mapped[bool] = mapped_column(default=False, server_default=false())
    # the message that may run this row until lease_until: one at a time, and its own retries
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the last failed attempt, whether or not it is retried: what failed (never an address) and when
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the last failure was our own (SMTP login, sender or relay refused, server unreachable), not the recipient's
    system_error: Mapped[bool] = mapped_column(default=False, server_default=false())
