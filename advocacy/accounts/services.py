"""Accounts and their roles: plain arguments in, models out; callers commit."""

from __future__ import annotations

from sqlalchemy import select

from advocacy.accounts.models import Grant, User
from advocacy.accounts.roles import Role
from advocacy.crypto import keyring
from advocacy.extensions import db


def normalize_email(address: str) -> str:
    return address.strip().lower()


def email_index(address: str) -> str:
    """The blind index an account is found by: its lower-cased address under the blind-index key."""
    return keyring().blind_index(normalize_email(address), purpose="account-email")


def find_user(address: str) -> User | None:
    return db.session.scalars(select(User).where(User.email_index == email_index(address))).first()


def add_grant(user: User, role: Role, *, campaign_id: int | None = None, target_id: int | None = None) -> Grant:
    """Give ``user`` a role (an organiser names a campaign, a liaison a target); an existing one is kept."""
    for grant in user.grants:
        if (grant.role, grant.campaign_id, grant.target_id) == (role, campaign_id, target_id):
            return grant
    grant = Grant(role=role, campaign_id=campaign_id, target_id=target_id)
    user.grants.append(grant)
    db.session.flush()
    return grant
