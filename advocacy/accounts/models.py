from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from advocacy.accounts.roles import Principal, Role
from advocacy.crypto import Sealed, new_seal_id
from advocacy.dbtypes import UTCDateTime, utcnow
from advocacy.extensions import db


class User(db.Model):  # type: ignore[name-defined]
    """An organiser, admin or liaison. The email address and name are personal data: sealed at rest, found
    through a blind index of the lower-cased address."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    seal_id: Mapped[str] = mapped_column(String(32), default=new_seal_id)
    _email: Mapped[bytes | None] = mapped_column("email", LargeBinary)
    _name: Mapped[bytes | None] = mapped_column("name", LargeBinary)
    email_index: Mapped[str] = mapped_column(String(64), unique=True)
    # argon2id; None until the invitation has been accepted
    password_hash: Mapped[str | None] = mapped_column(String(200))
    _totp_secret: Mapped[bytes | None] = mapped_column("totp_secret", LargeBinary)
    # the last RFC 6238 time step a code was accepted for: a code is refused once it has been used
    totp_last_step: Mapped[int | None] = mapped_column()
    # both factors set up: the account can log in
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # part of the id kept in the session cookie: bumping it (a new password or second factor, disabling)
    # ends every session of the account
    session_epoch: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    email = Sealed("email")
    name = Sealed("name")
    totp_secret = Sealed("totp_secret")

    grants: Mapped[list[Grant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Grant.id", lazy="selectin"
    )

    # --- what Flask-Login asks of a user object
    @property
    def is_active(self) -> bool:
        return self.disabled_at is None and self.enrolled_at is not None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The session carries id and epoch: a session from before the epoch was bumped no longer loads."""
        return f"{self.id}:{self.session_epoch}"

    def principal(self) -> Principal:
        return Principal(
            user_id=self.id,
            is_admin=any(grant.role == Role.ADMIN for grant in self.grants),
            campaign_ids=frozenset(
                grant.campaign_id for grant in self.grants
                if grant.role == Role.ORGANISER and grant.campaign_id is not None
            ),
            target_ids=frozenset(
                grant.target_id for grant in self.grants
                if grant.role == Role.LIAISON and grant.target_id is not None
            ),
        )


class Grant(db.Model):  # type: ignore[name-defined]
    """One role an account holds: admin (no object), organiser of a campaign, or liaison of a target."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role", "campaign_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=12, values_callable=lambda e: [m.value for m in e])
    )
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants")



class Invitation(db.Model):  # type: ignore[name-defined]
    """A one-time link to set the password and enrol the second factor.

    The link is an itsdangerous token over (id, nonce): the database holds no token, and a new invitation
    for the same account voids the older unused ones (their ``expires_at`` is moved to the moment of voiding).
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(64))
    # None: the operator at the command line
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RecoveryCode(db.Model):  # type: ignore[name-defined]
    """One of the ten single-use codes that stand in for the authenticator; only its keyed hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(db.Model):  # type: ignore[name-defined]
    """Failed logins counted per account or per client address, known only by a keyed hash of either."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginOutcome(enum.StrEnum):
    OK = "ok"
    BAD_PASSWORD = "bad_password"  # noqa: S105 - an outcome, not a password
    UNKNOWN = "unknown"  # no account with that address
    BAD_CODE = "bad_code"
    REPLAYED_CODE = "replayed_code"
    RECOVERY_CODE = "recovery_code"  # logged in with a recovery code
    THROTTLED = "throttled"
    DISABLED = "disabled"
    NOT_ENROLLED = "not_enrolled"


class LoginAttempt(db.Model):  # type: ignore[name-defined]
    """A login step and how it ended. Never an address or an email: only the keyed hash used for throttling."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    outcome: Mapped[LoginOutcome] = mapped_column(
        Enum(LoginOutcome, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
