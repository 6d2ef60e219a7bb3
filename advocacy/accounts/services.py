"""Accounts and their roles: plain arguments in, models out; callers commit.

Passwords are argon2id hashes (argon2-cffi), the second factor is RFC 6238 TOTP (pyotp) with ten single-use
recovery codes, and invitations are itsdangerous tokens over (invitation id, nonce). Failed logins are
counted per account and per client address under keyed hashes, never the address or the email itself.
"""

from __future__ import annotations

import hmac
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from advocacy.accounts.models import (
    Grant,
    Invitation,
    LoginAttempt,
    LoginOutcome,
    LoginThrottle,
    RecoveryCode,
    User,
)
from advocacy.accounts.roles import Forbidden, Principal, Role, require_admin, require_organiser
from advocacy.audit.services import record
from advocacy.crypto import keyring
from advocacy.dbtypes import utcnow
from advocacy.extensions import db

PASSWORD_MIN = 12
PASSWORD_MAX = 1024
EMAIL_MAX = 254
INVITATION_LIFETIME = timedelta(hours=72)
INVITATION_SALT = "invitation"
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
RECOVERY_GROUPS = 3  # xxxx-xxxx-xxxx: about 59 bits each
# throttling: from the fifth failure a delay of 2**(n-4) seconds, at most 15 minutes; failures older than a
# day are forgotten, so nobody is ever locked out for good
THROTTLE_FROM = 5
THROTTLE_CAP = timedelta(minutes=15)
THROTTLE_MEMORY = timedelta(days=1)
KEEP_LOGIN_ATTEMPTS = timedelta(days=90)
SEND_INVITATION_ACTOR = "accounts.send_invitation"

_hasher = PasswordHasher()  # argon2id with argon2-cffi's default (RFC 9106 low-memory) parameters
_dummy_hash: dict[str, str] = {}


class AccountError(ValueError):
    """A request the service refuses, with a message for the person (no account detail leaks through it)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class BadCredentials(AccountError):
    """Unknown email or wrong password: one message for both."""

    def __init__(self) -> None:
        super().__init__(_("The email address or the password is wrong."))


class BadCode(AccountError):
    def __init__(self, message: str | None = None, *, replayed: bool = False) -> None:
        self.replayed = replayed
        super().__init__(message or _("The code is wrong or has been used. Enter the current code from your "
                                      "authenticator app, or one of your recovery codes."))


class Throttled(AccountError):
    def __init__(self, until: datetime) -> None:
        self.until = until
        seconds = max(1, int((until - utcnow()).total_seconds() + 0.999))
        super().__init__(_("Too many failed attempts. Try again in %(seconds)s seconds (at %(time)s).",
                           seconds=seconds, time=format_datetime(until, "HH:mm:ss")))


class AccountNotReady(AccountError):
    """The password was right, but the account cannot log in (disabled, or enrolment never finished)."""


class InvitationInvalid(Exception):
    """Not a link we made (or altered): 404."""


class InvitationGone(Exception):
    """Expired, used or replaced by a newer invitation: 410."""


class UserNotFound(LookupError):
    pass


# --- addresses ---------------------------------------------------------------------------------------------


def normalize_email(address: str) -> str:
    return address.strip().lower()


def email_index(address: str) -> str:
    """The blind index an account is found by: its lower-cased address under the blind-index key."""
    return keyring().blind_index(normalize_email(address), purpose="account-email")


def find_user(address: str) -> User | None:
    return db.session.scalars(select(User).where(User.email_index == email_index(address))).first()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise UserNotFound(user_id)
    return user


def clean_email(address: str) -> str:
    address = (address or "").strip()
    if not address or len(address) > EMAIL_MAX:
        raise AccountError(_("Enter a valid email address."))
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise AccountError(_("Enter a valid email address.")) from exc


# --- passwords ---------------------------------------------------------------------------------------------


def _normalize_password(password: str) -> str:
    # NIST SP 800-63B: all printing characters and spaces allowed, Unicode normalised before hashing
    return unicodedata.normalize("NFKC", password)


def check_new_password(password: str, *, email: str | None = None) -> str:
    """At least 12 and at most 1024 characters, no composition rules, not the email address itself."""
    password = _normalize_password(password or "")
    if len(password) < PASSWORD_MIN:
        raise AccountError(_("The password needs at least %(min)s characters.", min=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise AccountError(_("The password may have at most %(max)s characters.", max=PASSWORD_MAX))
    if email and password.strip().lower() == normalize_email(email):
        raise AccountError(_("The password must not be your email address."))
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(_normalize_password(password))


def _dummy() -> str:
    if "hash" not in _dummy_hash:
        _dummy_hash["hash"] = _hasher.hash(secrets.token_urlsafe(24))
    return _dummy_hash["hash"]


def _password_matches(user: User | None, password: str) -> bool:
    """One argon2 verification whether or not the account exists, so both answers take comparable time."""
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        _hasher.verify(stored or _dummy(), _normalize_password(password or ""))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if stored is None or user is None:
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    return True


def verify_password(email: str, password: str) -> User:
    """The account whose password this is; :class:`BadCredentials` (one message) for an unknown email or a
    wrong password, :class:`AccountNotReady` only after the right password."""
    user = find_user(email) if email and len(email) <= EMAIL_MAX else None
    if not _password_matches(user, password) or user is None:
        raise BadCredentials()
    if user.disabled_at is not None:
        raise AccountNotReady(_("This account is disabled. Ask your admin if you need it again."))
    if user.enrolled_at is None or user.totp_secret is None:
        raise AccountNotReady(_("This account is not set up yet. Ask your admin for a new invitation."))
    return user


def change_password(user_id: int, old: str, new: str) -> User:
    """A new password; the account's other sessions end (the caller starts the current one again)."""
    user = get_user(user_id)
    if not _password_matches(user, old):
        raise AccountError(_("The current password is wrong."))
    user.password_hash = hash_password(check_new_password(new, email=user.email))
    user.session_epoch += 1
    record("password.changed", actor=Principal(user.id), object_type="user", object_id=user.id)
    db.session.flush()
    return user


# --- second factor -----------------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    from advocacy.petitions.services import site_name

    return pyotp.TOTP(secret).provisioning_uri(name=user.email or str(user.id), issuer_name=site_name())


def qr_svg(uri: str, *, title: str) -> Markup:
    """The QR code as inline SVG markup, drawn here: no external service, nothing from another origin."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=title, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own markup; the title is escaped by segno


def _totp_step(secret: str, code: str, at: datetime | None = None) -> int | None:
    """The RFC 6238 time step (±1) this code belongs to, or None."""
    totp = pyotp.TOTP(secret)
    moment = at or utcnow()
    if not totp.verify(code, for_time=moment, valid_window=1):
        return None
    # which of the three steps it was: the one remembered so that the code is refused once used
    current = totp.timecode(moment)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _is_totp_code(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


def _clean_code(code: str) -> str:
    return "".join((code or "").split()).lower()


def verify_second_factor(user: User, code: str) -> LoginOutcome:
    """A current TOTP code not used before (OK) or an unused recovery code (RECOVERY_CODE); :class:`BadCode`
    otherwise. The accepted step, or the recovery code, cannot be used again."""
    code = _clean_code(code)
    secret = user.totp_secret
    if _is_totp_code(code) and secret:
        step = _totp_step(secret, code)
        if step is None:
            raise BadCode()
        if user.totp_last_step is not None and step <= user.totp_last_step:
            raise BadCode(_("This code has been used already. Wait for the next one."), replayed=True)
        user.totp_last_step = step
        db.session.flush()
        return LoginOutcome.OK
    if _use_recovery_code(user, code):
        return LoginOutcome.RECOVERY_CODE
    raise BadCode()


def _recovery_hash(user_id: int, code: str) -> str:
    plain = code.replace("-", "")
    return keyring().blind_index(f"{user_id}:{plain}", purpose="account-recovery-code")


def _new_recovery_code() -> str:
    return "-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4)) for _ in range(RECOVERY_GROUPS))


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh codes replace the old ones; they are returned once and stored only as keyed hashes."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, code)) for code in codes)
    db.session.flush()
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    if not code or len(code) > 40:
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_hash(user.id, code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return bool(used.rowcount)  # type: ignore[attr-defined]


def recovery_codes_left(user_id: int) -> int:
    return len(db.session.scalars(
        select(RecoveryCode.id).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    ).all())


def enrol_second_factor(user_id: int, secret: str, code: str) -> list[str]:
    """Confirm a new authenticator with a code it shows: the secret is kept (sealed), ten recovery codes are
    made and returned once. Replacing an existing second factor ends the account's other sessions."""
    user = get_user(user_id)
    if user.disabled_at is not None or user.password_hash is None:
        raise AccountError(_("This account cannot be set up. Ask your admin for a new invitation."))
    code = _clean_code(code)
    step = _totp_step(secret, code) if _is_totp_code(code) else None
    if step is None:
        raise BadCode(_("The code does not match. Check the time on your phone and enter the current code."))
    replacing = user.enrolled_at is not None
    user.totp_secret = secret
    user.totp_last_step = step
    if replacing:
        user.session_epoch += 1
    else:
        user.enrolled_at = utcnow()
    db.session.flush()
    return new_recovery_codes(user)


def reset_second_factor(user_id: int, *, password: str, code: str, new_secret: str, new_code: str) -> list[str]:
    """Move to a new authenticator: needs the current password and a current code (or a recovery code), and
    a code from the new one. The account's other sessions end."""
    user = get_user(user_id)
    if not _password_matches(user, password):
        raise AccountError(_("The current password is wrong."))
    verify_second_factor(user, code)
    codes = enrol_second_factor(user_id, new_secret, new_code)
    record("second_factor.reset", actor=Principal(user.id), object_type="user", object_id=user.id)
    return codes


# --- throttling and the login record -----------------------------------------------------------------------


def throttle_key(kind: str, value: str) -> str:
    """``account:<email index>`` or ``address:<client address>``, under the blind-index key (own purpose)."""
    return keyring().blind_index(f"{kind}:{value}", purpose="login-throttle")


def login_keys(email: str, address: str | None) -> tuple[str, ...]:
    keys = [throttle_key("account", email_index(email or ""))]
    if address:
        keys.append(throttle_key("address", address))
    return tuple(keys)


def user_keys(user: User, address: str | None) -> tuple[str, ...]:
    keys = [throttle_key("account", user.email_index)]
    if address:
        keys.append(throttle_key("address", address))
    return tuple(keys)


def check_throttle(keys: tuple[str, ...]) -> None:
    """Refuse while any of the keys is in its delay."""
    now = utcnow()
    rows = db.session.scalars(select(LoginThrottle).where(LoginThrottle.key_hash.in_(keys))).all()
    blocked = [row.blocked_until for row in rows if row.blocked_until is not None and row.blocked_until > now]
    if blocked:
        raise Throttled(max(blocked))


def delay_after(failures: int) -> timedelta:
    if failures < THROTTLE_FROM:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - THROTTLE_FROM + 1, 20)), THROTTLE_CAP)


def register_failure(keys: tuple[str, ...]) -> None:
    now = utcnow()
    for key in keys:
        row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.key_hash == key))
        if row is None:
            try:
                with db.session.begin_nested():  # another request may create the same row meanwhile
                    row = LoginThrottle(key_hash=key, failures=0)
                    db.session.add(row)
            except IntegrityError:  # the unique key was taken: count on the other request's row
                row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.key_hash == key))
                if row is None:
                    raise
        if row.last_failure_at is not None and now - row.last_failure_at > THROTTLE_MEMORY:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        delay = delay_after(row.failures)
        row.blocked_until = now + delay if delay else None
    db.session.flush()


def reset_throttle(keys: tuple[str, ...]) -> None:
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key_hash.in_(keys)))


def record_attempt(outcome: LoginOutcome, key_hash: str, user_id: int | None = None) -> None:
    """The attempt (for throttling and its own record) and its audit entry, in the caller's transaction: a
    failure is committed by the view on purpose, with both."""
    db.session.add(LoginAttempt(outcome=outcome, key_hash=key_hash, user_id=user_id))
    ok = outcome in (LoginOutcome.OK, LoginOutcome.RECOVERY_CODE)
    record("login.ok" if ok else "login.failed", actor=Principal(user_id) if ok else None,
           object_type="user" if user_id is not None else None, object_id=user_id, outcome=outcome.value)
    db.session.flush()


def purge_login_records() -> int:
    """Old login attempts and idle throttle rows go (a periodic job)."""
    now = utcnow()
    removed = db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_LOGIN_ATTEMPTS))
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - THROTTLE_MEMORY))
    return int(removed.rowcount)  # type: ignore[attr-defined]


def login_password_step(email: str, password: str, *, address: str | None) -> User:
    """The first factor, throttled per account and per address; every outcome is recorded (keyed hashes)."""
    keys = login_keys(email, address)
    try:
        check_throttle(keys)
    except Throttled:
        record_attempt(LoginOutcome.THROTTLED, keys[0])
        raise
    try:
        user = verify_password(email, password)
    except BadCredentials:
        known = find_user(email) if email and len(email) <= EMAIL_MAX else None
        register_failure(keys)
        record_attempt(LoginOutcome.BAD_PASSWORD if known else LoginOutcome.UNKNOWN, keys[0],
                       known.id if known else None)
        raise
    except AccountNotReady:
        found = find_user(email)
        outcome = LoginOutcome.DISABLED if found and found.disabled_at else LoginOutcome.NOT_ENROLLED
        record_attempt(outcome, keys[0], found.id if found else None)
        raise
    return user


def login_code_step(user_id: int, code: str, *, address: str | None) -> tuple[User, LoginOutcome]:
    """The second factor after the password: the same throttling; success clears the failures."""
    user = get_user(user_id)
    if not user.is_active:
        raise AccountNotReady(_("This account is disabled. Ask your admin if you need it again."))
    keys = user_keys(user, address)
    try:
        check_throttle(keys)
    except Throttled:
        record_attempt(LoginOutcome.THROTTLED, keys[0], user.id)
        raise
    try:
        outcome = verify_second_factor(user, code)
    except BadCode as exc:
        register_failure(keys)
        record_attempt(LoginOutcome.REPLAYED_CODE if exc.replayed else LoginOutcome.BAD_CODE, keys[0], user.id)
        raise
    reset_throttle(keys)
    record_attempt(outcome, keys[0], user.id)
    return user, outcome


# --- invitations -------------------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    keys = [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.config["SECRET_KEY"]]
    return URLSafeTimedSerializer(keys, salt=INVITATION_SALT)


def invitation_token(invitation: Invitation) -> str:
    return _serializer().dumps([invitation.id, invitation.nonce])


def read_invitation(token: str) -> Invitation:
    """The invitation a link names if it can still be used; :class:`InvitationGone` or
    :class:`InvitationInvalid` otherwise."""
    try:
        value: Any = _serializer().loads(token, max_age=int(INVITATION_LIFETIME.total_seconds()))
    except SignatureExpired as exc:
        raise InvitationGone() from exc
    except BadSignature as exc:
        raise InvitationInvalid() from exc
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)
            and isinstance(value[1], str)):
        raise InvitationInvalid()
    invitation = db.session.get(Invitation, value[0])
    if invitation is None or not hmac.compare_digest(invitation.nonce, value[1]):
        raise InvitationInvalid()
    if invitation.used_at is not None or invitation.expires_at <= utcnow():
        raise InvitationGone()
    if invitation.user.disabled_at is not None:
        raise InvitationGone()
    return invitation


def _new_invitation(user: User, actor: Principal) -> Invitation:
    now = utcnow()
    # a new invitation voids the older unused ones
    db.session.execute(
        update(Invitation)
        .where(Invitation.user_id == user.id, Invitation.used_at.is_(None), Invitation.expires_at > now)
        .values(expires_at=now)
    )
    invitation = Invitation(user_id=user.id, nonce=secrets.token_urlsafe(24), created_by_user_id=actor.user_id,
                            created_at=now, expires_at=now + INVITATION_LIFETIME)
    db.session.add(invitation)
    db.session.flush()
    return invitation


def _resolve_scope(role: Role, campaign_id: int | None, target_id: int | None) -> tuple[int | None, int | None]:
    from advocacy.petitions.models import Campaign, Target

    if role == Role.ADMIN:
        return None, None
    if role == Role.ORGANISER:
        if campaign_id is None or db.session.get(Campaign, campaign_id) is None:
            raise AccountError(_("Choose the campaign the organiser will run."))
        return campaign_id, None
    if target_id is None or db.session.get(Target, target_id) is None:
        raise AccountError(_("Choose the institution the liaison belongs to."))
    return None, target_id


def _require_may_grant(actor: Principal, role: Role, campaign_id: int | None) -> None:
    if role == Role.ORGANISER:
        require_organiser(actor, campaign_id)
    else:
        require_admin(actor)


def invite(email: str, *, role: Role | str, campaign_id: int | None = None, target_id: int | None = None,
           actor: Principal, locale: str = "en") -> tuple[User, Invitation | None]:
    """Give ``email`` a role, creating the account if it is new, and email it through the outbox.

    Admins invite anyone; organisers invite organisers to campaigns they organise. An account that has not
    finished its set-up gets a new invitation (older ones are void); an account already in use gets the role
    and an email saying so (no link that could reset it).
    """
    from advocacy.outbox.services import enqueue

    role = Role(role)
    campaign_id, target_id = _resolve_scope(role, campaign_id, target_id)
    _require_may_grant(actor, role, campaign_id)
    address = clean_email(email)
    user = find_user(address)
    if user is None:
        user = User(email=address, email_index=email_index(address))
        db.session.add(user)
        db.session.flush()
    elif user.disabled_at is not None:
        if not actor.is_admin:
            raise Forbidden(_("This account is disabled. Ask an admin."))
        # an admin invites a disabled account back: it starts again from a new password and second factor
        user.disabled_at = None
        user.enrolled_at = None
        user.password_hash = None
        user.totp_secret = None
        user.totp_last_step = None
        user.session_epoch += 1
    grant = add_grant(user, role, campaign_id=campaign_id, target_id=target_id)
    invitation: Invitation | None = None
    if user.enrolled_at is None:
        user.password_hash = None  # the new link sets it
        invitation = _new_invitation(user, actor)
    enqueue(SEND_INVITATION_ACTOR, user.id, invitation.id if invitation else None, grant.id, locale)
    record("invitation.sent", actor=actor, object_type="user", object_id=user.id, role=role.value,
           campaign_id=campaign_id, target_id=target_id, grant_id=grant.id, with_link=invitation is not None)
    db.session.flush()
    return user, invitation


def create_admin(email: str, password: str, *, actor: Principal) -> tuple[User, str]:
    """The first admin, from the command line: the password is set; the returned one-time link (72 hours)
    asks for it again and enrols the second factor, so the account logs in with both."""
    if not actor.is_system:
        raise Forbidden()
    address = clean_email(email)
    if find_user(address) is not None:
        raise AccountError(_("An account with this email address exists already."))
    user = User(email=address, email_index=email_index(address))
    db.session.add(user)
    db.session.flush()
    add_grant(user, Role.ADMIN)
    user.password_hash = hash_password(check_new_password(password, email=address))
    invitation = _new_invitation(user, actor)
    record("role.granted", actor=actor, object_type="user", object_id=user.id, role=Role.ADMIN.value)
    return user, invitation_token(invitation)


def enrolment_link(user_id: int, *, actor: Principal) -> str:
    """A new one-time set-up link for an account that is not enrolled (the command line)."""
    require_admin(actor)
    user = get_user(user_id)
    if user.enrolled_at is not None:
        raise AccountError(_("This account is set up already."))
    return invitation_token(_new_invitation(user, actor))


def invitation_needs_new_password(invitation: Invitation) -> bool:
    """True: the link sets the password. False: it was set at the command line and is asked for again."""
    return invitation.user.password_hash is None


def accept_invitation(token: str, password: str) -> User:
    """Spend the link: set the password (or check the one set at the command line). The second factor is
    enrolled next with :func:`enrol_second_factor`; the account cannot log in before that."""
    invitation = read_invitation(token)
    user = invitation.user
    if user.password_hash is None:
        user.password_hash = hash_password(check_new_password(password, email=user.email))
    elif not _password_matches(user, password):
        raise AccountError(_("The password is wrong. Enter the password given when the account was created."))
    invitation.used_at = utcnow()
    record("invitation.accepted", actor=Principal(user.id), object_type="user", object_id=user.id)
    db.session.flush()
    return user


# --- roles and the list ------------------------------------------------------------------------------------


def add_grant(user: User, role: Role, *, campaign_id: int | None = None, target_id: int | None = None) -> Grant:
    """Give ``user`` a role (an organiser names a campaign, a liaison a target); an existing one is kept."""
    for grant in user.grants:
        if (grant.role, grant.campaign_id, grant.target_id) == (role, campaign_id, target_id):
            return grant
    grant = Grant(role=role, campaign_id=campaign_id, target_id=target_id)
    user.grants.append(grant)
    db.session.flush()
    return grant


def grant_role(user_id: int, role: Role | str, *, campaign_id: int | None = None, target_id: int | None = None,
               actor: Principal) -> Grant:
    require_admin(actor)
    role = Role(role)
    campaign_id, target_id = _resolve_scope(role, campaign_id, target_id)
    grant = add_grant(get_user(user_id), role, campaign_id=campaign_id, target_id=target_id)
    record("role.granted", actor=actor, object_type="user", object_id=user_id, role=role.value,
           campaign_id=campaign_id, target_id=target_id, grant_id=grant.id)
    return grant


def revoke_role(grant_id: int, *, actor: Principal, user_id: int | None = None) -> None:
    require_admin(actor)
    grant = db.session.get(Grant, grant_id)
    if grant is None or (user_id is not None and grant.user_id != user_id):
        raise UserNotFound(grant_id)
    if grant.role == Role.ADMIN and grant.user_id == actor.user_id:
        raise AccountError(_("You cannot remove your own admin role."))
    record("role.revoked", actor=actor, object_type="user", object_id=grant.user_id, role=str(grant.role),
           campaign_id=grant.campaign_id, target_id=grant.target_id, grant_id=grant.id)
    db.session.delete(grant)
    db.session.flush()


def disable(email_or_id: str | int, *, actor: Principal) -> User:
    """The account can no longer log in and its sessions end at once."""
    require_admin(actor)
    if isinstance(email_or_id, int):
        user = get_user(email_or_id)
    else:
        found = find_user(email_or_id)
        if found is None:
            raise UserNotFound(email_or_id)
        user = found
    if user.id == actor.user_id:
        raise AccountError(_("You cannot disable your own account."))
    if user.disabled_at is None:
        user.disabled_at = utcnow()
        user.session_epoch += 1
        db.session.execute(
            update(Invitation).where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
            .values(expires_at=utcnow())
        )
        record("account.disabled", actor=actor, object_type="user", object_id=user.id)
    db.session.flush()
    return user


def list_users(*, actor: Principal) -> list[User]:
    require_admin(actor)
    users = list(db.session.scalars(select(User)))
    return sorted(users, key=lambda user: (user.email or "").lower())


def user_state(user: User) -> str:
    if user.disabled_at is not None:
        return "disabled"
    if user.enrolled_at is not None:
        return "active"
    return "invited"
