from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy.crypto import Sealed, new_seal_id
from advocacy.dbtypes import UTCDateTime, utcnow
from advocacy.extensions import db
from advocacy.petitions.models import Petition


class SignatureState(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    INVALIDATED = "invalidated"
    WITHDRAWN = "withdrawn"


class Signature(db.Model):  # type: ignore[name-defined]
    """One person's support. Name, email and postcode are sealed at rest; country stays clear for tallies."""

    __tablename__ = "signatures"
    __table_args__ = (
        UniqueConstraint("petition_id", "email_index"),
        Index("ix_signatures_petition_state_country", "petition_id", "state", "country"),
        Index("ix_signatures_state_created_at", "state", "created_at"),
        # fraud signals: recent signatures of one petition from the same address, network or email domain
        Index("ix_signatures_petition_ip_created", "petition_id", "ip_hash", "created_at"),
        Index("ix_signatures_petition_network_created", "petition_id", "network_hash", "created_at"),
        Index("ix_signatures_petition_domain_created", "petition_id", "domain_hash", "created_at"),
        Index("ix_signatures_petition_created_at", "petition_id", "created_at"),
        # ids travel in tokens and queued jobs: SQLite must never hand a deleted id to a new signature
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id"))
    state: Mapped[SignatureState] = mapped_column(
        Enum(SignatureState, native_enum=False, length=12, values_callable=lambda e: [m.value for m in e]),
        default=SignatureState.PENDING,
    )
    # random, fixed when the object is made (before its id exists): sealed values are bound to it
    seal_id: Mapped[str] = mapped_column(String(32), default=new_seal_id)
    # ciphertexts; read and write them through the Sealed attributes full_name, email and postcode below
    _full_name: Mapped[bytes | None] = mapped_column("full_name", LargeBinary)
    _email: Mapped[bytes | None] = mapped_column("email", LargeBinary)
    # HMAC of the canonical email under the blind-index key: finds duplicates without revealing the address.
    # Cleared on withdrawal (NULLs never collide in the unique constraint).
    email_index: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    _postcode: Mapped[bytes | None] = mapped_column("postcode", LargeBinary)
    locale: Mapped[str] = mapped_column(String(8))
    consent_share_name: Mapped[bool] = mapped_column(default=False)
    opt_in_news: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalidated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalidation_reason: Mapped[str | None] = mapped_column(String(200))
    # Fraud signals, never raw: HMACs keyed per petition (purposes "fraud-ip:<petition id>" and so on) of the
    # client address, its /24 (IPv4) or /48 (IPv6) network and the email's domain; the domain itself is
    # also sealed, to be shown to organisers (a domain is not personal). Erased with the personal data.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    network_hash: Mapped[str | None] = mapped_column(String(64))
    domain_hash: Mapped[str | None] = mapped_column(String(64))
    _email_domain: Mapped[bytes | None] = mapped_column("email_domain", LargeBinary)
    # quietly held back: above a petition's thresholds. A suspect signature is accepted and emailed as usual
    # but counts in the tally only after an organiser clears it; suspect_reason says which signal tripped.
    suspect: Mapped[bool] = mapped_column(default=False, server_default=false())
    suspect_reason: Mapped[str | None] = mapped_column(String(20))
    # how many emails this signature has caused in the current window, to cap re-sends
    emails_sent: Mapped[int] = mapped_column(default=0)
    email_window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    petition: Mapped[Petition] = relationship()

    full_name = Sealed("full_name")
    email = Sealed("email")
    postcode = Sealed("postcode")
    email_domain = Sealed("email_domain")

    def __init__(self, **kwargs: Any) -> None:
        # the seal id first: the sealed values given here are bound to it
        super().__init__(seal_id=kwargs.pop("seal_id", None) or new_seal_id(), **kwargs)
