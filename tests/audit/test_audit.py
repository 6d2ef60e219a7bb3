"""The audit log: one row per action in the action's own transaction, no personal data, append-only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from advocacy import create_app
from advocacy.accounts import services as accounts
from advocacy.accounts.models import User
from advocacy.accounts.roles import SYSTEM, Forbidden, Principal, Role
from advocacy.audit import services as audit
from advocacy.audit.models import APPEND_ONLY, AuditEvent
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.petitions import services as petitions
from advocacy.petitions.models import Petition
from tests.accounts.conftest import PASSWORD, Account, code_step, log_in, password_step, submit, totp
from tests.accounts.conftest import text as page_text
from tests.conftest import published_campaign_and_target, settings_for_tests


def entries(action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def staff(address: str, *, admin: bool = False) -> User:
    user = User(email=address, email_index=accounts.email_index(address), enrolled_at=utcnow())
    db.session.add(user)
    db.session.flush()
    if admin:
        accounts.add_grant(user, Role.ADMIN)
    return user


# --- one row, in the same transaction ----------------------------------------------------------------------


def _draft(actor: Principal) -> Any:
    campaign, target = published_campaign_and_target()
    db.session.commit()
    return petitions.create_petition("audited", actor=actor, campaign_id=campaign.id, title={"en": "Audited"},
                                     target_ids=[target.id])


CASES = ["petition.created", "petition.edited", "petition.submitted", "petition.approved", "petition.rejected",
         "petition.returned_to_draft", "petition.closed", "role.granted", "role.revoked", "invitation.sent",
         "account.disabled", "campaign.created", "campaign.edited", "campaign.published", "target.created",
         "target.edited"]


def _act(action: str) -> tuple[Any, Any]:
    """Set up (committed) and return (a function doing ``action``, a function reading what it changed)."""
    author = Principal(staff("author@coalition.test").id, is_admin=True)
    approver = Principal(staff("approver@coalition.test").id, is_admin=True)
    db.session.commit()
    if action.startswith("petition."):
        if action == "petition.created":
            campaign, target = published_campaign_and_target()
            db.session.commit()
            return (lambda: petitions.create_petition("audited", actor=author, campaign_id=campaign.id,
                                                      title={"en": "Audited"}, target_ids=[target.id]),
                    lambda: petitions.find_campaign("people-first") and db.session.scalar(
                        select(func.count()).select_from(Petition)))
        petition = _draft(author)
        pid = petition.id
        steps = ["petition.submitted", "petition.approved", "petition.closed"]
        if action in ("petition.rejected", "petition.returned_to_draft"):
            steps = ["petition.submitted", "petition.rejected"]
        moves = {
            "petition.edited": lambda: petitions.update_petition(pid, actor=author, version=petition.version,
                                                                 goal=7),
            "petition.submitted": lambda: petitions.submit_petition(pid, actor=author, version=petition.version),
            "petition.approved": lambda: petitions.approve_petition(pid, actor=approver),
            "petition.rejected": lambda: petitions.reject_petition(pid, actor=approver, reason="Too vague"),
            "petition.returned_to_draft": lambda: petitions.return_to_draft(pid, actor=author),
            "petition.closed": lambda: petitions.close_petition(pid, actor=author),
        }
        for step in steps:
            if step == action:
                break
            moves[step]()
        db.session.commit()
        return moves[action], lambda: (petition.status, petition.goal)
    if action.startswith(("role.", "invitation.", "account.")):
        campaign, _target = published_campaign_and_target()
        other = staff("other@coalition.test")
        grant = accounts.add_grant(other, Role.ORGANISER, campaign_id=campaign.id)
        db.session.commit()
        uid, gid, cid = other.id, grant.id, campaign.id
        moves = {
            "role.granted": lambda: accounts.grant_role(uid, Role.ADMIN, actor=author),
            "role.revoked": lambda: accounts.revoke_role(gid, actor=author),
            "invitation.sent": lambda: accounts.invite("new@coalition.example.org", role=Role.ORGANISER,
                                                       campaign_id=cid, actor=author),
            "account.disabled": lambda: accounts.disable(uid, actor=author),
        }
        return moves[action], lambda: (len(db.session.get(User, uid).grants), db.session.get(User, uid).disabled_at,
                                       accounts.find_user("new@coalition.example.org"))
    if action == "campaign.created":
        return (lambda: petitions.create_campaign("new-campaign", actor=author, name={"en": "New"}),
                lambda: petitions.find_campaign("new-campaign"))
    if action == "target.created":
        return (lambda: petitions.create_target("new-target", actor=author, name={"en": "New"}, country="FR"),
                lambda: petitions.find_target("new-target"))
    campaign = petitions.create_campaign("draft-campaign", actor=SYSTEM, name={"en": "Draft"})
    target = petitions.create_target("draft-target", actor=SYSTEM, name={"en": "Draft"}, country="FR")
    db.session.commit()
    moves = {
        "campaign.edited": lambda: petitions.update_campaign(campaign.id, actor=author, version=campaign.version,
                                                             website="https://example.org"),
        "campaign.published": lambda: petitions.publish_campaign(campaign.id, actor=author),
        "target.edited": lambda: petitions.update_target(target.id, actor=author, version=target.version,
                                                         country="BE"),
    }
    return moves[action], lambda: (campaign.version, campaign.published_at, target.version)


@pytest.mark.parametrize("action", CASES)
def test_each_action_writes_one_row_that_a_rollback_removes_with_the_change(ctx: None, action: str) -> None:
    do, state = _act(action)
    before_rows = count()
    before = state()
    db.session.expire_all()
    do()
    db.session.flush()
    written = [entry for entry in entries() if entry.action == action]
    assert len(written) == 1, [entry.action for entry in entries()]
    assert count() >= before_rows + 1
    db.session.rollback()
    db.session.expire_all()
    assert count() == before_rows
    assert state() == before


def test_the_reason_of_a_rejection_and_the_edited_field_names_are_kept(ctx: None) -> None:
    do, _state = _act("petition.rejected")
    do()
    db.session.commit()
    (rejected,) = entries("petition.rejected")
    assert rejected.detail["reason"] == "Too vague"
    assert (rejected.detail["from_status"], rejected.detail["to_status"]) == ("submitted", "rejected")
    assert rejected.object_type == "petition"
    petition = petitions.get_petition("audited", include_drafts=True)
    petitions.update_petition(petition.id, actor=SYSTEM, version=petition.version, goal=9, title={"en": "T"})
    db.session.commit()
    (edited,) = entries("petition.edited")
    assert edited.detail["fields"] == ["goal", "title"]
    assert edited.actor_user_id is None  # the system


def test_record_refuses_personal_keys(ctx: None) -> None:
    with pytest.raises(ValueError, match="personal"):
        audit.record("login.ok", actor=SYSTEM, email="x@example.org")


# --- logins, through the browser ---------------------------------------------------------------------------


def test_logins_and_failures_are_recorded_and_committed_with_the_failure(
        app: Flask, admin: Account, client: FlaskClient, in_app: Any) -> None:
    page = client.get("/account").get_data(as_text=True)
    from tests.accounts.conftest import csrf

    client.post("/logout", data={"csrf_token": csrf(page)})
    assert password_step(client, "nobody@coalition.example.org", PASSWORD).status_code == 400
    assert password_step(client, admin.email, "not the password at all").status_code == 400
    assert password_step(client, admin.email, admin.password).status_code == 302
    assert code_step(client, "000000" if totp(admin.secret) != "000000" else "111111").status_code == 400
    assert code_step(client, totp(admin.secret)).status_code == 302

    def read() -> list[tuple[str, str, int | None, int | None]]:
        return [(e.action, e.detail.get("outcome"), e.actor_user_id, e.object_id)
                for e in entries() if e.action.startswith("login.")]

    admin_id = in_app(lambda: accounts.find_user(admin.email).id)
    assert in_app(read) == [
        ("login.failed", "unknown", None, None),
        ("login.failed", "bad_password", None, admin_id),
        ("login.failed", "bad_code", None, admin_id),
        ("login.ok", "ok", admin_id, admin_id),
    ]


# --- no personal data --------------------------------------------------------------------------------------


def test_no_row_holds_an_email_a_name_a_password_or_an_address(
        app: Flask, admin: Account, client: FlaskClient, campaign: Any, in_app: Any, drain: Any) -> None:
    organiser = "Olena.Audit@coalition.example.org"
    invited = submit(client, "/console/users", {"email": organiser, "role": "organiser",
                                                "campaign": str(campaign[0]), "target": ""},
                     post_url="/console/users/invite")
    assert invited.status_code == 302, page_text(invited)
    drain()

    def flow() -> None:
        admin_user = accounts.find_user(admin.email)
        actor = admin_user.principal()
        petition = petitions.create_petition("private", actor=actor, campaign_id=campaign[0],
                                             title={"en": "Private"},
                                             target_ids=[petitions.find_target("bundestag").id])
        petitions.update_petition(petition.id, actor=actor, version=petition.version, summary={"en": "S"})
        petitions.submit_petition(petition.id, actor=actor, version=petition.version)
        petitions.approve_petition(petition.id, actor=SYSTEM)
        accounts.change_password(admin_user.id, admin.password, "another long enough password")
        db.session.commit()

    in_app(flow)  # the new password ends the client's session
    password_step(client, admin.email, "wrong password, clearly")
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    admin.password = "another long enough password"
    log_in(client, admin)

    def dump() -> str:
        rows = entries()
        assert {"invitation.sent", "petition.created", "petition.edited", "petition.submitted",
                "petition.approved", "password.changed", "login.failed", "login.ok"} <= {e.action for e in rows}
        return json.dumps([[e.action, e.object_type, e.object_id, e.detail] for e in rows]).lower()

    dumped = in_app(dump)
    for secret in (admin.email, organiser, "olena", "root@", "@coalition", PASSWORD, "another long enough",
                   "wrong password", "203.0.113.77", "127.0.0.1", admin.secret.lower()):
        assert secret.lower() not in dumped, secret


# --- append-only -------------------------------------------------------------------------------------------


def test_update_and_delete_are_refused_by_the_database(ctx: None) -> None:
    audit.record("petition.created", actor=SYSTEM, object_type="petition", object_id=1, slug="x")
    db.session.commit()
    for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError) as raised:
            db.session.execute(text(statement))
        assert APPEND_ONLY in str(raised.value)
        db.session.rollback()
    assert [entry.action for entry in entries()] == ["petition.created"]


# --- the console page --------------------------------------------------------------------------------------


def test_admins_read_and_filter_the_log_and_others_get_403(app: Flask, login_as: Any) -> None:
    with app.app_context():
        campaign, _target = published_campaign_and_target()
        audit.record("role.granted", actor=SYSTEM, object_type="user", object_id=5, role="admin")
        campaign_id = campaign.id
        db.session.commit()
    admin_client, organiser_client = app.test_client(), app.test_client()
    login_as(admin_client, admin=True, email="chief@coalition.test")
    login_as(organiser_client, organiser_of=[campaign_id])
    page = admin_client.get("/console/audit/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "campaign.created" in body
    assert "role.granted" in body
    assert "role: admin" in body
    assert 'href="/console/audit/"' in admin_client.get("/console/").get_data(as_text=True)
    only_roles = admin_client.get("/console/audit/?action=role").get_data(as_text=True)
    assert "role.granted" in only_roles
    assert "campaign.created" not in only_roles
    csv = admin_client.get("/console/audit/export.csv?action=campaign")
    assert csv.status_code == 200
    assert csv.mimetype == "text/csv"
    assert "campaign.created" in csv.get_data(as_text=True)
    assert organiser_client.get("/console/audit/").status_code == 403
    assert organiser_client.get("/console/audit/export.csv").status_code == 403
    assert "/console/audit/" not in organiser_client.get("/console/").get_data(as_text=True)
    assert app.test_client().get("/console/audit/").status_code == 302
    with app.app_context(), pytest.raises(Forbidden):
        audit.recent(actor=Principal(user_id=1))


def test_the_admin_page_names_the_actor(app: Flask, login_as: Any) -> None:
    client = app.test_client()
    admin_id = login_as(client, admin=True, email="named@coalition.test")
    with app.app_context():
        petitions.create_campaign("by-admin", actor=Principal(admin_id, is_admin=True), name={"en": "X"})
        db.session.commit()
    body = client.get("/console/audit/?action=campaign").get_data(as_text=True)
    assert "named@coalition.test" in body


# --- the migration -----------------------------------------------------------------------------------------


def test_migration_creates_an_append_only_table_and_goes_back(tmp_path: Any, fresh_database_url: str,
                                                             rebind_worker_app: None) -> None:
    app = create_app({"TESTING": True}, settings=settings_for_tests(tmp_path, fresh_database_url))
    with app.app_context():
        upgrade()
        assert "audit_events" in inspect(db.engine).get_table_names()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_events (at, action, detail) VALUES (:at, 'login.ok', '{}')"),
                         {"at": utcnow().replace(tzinfo=None)})
        for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError) as raised, db.engine.begin() as conn:
                conn.execute(text(statement))
            assert APPEND_ONLY in str(raised.value)
        downgrade(revision="37f7b78596ee")
        assert "audit_events" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
