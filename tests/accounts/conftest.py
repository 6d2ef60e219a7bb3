"""Helpers for the accounts tests: forms with their CSRF token, TOTP codes, the set-up through a link."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from advocacy.extensions import db

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SECRET = re.compile(r'<code class="secret">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>")


def csrf(page: str) -> str:
    found = CSRF.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def submit(client: FlaskClient, page_url: str, data: dict[str, Any], post_url: str | None = None) -> TestResponse:
    """GET the page for its CSRF token, then POST the form."""
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code)
    return client.post(post_url or page_url, data={**data, "csrf_token": csrf(page.get_data(as_text=True))})


def text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def totp(secret: str, at: float | None = None) -> str:
    return pyotp.TOTP(secret).now() if at is None else pyotp.TOTP(secret).at(at)


@dataclass
class Account:
    email: str
    password: str
    secret: str = ""
    recovery_codes: list[str] = field(default_factory=list)


def set_up_through_link(client: FlaskClient, link: str, account: Account, *, new_password: bool = True) -> None:
    """Follow an invitation link: password, second factor (code from pyotp), recovery codes."""
    path = link.split("petitions.test", 1)[1]
    data = {"password": account.password, "confirm": account.password} if new_password else \
        {"password": account.password}
    answer = submit(client, path, data)
    assert answer.status_code == 302, text(answer)
    assert answer.headers["Location"] == "/invitation/enrol"
    page = client.get("/invitation/enrol")
    body = page.get_data(as_text=True)
    assert "<svg" in body  # the QR code, drawn here
    found = SECRET.search(body)
    assert found
    account.secret = found.group(1).replace(" ", "")
    # the code of the previous 30-second step (accepted: ±1 step), so the current one is still unused for a
    # login right after; without this a test would have to step the clock, and cookies signed "in the
    # future" do not load once it is back
    done = client.post("/invitation/enrol", data={"code": totp(account.secret, time.time() - 30),
                                                  "csrf_token": csrf(body)})
    assert done.status_code == 200, text(done)
    account.recovery_codes = RECOVERY.findall(done.get_data(as_text=True))
    assert len(account.recovery_codes) == 10


def password_step(client: FlaskClient, email: str, password: str, next_url: str | None = None) -> TestResponse:
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return submit(client, url, {"email": email, "password": password})


def code_step(client: FlaskClient, code: str) -> TestResponse:
    return submit(client, "/login/code", {"code": code})


def log_in(client: FlaskClient, account: Account, code: str | None = None,
           next_url: str | None = None) -> TestResponse:
    first = password_step(client, account.email, account.password, next_url)
    assert first.status_code == 302, text(first)
    assert first.headers["Location"] == "/login/code"
    return code_step(client, code or totp(account.secret))


# No app context stays pushed while the test client makes requests: a request would share it (and its ``g``,
# where Flask-Login and Flask-WTF keep the user and the CSRF token) with every other request of the test.


@pytest.fixture
def cli(app: Flask) -> Any:
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(args=["users", *args], input=input)

    return invoke


@pytest.fixture
def in_app(app: Flask) -> Any:
    """Run a function inside a short app context of its own (a query between requests)."""

    def run(function: Any) -> Any:
        with app.app_context():
            try:
                return function()
            finally:
                db.session.remove()

    return run


@pytest.fixture
def campaign(in_app: Any) -> Any:
    """The People First campaign (published) as (id, slug)."""
    from tests.conftest import published_campaign_and_target

    def create() -> Any:
        found, _target = published_campaign_and_target()
        db.session.commit()
        return found.id, found.slug

    return in_app(create)


@pytest.fixture
def admin(cli: Any, client: FlaskClient) -> Account:
    """An admin made at the command line and set up in the browser (the client is logged in)."""
    account = Account("root@coalition.example.org", PASSWORD)
    created = cli("create-admin", account.email, "--password-stdin", input=account.password + "\n")
    assert created.exit_code == 0, created.output
    link = next(line for line in created.output.splitlines() if line.startswith("https://"))
    set_up_through_link(client, link, account, new_password=False)
    return account
