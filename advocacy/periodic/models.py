from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from advocacy.dbtypes import UTCDateTime
from advocacy.extensions import db


class PeriodicJob(db.Model):  # type: ignore[name-defined]
    """One row per periodic job: whoever moves ``next_run_at`` forward first runs the job for that period."""

    __tablename__ = "periodic_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(default=0)
