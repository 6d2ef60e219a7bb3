from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from advocacy.extensions import db

SHARDS = 16


class TallyShard(db.Model):  # type: ignore[name-defined]
    """Confirmed signatures per petition and country, split over shards so confirmations do not queue on one row.

    The count for a country is the sum of its shards; the reconciliation job rebuilds it from signatures.
    """

    __tablename__ = "tally_shards"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    shard: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
