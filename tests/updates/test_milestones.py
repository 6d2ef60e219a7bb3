"""Milestone emails: one update per reached goal, once, and none while the petition's switch is off."""

from __future__ import annotations

from sqlalchemy import func, select

from advocacy.accounts.roles import SYSTEM
from advocacy.extensions import db
from advocacy.updates import services
from advocacy.updates.models import Update, UpdateKind, UpdateStatus


def test_reaching_the_goal_creates_one_milestone_update_once(make_petition, signer, drain, mailbox):
    petition = make_petition(slug="goal-petition", goal=2, country_goals={"UA": 5})
    services.set_milestone_emails(petition.id, actor=SYSTEM, enabled=True)
    db.session.commit()
    signer(petition.id, "one@example.org", locale="uk")
    assert services.detect_milestones() == 0
    signer(petition.id, "two@example.org", locale="ru", opt_in=False)
    assert services.detect_milestones() == 1
    db.session.commit()
    assert services.detect_milestones() == 0
    db.session.commit()
    [found] = db.session.scalars(select(Update))
    assert (found.kind, found.milestone) == (UpdateKind.MILESTONE, "goal:2")
    drain()
    [mail] = mailbox()
    assert mail.to == "one@example.org"
    # the subject names no petition (whoever sees the inbox learns nothing)
    assert "Звільніть" not in mail.subject
    assert "Free them" not in mail.subject
    assert "Звільніть усіх" in mail.text  # the body names it, in the signer's language
    db.session.expire_all()
    assert db.session.get(Update, found.id).status == UpdateStatus.SENT


def test_a_country_goal_is_a_milestone_of_its_own(make_petition, signer):
    petition = make_petition(slug="country-petition", goal=0, country_goals={"UA": 1})
    services.set_milestone_emails(petition.id, actor=SYSTEM, enabled=True)
    db.session.commit()
    signer(petition.id, "one@example.org", country="UA")
    assert services.detect_milestones() == 1
    assert db.session.scalar(select(Update.milestone)) == "country:UA:1"


def test_nothing_when_the_switch_is_off(make_petition, signer):
    petition = make_petition(slug="quiet-petition", goal=1)
    signer(petition.id, "one@example.org")
    assert services.detect_milestones() == 0
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Update)) == 0
