"""What the dashboard reads instead of scanning signatures: signatures per petition and hour (signed by
``created_at``, confirmed by ``confirmed_at``), a per-petition snapshot of counts by state, and how far the
rollup job got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from advocacy.dbtypes import UTCDateTime
from advocacy.extensions import db
from advocacy.signatures.models import Signature


class HourlyCount(db.Model):  # type: ignore[name-defined]
    """Signatures of one petition in one UTC hour: made then (``signed``) and confirmed then (``confirmed``)."""

    __tablename__ = "dashboard_hours"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    signed: Mapped[int] = mapped_column(default=0)
    confirmed: Mapped[int] = mapped_column(default=0)


class StateSnapshot(db.Model):  # type: ignore[name-defined]
    """A petition's signatures by state when the job last looked; ``suspect`` are pending or confirmed ones
    held back by the fraud signals, and are not in ``pending`` or ``confirmed``."""

    __tablename__ = "dashboard_snapshots"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    pending: Mapped[int] = mapped_column(default=0)
    confirmed: Mapped[int] = mapped_column(default=0)
    withdrawn: Mapped[int] = mapped_column(default=0)
    invalidated: Mapped[int] = mapped_column(default=0)
    suspect: Mapped[int] = mapped_column(default=0)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RollupProgress(db.Model):  # type: ignore[name-defined]
    """One row per rollup: the moment up to which it has counted (the next run starts a margin before)."""

    __tablename__ = "dashboard_progress"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    counted_to: Mapped[datetime] = mapped_column(UTCDateTime)


_signatures = Signature.__table__
# the incremental rollup finds recent confirmations without reading the whole table
Index("ix_signatures_confirmed_at", _signatures.c.confirmed_at)
# the snapshot counts states from (petition_id, state, country) alone, and the few suspect ones from this
Index("ix_signatures_petition_suspect", _signatures.c.petition_id, _signatures.c.state,
      postgresql_where=_signatures.c.suspect, sqlite_where=_signatures.c.suspect)
