"""The whole path in the browser's shoes: CLI admin, set-up through a link, two-factor login, invitations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import time_machine
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, select

from advocacy.accounts import services
from advocacy.accounts.models import LoginAttempt, LoginOutcome, User
from advocacy.extensions import db
from tests.accounts.conftest import (
    PASSWORD,
    Account,
    code_step,
    csrf,
    log_in,
    password_step,
    set_up_through_link,
    submit,
    text,
    totp,
)


def logout(client: FlaskClient) -> None:
    page = client.get("/account").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf(page)}).status_code == 303


def test_cli_admin_enrols_logs_in_invites_an_organiser_who_accepts_and_logs_in(
        app: Flask, admin: Account, client: FlaskClient, campaign: Any, drain: Any, mailbox: Any) -> None:
    # set-up ended logged in
    assert client.get("/console/").status_code == 200
    logout(client)
    assert client.get("/console/").status_code == 302
    answer = log_in(client, admin)
    assert answer.status_code == 302, text(answer)
    assert answer.headers["Location"] == "/console/"
    assert client.get("/console/").status_code == 200

    invited = submit(client, "/console/users", {"email": "Olena@Coalition.example.org", "role": "organiser",
                                                "campaign": str(campaign[0]), "target": ""},
                     post_url="/console/users/invite")
    assert invited.status_code == 302, text(invited)
    drain()
    mail = [m for m in mailbox() if m.to == "Olena@coalition.example.org"]
    assert len(mail) == 1, [m.to for m in mailbox()]
    assert "organiser of People First" in mail[0].text
    link = mail[0].link("/invitation/")
    assert link.startswith("https://petitions.test/invitation/")

    organiser = Account("olena@coalition.example.org", "a long and quite unusual passphrase")
    other = app.test_client()
    set_up_through_link(other, link, organiser)
    assert other.get("/console/").status_code == 200
    # the link worked once
    assert other.get(link.split("petitions.test", 1)[1]).status_code == 410
    fresh = app.test_client()
    assert log_in(fresh, organiser).status_code == 302
    page = fresh.get("/console/").get_data(as_text=True)
    assert "People First" in page
    # an organiser may not see the accounts list, only invite to own campaigns
    people = fresh.get("/console/users").get_data(as_text=True)
    assert "root@coalition.example.org" not in people
    assert fresh.get("/console/users/1").status_code == 403


def test_replayed_code_is_refused(admin: Account, client: FlaskClient) -> None:
    logout(client)
    code = totp(admin.secret)
    assert log_in(client, admin, code).status_code == 302
    logout(client)
    again = log_in(client, admin, code)
    assert again.status_code == 400
    assert "used already" in text(again)
    assert client.get("/console/").status_code == 302
    with time_machine.travel(datetime.now(tz=UTC) + timedelta(seconds=31)):  # the next step's code works
        assert code_step(client, totp(admin.secret)).status_code == 302


def test_unknown_email_and_wrong_password_get_the_same_answer_and_both_hash(
        admin: Account, client: FlaskClient, monkeypatch: Any) -> None:
    logout(client)
    calls: list[str] = []

    class Spy(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            calls.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(services, "_hasher", Spy())
    unknown = password_step(client, "nobody@coalition.example.org", PASSWORD)
    wrong = password_step(client, admin.email, "not the password at all")
    assert unknown.status_code == wrong.status_code == 400
    message = "The email address or the password is wrong."
    assert message in text(unknown)
    assert message in text(wrong)
    assert len(calls) == 2
    assert all(stored.startswith("$argon2id$") for stored in calls)


def test_fifth_failure_delays_and_the_owner_gets_in_after_the_delay(admin: Account, client: FlaskClient,
                                                                    in_app: Any) -> None:
    logout(client)
    start = datetime.now(tz=UTC) + timedelta(seconds=31)
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(4):
            assert password_step(client, admin.email, "wrong wrong wrong").status_code == 400
        assert password_step(client, admin.email, "wrong wrong wrong").status_code == 400  # the 5th: delay
        refused = password_step(client, admin.email, admin.password)
        assert refused.status_code == 429
        assert "Try again in 2 seconds" in text(refused)
        traveller.shift(3)
        assert log_in(client, admin).status_code == 302
        assert client.get("/console/").status_code == 200
    from advocacy.accounts.models import LoginThrottle

    assert in_app(lambda: db.session.scalars(select(LoginThrottle)).all()) == []  # success resets


def test_recovery_code_works_once(admin: Account, client: FlaskClient) -> None:
    logout(client)
    code = admin.recovery_codes[3]
    first = log_in(client, admin, code.upper())
    assert first.status_code == 302
    assert "9 are left" in text(client.get("/console/"))
    logout(client)
    second = log_in(client, admin, code)
    assert second.status_code == 400
    assert client.get("/console/").status_code == 302


def test_no_console_page_after_the_password_alone(admin: Account, client: FlaskClient) -> None:
    logout(client)
    assert password_step(client, admin.email, admin.password).status_code == 302
    for path in ("/console/", "/console/users", "/account"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_disabled_account_sessions_end(app: Flask, admin: Account, client: FlaskClient, login_as: Any,
                                       in_app: Any) -> None:
    other = app.test_client()
    user_id = login_as(other, organiser_of=[], email="gone@coalition.example.org")
    assert other.get("/console/").status_code == 200
    disabled = submit(client, f"/console/users/{user_id}", {}, post_url=f"/console/users/{user_id}/disable")
    assert disabled.status_code == 302
    assert other.get("/console/").status_code == 302
    assert in_app(lambda: db.session.get(User, user_id).disabled_at) is not None


def test_disabled_account_cannot_log_in(admin: Account, cli: Any, client: FlaskClient, app: Flask) -> None:
    second = Account("second@coalition.example.org", PASSWORD)
    created = cli("create-admin", second.email, "--password-stdin", input=second.password + "\n")
    link = next(line for line in created.output.splitlines() if line.startswith("https://"))
    set_up_through_link(app.test_client(), link, second, new_password=False)
    assert cli("disable", second.email).exit_code == 0
    answer = password_step(app.test_client(), second.email, second.password)
    assert answer.status_code == 400
    assert "disabled" in text(answer)


def test_password_change_ends_other_sessions(app: Flask, admin: Account, client: FlaskClient) -> None:
    other = app.test_client()
    assert log_in(other, admin).status_code == 302
    assert other.get("/console/").status_code == 200
    new = "another long passphrase for me"
    changed = submit(client, "/account", {"current": admin.password, "password": new, "confirm": new},
                     post_url="/account/password")
    assert changed.status_code == 302, text(changed)
    assert client.get("/console/").status_code == 200  # this session goes on
    assert other.get("/console/").status_code == 302  # the other one ended
    logout(client)
    assert password_step(client, admin.email, admin.password).status_code == 400
    assert password_step(client, admin.email, new).status_code == 302


def test_second_factor_reset_needs_password_and_code_and_ends_other_sessions(app: Flask, admin: Account,
                                                                             client: FlaskClient) -> None:
    other = app.test_client()
    assert log_in(other, admin).status_code == 302
    assert other.get("/console/").status_code == 200
    page = client.get("/account/second-factor").get_data(as_text=True)
    new_secret = page.split('<code class="secret">', 1)[1].split("<", 1)[0].replace(" ", "")
    data = {"current": admin.password, "code": admin.recovery_codes[0], "new_code": totp(new_secret),
            "csrf_token": csrf(page)}
    wrong = client.post("/account/second-factor", data={**data, "current": "not my password!!"})
    assert wrong.status_code == 400
    page = client.get("/account/second-factor").get_data(as_text=True)
    new_secret = page.split('<code class="secret">', 1)[1].split("<", 1)[0].replace(" ", "")
    done = client.post("/account/second-factor", data={**data, "new_code": totp(new_secret),
                                                         "csrf_token": csrf(page)})
    assert done.status_code == 200, text(done)
    assert "Your new authenticator is set up" in text(done)
    assert client.get("/console/").status_code == 200
    assert other.get("/console/").status_code == 302
    logout(client)
    admin.secret = new_secret
    with time_machine.travel(datetime.now(tz=UTC) + timedelta(seconds=31)):
        assert log_in(client, admin).status_code == 302


def test_login_attempts_hold_no_address_and_no_email(admin: Account, client: FlaskClient, app: Flask) -> None:
    logout(client)
    password_step(client, admin.email, "wrong password here")
    password_step(client, "nobody@coalition.example.org", "wrong password here")
    log_in(client, admin)
    with app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("login_attempts")}
        rows = db.session.scalars(select(LoginAttempt)).all()
        db.session.remove()
    assert columns == {"id", "at", "outcome", "user_id", "key_hash"}
    assert {row.outcome for row in rows} >= {LoginOutcome.BAD_PASSWORD, LoginOutcome.UNKNOWN, LoginOutcome.OK}
    for row in rows:
        values = " ".join(str(v) for v in (row.key_hash, row.outcome, row.user_id, row.at))
        assert "127.0.0.1" not in values
        assert "@" not in values
        assert "example.org" not in values
        assert len(row.key_hash) == 64


def test_next_off_site_is_ignored_and_same_site_is_kept(admin: Account, client: FlaskClient) -> None:
    logout(client)
    with time_machine.travel(datetime.now(tz=UTC) + timedelta(seconds=31), tick=False) as traveller:
        for bad in ("https://evil.test/", "//evil.test/x", "/\\evil.test"):
            answer = log_in(client, admin, next_url=bad)
            assert answer.headers["Location"] == "/console/"
            logout(client)
            traveller.shift(30)
        good = log_in(client, admin, next_url="/account")
        assert good.headers["Location"] == "/account"


def test_expired_session_says_so_and_bad_links_get_a_clear_page(client: FlaskClient) -> None:
    assert "Your session has ended" in text(client.get("/login?expired=1"))
    bad = client.get("/invitation/not-a-token")
    assert bad.status_code == 404
    assert "ask your admin" in text(bad)


def test_invitation_link_expires_after_72_hours(app: Flask, admin: Account, cli: Any, drain: Any,
                                                mailbox: Any, campaign: Any) -> None:
    assert cli("invite", "late@coalition.example.org", "--role", "organiser", "--campaign",
               campaign[1]).exit_code == 0
    drain()
    link = next(m for m in mailbox() if m.to == "late@coalition.example.org").link("/invitation/")
    path = link.split("petitions.test", 1)[1]
    with time_machine.travel(datetime.now(tz=UTC) + timedelta(hours=72, minutes=1)):
        gone = app.test_client().get(path)
    assert gone.status_code == 410
    assert "ask your admin" in text(gone)


def test_reinvite_voids_the_older_link(admin: Account, cli: Any, drain: Any, mailbox: Any,
                                       campaign: Any, app: Flask) -> None:
    args = ("invite", "twice@coalition.example.org", "--role", "organiser", "--campaign", campaign[1])
    assert cli(*args).exit_code == 0
    assert cli(*args).exit_code == 0
    drain()
    # the first email may have gone before the second invitation (or not at all: it sends nothing once void)
    links = [m.link("/invitation/") for m in mailbox() if m.to == "twice@coalition.example.org"]
    assert 1 <= len(links) <= 2
    answers = sorted(app.test_client().get(link.split("petitions.test", 1)[1]).status_code for link in links)
    assert answers == [200] or answers == [200, 410]


def test_console_users_page_for_admins(admin: Account, client: FlaskClient, in_app: Any) -> None:
    page = client.get("/console/users")
    assert page.status_code == 200
    assert admin.email in text(page)
    user_id = in_app(lambda: db.session.scalar(select(User.id)))
    assert client.get(f"/console/users/{user_id}").status_code == 200
