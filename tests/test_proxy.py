"""Behind a reverse proxy: who the client is, which scheme it used, which hosts the site answers, Secure cookies.

The apps here share the session app's database (so ``make_petition`` works) but have their own settings:
ADVOCACY_TRUSTED_PROXIES, ADVOCACY_EXTRA_HOSTS and the base URL are read when the app is created.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import waitress.adjustments
from flask import Flask
from flask.testing import FlaskClient

from advocacy import create_app
from advocacy.cli import waitress_proxy_options
from advocacy.config import load_settings
from advocacy.extensions import limiter
from tests.conftest import settings_for_tests

PROXY = "10.0.0.2"  # the reverse proxy's address, as the app's server sees the connection


@pytest.fixture
def make_app(app: Flask, tmp_path: Path, rebind_worker_app: None) -> Iterator[Callable[..., Flask]]:
    """An app on the session's database with some settings changed."""

    def create(**changes: Any) -> Flask:
        settings = settings_for_tests(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"])
        settings = dataclasses.replace(settings, **{"extra_hosts": (), **changes})
        return create_app({"TESTING": True, "TALLY_CACHE_SECONDS": 0, "PAGE_CACHE_SECONDS": 0}, settings=settings)

    yield create
    limiter.reset()


def proxied(client: FlaskClient, method: str, path: str, forwarded_for: str, proto: str = "https",
            host: str = "petitions.test", **kwargs: Any) -> Any:
    """A request as nginx passes it on: the real Host, the client's address and scheme in X-Forwarded-*."""
    headers = {"Host": host, "X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": proto}
    headers.update(kwargs.pop("headers", {}))
    return client.open(path, method=method, headers=headers, environ_base={"REMOTE_ADDR": PROXY}, **kwargs)


def sign_until_limited(client: FlaskClient, slug: str, forwarded_for: str) -> list[int]:
    return [proxied(client, "POST", f"/p/{slug}", forwarded_for, data={"full_name": ""}).status_code
            for _ in range(21)]


def test_rate_limits_count_each_signer_behind_the_proxy(make_app, make_petition):
    proxy_app = make_app(trusted_proxies=1)
    petition = make_petition()
    client = proxy_app.test_client()
    limiter.enabled = True
    limiter.reset()
    # a client may send its own X-Forwarded-For: only the hop our proxy appended counts
    codes = sign_until_limited(client, petition.slug, "198.51.100.9, 203.0.113.7")
    assert codes[:20] == [400] * 20
    assert codes[20] == 429
    # another signer behind the same proxy is not limited by the first one's attempts
    assert proxied(client, "POST", f"/p/{petition.slug}", "203.0.113.8", data={"full_name": ""}).status_code == 400
    # and the first cannot escape the limit by forging an earlier hop
    forged = proxied(client, "POST", f"/p/{petition.slug}", "192.0.2.1, 203.0.113.7", data={"full_name": ""})
    assert forged.status_code == 429


def test_without_trusted_proxies_forwarded_addresses_are_ignored(make_app, make_petition):
    direct_app = make_app(trusted_proxies=0)
    petition = make_petition()
    client = direct_app.test_client()
    limiter.enabled = True
    limiter.reset()
    codes = [proxied(client, "POST", f"/p/{petition.slug}", f"203.0.113.{n}", data={"full_name": ""}).status_code
             for n in range(21)]
    # every request came from the proxy's address, whatever X-Forwarded-For claims
    assert codes[20] == 429


def test_the_forwarded_scheme_is_believed_only_from_trusted_proxies(make_app):
    # /events redirects to /events/ with an absolute URL: it shows the scheme the app believes
    proxied_redirect = proxied(make_app(trusted_proxies=1).test_client(), "GET", "/events", "203.0.113.7")
    assert proxied_redirect.status_code == 308
    assert proxied_redirect.headers["Location"].startswith("https://petitions.test/events/")

    direct_redirect = proxied(make_app(trusted_proxies=0).test_client(), "GET", "/events", "203.0.113.7")
    assert direct_redirect.headers["Location"].startswith("http://petitions.test/events/")


def test_only_the_sites_own_hosts_are_answered(make_app, make_petition):
    site = make_app(trusted_proxies=1, extra_hosts=("peoplefirstxyz.onion", "petitions.example.net"))
    petition = make_petition()
    client = site.test_client()
    for host in ("petitions.test", "petitions.test:443", "peoplefirstxyz.onion",
                 "petitions.example.net"):
        assert proxied(client, "GET", f"/p/{petition.slug}", "203.0.113.7", host=host).status_code == 200, host
    for host in ("evil.example", "petitions.test.evil.example", "localhost", "10.0.0.2"):
        response = proxied(client, "GET", f"/p/{petition.slug}", "203.0.113.7", host=host)
        assert response.status_code == 400, host
        assert "could not be understood" in response.get_data(as_text=True)


def test_a_forwarded_host_is_never_believed(make_app, make_petition):
    site = make_app(trusted_proxies=1)
    petition = make_petition()
    client = site.test_client()
    # the proxy passes the real Host; an X-Forwarded-Host (the client's own, passed through) changes nothing
    page = proxied(client, "GET", f"/p/{petition.slug}", "203.0.113.7", headers={"X-Forwarded-Host": "evil.example"})
    assert page.status_code == 200
    redirect = proxied(client, "GET", "/events", "203.0.113.7", headers={"X-Forwarded-Host": "evil.example"})
    assert redirect.headers["Location"].startswith("https://petitions.test/")
    # nor does it let a request for another Host through
    sneaky = proxied(client, "GET", f"/p/{petition.slug}", "203.0.113.7", host="evil.example",
                     headers={"X-Forwarded-Host": "petitions.test"})
    assert sneaky.status_code == 400


def test_a_loopback_base_url_answers_all_loopback_names(make_app):
    local = make_app(base_url="http://127.0.0.1:5000")
    client = local.test_client()
    for host in ("127.0.0.1:5000", "localhost:5000"):
        assert client.get("/", headers={"Host": host}).status_code == 200
    assert client.get("/", headers={"Host": "petitions.test"}).status_code == 400


def _cookie(response: Any, name: str) -> str:
    found = [header for header in response.headers.getlist("Set-Cookie") if header.startswith(f"{name}=")]
    assert found, f"no {name} cookie in {response.headers.getlist('Set-Cookie')}"
    return found[0]


def test_cookies_are_secure_whenever_the_base_url_is_https(make_app, make_petition):
    # the proxy terminates TLS and speaks plain http to the app: the cookies are Secure all the same
    site = make_app(trusted_proxies=0)
    petition = make_petition()
    client = site.test_client()
    page = client.get(f"/p/{petition.slug}?lang=uk", headers={"Host": "petitions.test"})
    assert page.status_code == 200
    assert "; Secure" in _cookie(page, "lang")
    # a petition page sets no session (its form's token is stateless); a form with a session token does
    form = client.get(f"/p/{petition.slug}/new-link", headers={"Host": "petitions.test"})
    assert "; Secure" in _cookie(form, "session")
    switched = client.get("/language/ru?next=/", headers={"Host": "petitions.test"})
    assert switched.status_code == 303
    assert "; Secure" in _cookie(switched, "lang")
    zone = client.get("/events/?tz=Europe/Kyiv", headers={"Host": "petitions.test"})
    assert zone.status_code == 200
    assert "; Secure" in _cookie(zone, "tz")


def test_a_refused_request_remembers_no_language(client):
    refused = client.get("/?lang=uk%0a", headers={"Host": "petitions.test"})
    assert refused.status_code == 400
    assert "lang=" not in refused.headers.get("Set-Cookie", "")


def test_cookies_are_not_secure_on_a_plain_http_site(make_app, make_petition):
    site = make_app(base_url="http://petitions.test")
    petition = make_petition()
    page = site.test_client().get(f"/p/{petition.slug}?lang=uk", headers={"Host": "petitions.test"})
    assert "Secure" not in _cookie(page, "lang")
    form = site.test_client().get(f"/p/{petition.slug}/new-link", headers={"Host": "petitions.test"})
    assert "Secure" not in _cookie(form, "session")


def test_proxy_settings_are_read_from_the_environment(tmp_path):
    env = {"ADVOCACY_TRUSTED_PROXIES": "2", "ADVOCACY_EXTRA_HOSTS": "peoplefirstxyz.onion, https://Second.example.org/"}
    settings = load_settings(env, instance_path=tmp_path)
    assert settings.trusted_proxies == 2
    assert settings.extra_hosts == ("peoplefirstxyz.onion", "second.example.org")
    assert load_settings({}, instance_path=tmp_path).trusted_proxies == 0
    for wrong in ("yes", "-1"):
        with pytest.raises(ValueError, match="ADVOCACY_TRUSTED_PROXIES"):
            load_settings({"ADVOCACY_TRUSTED_PROXIES": wrong}, instance_path=tmp_path)


def test_waitress_trusts_the_same_hops(tmp_path):
    """`advocacy serve` gives waitress options it accepts: X-Forwarded-For/-Proto from N hops, or none."""
    behind = load_settings({"ADVOCACY_TRUSTED_PROXIES": "2"}, instance_path=tmp_path)
    options = waitress_proxy_options(behind)
    adjustments = waitress.adjustments.Adjustments(**options)
    assert adjustments.trusted_proxy_count == 2
    assert adjustments.trusted_proxy_headers == {"x-forwarded-for", "x-forwarded-proto"}
    assert adjustments.clear_untrusted_proxy_headers

    direct = waitress.adjustments.Adjustments(**waitress_proxy_options(load_settings({}, instance_path=tmp_path)))
    assert direct.trusted_proxy is None
    assert direct.clear_untrusted_proxy_headers
