"""The console is for logged-in accounts with both factors, and each page for the roles it names."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient

from tests.console.helpers import campaign, post


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


def _console_routes(app: Any) -> list[tuple[str, set[str]]]:
    return [(rule.rule, set(rule.methods or ()) - {"HEAD", "OPTIONS"}) for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("console.")]


def test_every_campaign_and_petition_route_refuses_outsiders(app: Any, make_petition: Any, login_as: Any) -> None:
    """Anonymous readers go to the login page; an organiser of another campaign and a liaison get 403 on
    every page and post about a campaign or petition they do not organise (the overview and the lists are
    theirs too, and targets are shared by every organiser: those are checked in test_targets)."""
    petition = make_petition()
    other_campaign = campaign("another-campaign")
    anonymous, outsider, liaison = app.test_client(), app.test_client(), app.test_client()
    login_as(outsider, organiser_of=[other_campaign])
    login_as(liaison, liaison_of=[petition.targets[0].id])
    values = {"campaign_id": petition.campaign_id, "petition_id": petition.id, "target_id": petition.targets[0].id}
    checked = 0
    for rule, methods in _console_routes(app):
        path = re.sub(r"<int:(\w+)>", lambda m: str(values[m.group(1)]), rule)
        for method in methods:
            response = anonymous.open(path, method=method)
            if method == "GET":
                assert response.status_code == 302, (method, path)
                assert response.headers["Location"].startswith("/login")
            else:  # a post without the session's CSRF token is refused before anything else
                assert response.status_code in (302, 400), (method, path)
            if "<int:campaign_id>" not in rule and "<int:petition_id>" not in rule:
                continue
            for who in (outsider, liaison):
                response = who.get(path) if method == "GET" else post(who, path, {"version": "1", "reason": "x"})
                assert response.status_code == 403, (method, path)
                checked += 1
    assert checked >= 20
