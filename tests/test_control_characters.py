"""Control characters in a path or query parameter are a forged link: 400, never a 500 or a split header."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("target", ["/%0d%0aSet-Cookie:%20x=1", "/p/x%0a", "/%00", "/a%09b", "/%7f"])
def test_language_switch_refuses_control_characters_in_next(client, target):
    response = client.get(f"/language/uk?next={target}")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert not any(header.startswith("x=") for header in response.headers.getlist("Set-Cookie"))
    assert "could not be understood" in response.get_data(as_text=True)


def test_language_switch_still_redirects_to_paths_on_the_site(client):
    response = client.get("/language/uk?next=/events/%3Fwhen%3Dpast")
    assert response.status_code == 303
    assert response.headers["Location"] == "/events/?when=past"
    assert client.get("/language/uk?next=https://evil.example/").headers["Location"] == "/"


@pytest.mark.parametrize("url", [
    "/?lang=en%0a", "/?lang=%00", "/events/?campaign=%00", "/events/?country=U%00A", "/events/?tz=Europe/Kyiv%0d",
    "/events/?session=%00", "/api/v1/petitions?lang=%1b", "/p/some%00slug", "/events/?when%00=past",
])
def test_control_characters_in_any_query_parameter_or_path_are_refused(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "could not be understood" in response.get_data(as_text=True)


def test_api_refusals_are_json(client):
    response = client.get("/api/v1/petitions?lang=%00")
    assert response.status_code == 400
    assert response.get_json()["status"] == 400
