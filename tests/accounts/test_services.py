"""Accounts services: passwords, TOTP, recovery codes, throttling, invitations and role checks."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pyotp
import pytest

from advocacy.accounts import services
from advocacy.accounts.models import Invitation, LoginThrottle, User
from advocacy.accounts.roles import SYSTEM, Forbidden, Principal, Role
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.outbox.models import OutboxMessage
from tests.accounts.conftest import PASSWORD
from tests.conftest import published_campaign_and_target


@pytest.fixture
def enrolled(ctx: None) -> tuple[User, str]:
    user, token = services.create_admin("admin@coalition.example.org", PASSWORD, actor=SYSTEM)
    services.accept_invitation(token, PASSWORD)
    secret = services.new_totp_secret()
    services.enrol_second_factor(user.id, secret, pyotp.TOTP(secret).at(time.time() - 30))
    db.session.commit()
    return user, secret


def test_password_rules(ctx: None) -> None:
    with pytest.raises(services.AccountError, match="at least 12"):
        services.check_new_password("short pass")
    with pytest.raises(services.AccountError, match="at most 1024"):
        services.check_new_password("x" * 1025)
    with pytest.raises(services.AccountError, match="email address"):
        services.check_new_password("Someone@Example.org", email="someone@example.org")
    # no composition rules: lowercase words and spaces are fine
    assert services.check_new_password("just some words") == "just some words"


def test_passwords_are_argon2id_and_rehashed_when_parameters_change(enrolled: tuple[User, str],
                                                                    monkeypatch: Any) -> None:
    user, _secret = enrolled
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    from argon2 import PasswordHasher

    monkeypatch.setattr(services, "_hasher", PasswordHasher(time_cost=4))
    assert services.verify_password(user.email or "", PASSWORD) is user
    assert "t=4" in (user.password_hash or "")


def test_same_refusal_for_unknown_email_and_wrong_password(enrolled: tuple[User, str]) -> None:
    with pytest.raises(services.BadCredentials) as unknown:
        services.verify_password("nobody@example.org", PASSWORD)
    with pytest.raises(services.BadCredentials) as wrong:
        services.verify_password("admin@coalition.example.org", "wrong password!")
    assert unknown.value.message == wrong.value.message


def test_totp_window_and_replay(enrolled: tuple[User, str]) -> None:
    user, secret = enrolled
    totp = pyotp.TOTP(secret)
    with pytest.raises(services.BadCode):
        services.verify_second_factor(user, totp.at(time.time() - 90))  # two steps back: outside ±1
    assert services.verify_second_factor(user, totp.now()) == "ok"
    with pytest.raises(services.BadCode) as replay:
        services.verify_second_factor(user, totp.now())
    assert replay.value.replayed
    assert services.verify_second_factor(user, totp.at(time.time() + 30)) == "ok"  # the next step, once


def test_recovery_codes_are_hashed_and_single_use(enrolled: tuple[User, str]) -> None:
    user, _secret = enrolled
    codes = services.new_recovery_codes(user)
    assert len(codes) == len(set(codes)) == 10
    stored = {row.code_hash for row in db.session.scalars(db.select(services.RecoveryCode))}
    assert not stored & set(codes)
    assert services.verify_second_factor(user, codes[0]) == "recovery_code"
    with pytest.raises(services.BadCode):
        services.verify_second_factor(user, codes[0])
    assert services.recovery_codes_left(user.id) == 9


def test_throttle_grows_caps_and_never_locks_for_good(ctx: None) -> None:
    assert services.delay_after(4) == timedelta(0)
    assert services.delay_after(5) == timedelta(seconds=2)
    assert services.delay_after(6) == timedelta(seconds=4)
    assert services.delay_after(40) == timedelta(minutes=15)
    keys = services.login_keys("someone@example.org", "192.0.2.1")
    for _ in range(5):
        services.register_failure(keys)
    with pytest.raises(services.Throttled, match="Try again"):
        services.check_throttle(keys)
    rows = db.session.scalars(db.select(LoginThrottle)).all()
    assert {len(row.key_hash) for row in rows} == {64}
    assert all("192.0.2.1" not in row.key_hash for row in rows)
    services.reset_throttle(keys)
    services.check_throttle(keys)


def test_invite_checks_roles_and_queues_the_email(ctx: None) -> None:
    campaign, target = published_campaign_and_target()
    person = User(email="org@example.org", email_index=services.email_index("org@example.org"))
    db.session.add(person)
    db.session.flush()
    organiser = Principal(user_id=person.id, campaign_ids=frozenset({campaign.id}))
    stranger = Principal(user_id=998, campaign_ids=frozenset({campaign.id + 1}))
    liaison = Principal(user_id=997, target_ids=frozenset({target.id}))
    user, invitation = services.invite("new@example.org", role=Role.ORGANISER, campaign_id=campaign.id,
                                       actor=SYSTEM)
    assert invitation is not None
    assert invitation.expires_at - invitation.created_at == timedelta(hours=72)
    assert [g.role for g in user.grants] == [Role.ORGANISER]
    rows = db.session.scalars(db.select(OutboxMessage)).all()
    assert [row.actor_name for row in rows] == [services.SEND_INVITATION_ACTOR]
    assert rows[0].args == [user.id, invitation.id, user.grants[0].id, "en"]  # ids only, no address
    # organisers invite organisers to their own campaigns only; nobody else invites admins or liaisons
    services.invite("second@example.org", role="organiser", campaign_id=campaign.id, actor=organiser)
    with pytest.raises(Forbidden):
        services.invite("x@example.org", role="organiser", campaign_id=campaign.id, actor=stranger)
    with pytest.raises(Forbidden):
        services.invite("x@example.org", role="admin", actor=organiser)
    with pytest.raises(Forbidden):
        services.invite("x@example.org", role="liaison", target_id=target.id, actor=liaison)
    with pytest.raises(services.AccountError):
        services.invite("x@example.org", role="organiser", campaign_id=None, actor=SYSTEM)


def test_reinvite_voids_older_links_and_links_are_single_use(ctx: None) -> None:
    campaign, _target = published_campaign_and_target()
    _user, first = services.invite("new@example.org", role="organiser", campaign_id=campaign.id, actor=SYSTEM)
    assert first is not None
    old_token = services.invitation_token(first)
    _user, second = services.invite("new@example.org", role="organiser", campaign_id=campaign.id, actor=SYSTEM)
    assert second is not None
    with pytest.raises(services.InvitationGone):
        services.read_invitation(old_token)
    token = services.invitation_token(second)
    services.accept_invitation(token, PASSWORD)
    with pytest.raises(services.InvitationGone):
        services.read_invitation(token)
    with pytest.raises(services.InvitationInvalid):
        services.read_invitation(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


def test_invitation_for_an_account_in_use_only_adds_the_role(enrolled: tuple[User, str]) -> None:
    user, _secret = enrolled
    campaign, _target = published_campaign_and_target()
    again, invitation = services.invite(user.email or "", role="organiser", campaign_id=campaign.id, actor=SYSTEM)
    assert again is user
    assert invitation is None
    assert user.password_hash is not None


def test_disable_ends_sessions_and_needs_an_admin(enrolled: tuple[User, str]) -> None:
    user, _secret = enrolled
    epoch = user.session_epoch
    with pytest.raises(Forbidden):
        services.disable(user.id, actor=Principal(user_id=5))
    services.disable(user.email or "", actor=SYSTEM)
    assert user.disabled_at is not None
    assert user.session_epoch == epoch + 1
    assert not user.is_active
    with pytest.raises(services.AccountNotReady):
        services.verify_password(user.email or "", PASSWORD)


def test_change_password_bumps_the_epoch(enrolled: tuple[User, str]) -> None:
    user, _secret = enrolled
    epoch = user.session_epoch
    with pytest.raises(services.AccountError):
        services.change_password(user.id, "wrong old password", "a brand new password")
    services.change_password(user.id, PASSWORD, "a brand new password")
    assert user.session_epoch == epoch + 1
    assert services.verify_password(user.email or "", "a brand new password") is user


def test_grants_and_revocations_are_for_admins(enrolled: tuple[User, str]) -> None:
    user, _secret = enrolled
    campaign, _target = published_campaign_and_target()
    organiser = Principal(user_id=999, campaign_ids=frozenset({campaign.id}))
    with pytest.raises(Forbidden):
        services.grant_role(user.id, "organiser", campaign_id=campaign.id, actor=organiser)
    grant = services.grant_role(user.id, "organiser", campaign_id=campaign.id, actor=SYSTEM)
    assert user.principal().can_organise(campaign.id)
    with pytest.raises(Forbidden):
        services.revoke_role(grant.id, actor=organiser)
    services.revoke_role(grant.id, actor=SYSTEM)
    db.session.expire(user)
    assert not user.principal().campaign_ids


def test_create_admin_only_for_the_operator(ctx: None) -> None:
    with pytest.raises(Forbidden):
        services.create_admin("a@example.org", PASSWORD, actor=Principal(user_id=1, is_admin=True))
    user, _token = services.create_admin("a@example.org", PASSWORD, actor=SYSTEM)
    assert not user.is_active  # a password alone is not two factors
    assert db.session.scalar(db.select(Invitation.user_id)) == user.id
    with pytest.raises(services.AccountError, match="exists"):
        services.create_admin("A@example.org", PASSWORD, actor=SYSTEM)
    assert utcnow()
