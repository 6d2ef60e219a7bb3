"""The console is for logged-in accounts with both factors, and each page for the roles it names."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient


def test_anonymous_reader_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/console/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fconsole%2F"


def test_logged_in_organiser_sees_own_campaigns_only(client: FlaskClient, make_petition: Any,
                                                     login_as: Any) -> None:
    petition = make_petition()
    login_as(client, organiser_of=[petition.campaign_id])
    page = client.get("/console/")
    assert page.status_code == 200
    assert f'<a href="/console/campaigns/{petition.campaign_id}">People First</a>' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_organiser_of_another_campaign_does_not_see_it(client: FlaskClient, make_petition: Any,
                                                       login_as: Any) -> None:
    make_petition()
    login_as(client)
    page = client.get("/console/").get_data(as_text=True)
    assert "/console/campaigns/" not in page
    assert "You organise no campaign yet." in page


def test_console_session_uses_its_own_strict_cookie(client: FlaskClient, make_petition: Any,
                                                    login_as: Any) -> None:
    petition = make_petition()
    login_as(client, organiser_of=[petition.campaign_id])
    response = client.get("/console/")
    cookies = response.headers.getlist("Set-Cookie")
    console = [c for c in cookies if c.startswith("advocacy_console=")]
    assert console, cookies
    assert "SameSite=Strict" in console[0]
    # a public page neither reads nor writes the console cookie: it is the anonymous, shared page
    public = client.get(f"/p/{petition.slug}")
    assert not any(c.startswith("advocacy_console=") for c in public.headers.getlist("Set-Cookie"))


def test_session_ends_after_12_hours_even_when_busy(client: FlaskClient, make_petition: Any,
                                                     login_as: Any) -> None:
    petition = make_petition()
    login_as(client, organiser_of=[petition.campaign_id])
    start = datetime.now(tz=UTC)
    for minutes in range(20, 12 * 60, 20):  # never idle for more than 20 minutes
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert client.get("/console/").status_code == 200
    with time_machine.travel(start + timedelta(hours=12, minutes=5)):
        assert client.get("/console/").status_code == 302


def test_session_ends_after_30_minutes_idle(client: FlaskClient, make_petition: Any, login_as: Any) -> None:
    petition = make_petition()
    login_as(client, organiser_of=[petition.campaign_id])
    assert client.get("/console/").status_code == 200
    with time_machine.travel(datetime.now(tz=UTC) + timedelta(minutes=31)):
        response = client.get("/console/")
    assert response.status_code == 302
    assert "expired=1" in response.headers["Location"]


def test_logout_is_post_and_ends_the_session(client: FlaskClient, make_petition: Any, login_as: Any) -> None:
    petition = make_petition()
    login_as(client, organiser_of=[petition.campaign_id])
    assert client.get("/logout").status_code == 405
    page = client.get("/console/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    assert client.post("/logout", data={"csrf_token": token.group(1)}).status_code == 303
    assert client.get("/console/").status_code == 302


def test_the_console_navigation_starts_with_the_overview_and_ends_with_ones_account(client: FlaskClient,
                                                                                    login_as: Any) -> None:
    login_as(client, admin=True)
    page = client.get("/console/").get_data(as_text=True)
    nav = page[page.index('<nav class="console-nav"'):page.index("</nav>", page.index('<nav class="console-nav"'))]
    labels = re.findall(r'<a href="[^"]+"[^>]*>([^<]+)</a>', nav)
    assert labels == ["Overview", "Campaigns", "Targets", "Events", "Packets", "People", "Audit log", "Your account"]
    assert "Open data (JSON)" not in page  # the public site's footer is for readers, not the console
