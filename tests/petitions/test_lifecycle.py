"""Moderation: draft → submitted → open → closed, or submitted → rejected → draft; a second person approves,
every step is recorded, and nothing but open and closed petitions is ever public."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient

from advocacy.accounts.roles import SYSTEM, Forbidden, Principal
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.periodic.services import registered_jobs, run_due
from advocacy.petitions import services
from advocacy.petitions.models import PetitionStatus


def organiser(user_id: int, campaign_id: int) -> Principal:
    return Principal(user_id=user_id, campaign_ids=frozenset({campaign_id}))


@pytest.fixture
def draft(make_petition: Any) -> Any:
    return make_petition(slug="moderated", status=PetitionStatus.DRAFT)


@pytest.fixture
def author(draft: Any) -> Principal:
    return organiser(1, draft.campaign_id)


@pytest.fixture
def colleague(draft: Any) -> Principal:
    return organiser(2, draft.campaign_id)


def submitted(draft: Any, author: Principal) -> Any:
    petition = services.submit_petition(draft.id, actor=author, version=draft.version)
    db.session.commit()
    return petition


def test_a_colleague_approves_and_the_petition_opens(ctx, client: FlaskClient, draft, author, colleague):
    petition = submitted(draft, author)
    assert petition.status == PetitionStatus.SUBMITTED
    assert services.submitter(petition.id) == 1
    assert client.get("/p/moderated").status_code == 404

    services.approve_petition(petition.id, actor=colleague)
    db.session.commit()
    assert petition.status == PetitionStatus.OPEN
    assert petition.is_open()
    assert client.get("/p/moderated").status_code == 200
    assert "moderated" in [p["slug"] for p in client.get("/api/v1/petitions").get_json()["petitions"]]

    steps = [(t.from_status, t.to_status, t.actor_user_id) for t in services.transitions(petition.id)]
    assert steps == [("draft", "submitted", 1), ("submitted", "open", 2)]
    assert all(t.at <= utcnow() for t in services.transitions(petition.id))


def test_nobody_approves_their_own_submission(ctx, draft, author):
    petition = submitted(draft, author)
    with pytest.raises(Forbidden, match="Another person must approve a petition you submitted"):
        services.approve_petition(petition.id, actor=author)
    # not even as an admin of the whole platform
    author_as_admin = Principal(user_id=author.user_id, is_admin=True)
    with pytest.raises(Forbidden, match="Another person must approve"):
        services.approve_petition(petition.id, actor=author_as_admin)
    db.session.rollback()
    assert services.get_petition("moderated", include_drafts=True).status == PetitionStatus.SUBMITTED


def test_an_admin_who_does_not_organise_the_campaign_may_approve(ctx, draft, author):
    petition = submitted(draft, author)
    services.approve_petition(petition.id, actor=Principal(user_id=9, is_admin=True))
    assert petition.status == PetitionStatus.OPEN


def test_an_organiser_of_another_campaign_may_not_approve(ctx, draft, author):
    petition = submitted(draft, author)
    stranger = organiser(3, draft.campaign_id + 1000)
    with pytest.raises(Forbidden):
        services.approve_petition(petition.id, actor=stranger)
    with pytest.raises(Forbidden):
        services.reject_petition(petition.id, actor=stranger, reason="No.")


def test_the_system_is_nobody_and_may_approve_what_it_submitted(ctx, draft):
    services.submit_petition(draft.id, actor=SYSTEM, version=draft.version)
    services.approve_petition(draft.id, actor=SYSTEM)
    assert draft.status == PetitionStatus.OPEN


def test_a_rejection_carries_a_reason_the_author_sees_and_the_draft_can_be_reworked(ctx, client, draft, author,
                                                                                    colleague):
    petition = submitted(draft, author)
    services.reject_petition(petition.id, actor=colleague, reason="  Name the detention centres.  ")
    db.session.commit()
    assert petition.status == PetitionStatus.REJECTED
    assert petition.rejection_reason == "Name the detention centres."
    assert client.get("/p/moderated").status_code == 404
    assert client.get("/api/v1/petitions/moderated").status_code == 404

    # the author edits the rejected petition, takes it back to draft and submits again
    services.update_petition(petition.id, actor=author, version=petition.version,
                             body={"en": "Olenivka, Taganrog and others."})
    services.return_to_draft(petition.id, actor=author)
    assert petition.status == PetitionStatus.DRAFT
    assert petition.rejection_reason == "Name the detention centres."  # still there to rework by
    services.submit_petition(petition.id, actor=author, version=petition.version)
    assert petition.rejection_reason is None
    services.approve_petition(petition.id, actor=colleague)
    db.session.commit()
    steps = [(t.from_status, t.to_status, t.actor_user_id, t.reason) for t in services.transitions(petition.id)]
    assert steps == [
        ("draft", "submitted", 1, None),
        ("submitted", "rejected", 2, "Name the detention centres."),
        ("rejected", "draft", 1, None),
        ("draft", "submitted", 1, None),
        ("submitted", "open", 2, None),
    ]


def test_a_rejection_needs_a_reason(ctx, draft, author, colleague):
    petition = submitted(draft, author)
    with pytest.raises(services.Rejected) as refused:
        services.reject_petition(petition.id, actor=colleague, reason="   ")
    assert list(refused.value.errors) == ["reason"]
    assert petition.status == PetitionStatus.SUBMITTED


def test_the_author_cannot_reject_their_own_submission_but_can_withdraw_it(ctx, draft, author, colleague):
    petition = submitted(draft, author)
    with pytest.raises(Forbidden, match="Another person must review"):
        services.reject_petition(petition.id, actor=author, reason="Changed my mind")
    with pytest.raises(Forbidden, match="Only the person who submitted it can withdraw it"):
        services.return_to_draft(petition.id, actor=colleague)
    services.return_to_draft(petition.id, actor=author)
    assert petition.status == PetitionStatus.DRAFT


def test_submitting_an_unpublishable_draft_is_refused_with_what_is_missing(ctx, make_petition):
    petition = make_petition(slug="no-target", status=PetitionStatus.DRAFT, target_ids=[])
    actor = organiser(1, petition.campaign_id)
    with pytest.raises(services.NotPublishable, match="addressed to no target"):
        services.submit_petition(petition.id, actor=actor, version=petition.version)
    untitled = make_petition(slug="untitled-uk", status=PetitionStatus.DRAFT, title={"en": "Only English"},
                             body={"en": "Text.", "uk": "Текст."})
    with pytest.raises(services.NotPublishable, match="no title in uk"):
        services.submit_petition(untitled.id, actor=actor, version=untitled.version)
    assert petition.status == untitled.status == PetitionStatus.DRAFT


def test_submitting_an_old_version_is_refused(ctx, draft, author):
    services.update_petition(draft.id, actor=author, version=draft.version, goal=10)
    with pytest.raises(services.StaleEdit):
        services.submit_petition(draft.id, actor=author, version=draft.version - 1)
    assert draft.status == PetitionStatus.DRAFT


def test_a_submission_whose_closing_date_passed_cannot_be_approved(ctx, draft, author, colleague):
    services.update_petition(draft.id, actor=author, version=draft.version, closes_at=utcnow() + timedelta(days=1))
    petition = submitted(draft, author)
    with time_machine.travel(utcnow() + timedelta(days=2)), \
            pytest.raises(services.NotPublishable, match="closing date has passed"):
        services.approve_petition(petition.id, actor=colleague)


@pytest.mark.parametrize(("status", "step"), [
    (PetitionStatus.DRAFT, "approve"), (PetitionStatus.DRAFT, "reject"), (PetitionStatus.DRAFT, "close"),
    (PetitionStatus.DRAFT, "return"), (PetitionStatus.OPEN, "submit"), (PetitionStatus.OPEN, "approve"),
    (PetitionStatus.OPEN, "return"), (PetitionStatus.CLOSED, "submit"), (PetitionStatus.CLOSED, "reject"),
])
def test_steps_that_do_not_start_from_the_status_are_refused(ctx, make_petition, status, step):
    petition = make_petition(status=status)
    actor = organiser(1, petition.campaign_id)
    calls = {
        "submit": lambda: services.submit_petition(petition.id, actor=actor, version=petition.version),
        "approve": lambda: services.approve_petition(petition.id, actor=actor),
        "reject": lambda: services.reject_petition(petition.id, actor=actor, reason="No"),
        "close": lambda: services.close_petition(petition.id, actor=actor),
        "return": lambda: services.return_to_draft(petition.id, actor=actor),
    }
    with pytest.raises(services.InvalidTransition):
        calls[step]()
    assert petition.status == status
    recorded = {PetitionStatus.DRAFT: [], PetitionStatus.OPEN: ["open"], PetitionStatus.CLOSED: ["open", "closed"]}
    assert [t.to_status for t in services.transitions(petition.id)] == recorded[status]


def test_refusals_speak_the_editors_language(ctx, draft, author):
    from flask_babel import force_locale

    petition = submitted(draft, author)
    with force_locale("en"), pytest.raises(services.InvalidTransition) as refused:
        services.submit_petition(petition.id, actor=author, version=petition.version)
    assert str(refused.value) == "Only a draft can be submitted; this petition is submitted for approval."


def test_only_the_system_opens_a_petition_without_approval(ctx, draft, author):
    admin = Principal(user_id=5, is_admin=True)
    with pytest.raises(Forbidden, match="opens when another person approves it"):
        services.publish_petition(draft.id, actor=admin)
    services.publish_petition(draft.id, actor=SYSTEM)
    assert draft.status == PetitionStatus.OPEN
    assert [(t.from_status, t.to_status, t.actor_user_id) for t in services.transitions(draft.id)] == [
        ("draft", "open", None)]


def test_an_organiser_closes_by_hand_and_signing_stops(ctx, client, make_petition):
    petition = make_petition(slug="hand-closed")
    actor = organiser(4, petition.campaign_id)
    services.close_petition(petition.id, actor=actor)
    db.session.commit()
    assert petition.status == PetitionStatus.CLOSED
    assert services.transitions(petition.id)[-1].actor_user_id == 4
    page = client.get("/p/hand-closed").get_data(as_text=True)
    assert "This petition is closed and no longer takes signatures." in page
    # closing again changes nothing and records nothing
    services.close_petition(petition.id, actor=actor)
    assert [t.to_status for t in services.transitions(petition.id)] == ["open", "closed"]


def test_petitions_past_their_closing_date_are_closed_by_the_job(ctx, make_petition):
    due = make_petition(closes_at=utcnow() + timedelta(hours=1))
    later = make_petition(closes_at=utcnow() + timedelta(days=10))
    forever = make_petition()
    assert services.close_due_petitions() == 0
    assert services.close_due_petitions(now=utcnow() + timedelta(hours=2)) == 1
    db.session.commit()
    assert (due.status, later.status, forever.status) == (
        PetitionStatus.CLOSED, PetitionStatus.OPEN, PetitionStatus.OPEN)
    closing = services.transitions(due.id)[-1]
    assert (closing.from_status, closing.to_status, closing.actor_user_id) == ("open", "closed", None)
    assert services.close_due_petitions(now=utcnow() + timedelta(hours=2)) == 0


def test_the_closing_job_runs_every_five_minutes_and_closes_what_is_due(ctx, make_petition):
    petition = make_petition(slug="expired", closes_at=utcnow() - timedelta(minutes=1))
    assert petition.status == PetitionStatus.OPEN  # shown as closed already, but not yet marked
    job = next(job for job in registered_jobs() if job.name == "close-due-petitions")
    assert job.every == timedelta(minutes=5)
    assert run_due(jobs=(job,)) == ["close-due-petitions"]
    db.session.expire_all()
    assert services.get_petition("expired").status == PetitionStatus.CLOSED


def test_once_submitted_only_the_closing_date_and_goals_change(ctx, draft, author, colleague):
    petition = submitted(draft, author)
    with pytest.raises(services.InvalidTransition, match="cannot be changed once submitted"):
        services.update_petition(petition.id, actor=author, version=petition.version, title={"en": "Sneaky"})
    services.update_petition(petition.id, actor=author, version=petition.version, goal=5000,
                             country_goals={"DE": 1000}, closes_at=utcnow() + timedelta(days=30))
    services.approve_petition(petition.id, actor=colleague)
    with pytest.raises(services.InvalidTransition, match="cannot be changed once submitted"):
        services.update_petition(petition.id, actor=author, version=petition.version, target_ids=[])
    services.update_petition(petition.id, actor=author, version=petition.version, goal=6000)
    assert (petition.goal, petition.country_goals) == (6000, {"DE": 1000})


def test_submitted_and_rejected_petitions_are_never_public(ctx, client, make_petition):
    shown = make_petition(slug="shown")
    waiting = make_petition(slug="waiting", status=PetitionStatus.DRAFT)
    turned_down = make_petition(slug="turned-down", status=PetitionStatus.DRAFT)
    author, colleague = organiser(1, shown.campaign_id), organiser(2, shown.campaign_id)
    services.submit_petition(waiting.id, actor=author, version=waiting.version)
    services.submit_petition(turned_down.id, actor=author, version=turned_down.version)
    services.reject_petition(turned_down.id, actor=colleague, reason="Not now")
    db.session.commit()
    assert [p.slug for p in services.public_petitions()] == ["shown"]
    for slug in ("waiting", "turned-down"):
        with pytest.raises(services.PetitionNotFound):
            services.get_petition(slug)
        assert client.get(f"/p/{slug}").status_code == 404
        assert client.get(f"/api/v1/petitions/{slug}").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert shown.display_title() in home
    assert waiting.display_title() not in home
    assert turned_down.display_title() not in home
    assert [p["slug"] for p in client.get("/api/v1/petitions").get_json()["petitions"]] == ["shown"]
