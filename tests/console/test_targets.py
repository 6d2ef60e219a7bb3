"""Target pages: any organiser adds, edits and publishes institutions; liaisons are listed, read-only."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from advocacy.extensions import db
from advocacy.petitions import services
from advocacy.petitions.models import DataSharing, DeliveryChannel
from tests.console.helpers import campaign, hidden, post, target, text

NEW = {"slug": "verkhovna-rada", "name_en": "Verkhovna Rada of Ukraine", "name_uk": "Верховна Рада України",
       "country": "UA", "languages": "uk", "website": "https://www.rada.gov.ua",
       "contact_email": "petitions@rada.example", "delivery_channel": "email", "webhook_url": "",
       "data_sharing": "counts_only"}


def test_organiser_adds_edits_and_publishes_a_target(client: FlaskClient, login_as: Any, ctx: None) -> None:
    login_as(client, organiser_of=[campaign()])
    form = text(client.get("/console/targets/new"))
    assert '<option value="UA">Ukraine</option>' in form
    assert 'name="name_uk"' in form
    assert 'lang="uk"' in form
    response = post(client, "/console/targets/new", NEW)
    assert response.status_code == 303, text(response)
    found = services.find_target("verkhovna-rada")
    assert found is not None
    assert found.country == "UA"
    assert found.languages == ["uk"]
    assert found.data_sharing == DataSharing.COUNTS_ONLY
    assert found.contact_email == "petitions@rada.example"
    assert found.published_at is None

    edit = text(client.get(f"/console/targets/{found.id}/edit"))
    changed = dict(NEW, delivery_channel="webhook", webhook_url="https://rada.example/hook",
                   version=hidden(edit, "version"))
    assert post(client, f"/console/targets/{found.id}/edit", changed).status_code == 303
    db.session.expire_all()
    assert found.delivery_channel == DeliveryChannel.WEBHOOK
    assert found.webhook_url == "https://rada.example/hook"

    assert post(client, f"/console/targets/{found.id}/publish").status_code == 303
    db.session.expire_all()
    assert found.published_at is not None
    assert "Verkhovna Rada of Ukraine" in text(client.get("/console/targets"))


def test_country_names_follow_the_page_language(client: FlaskClient, login_as: Any, ctx: None) -> None:
    login_as(client, organiser_of=[campaign()])
    assert '<option value="UA">Україна</option>' in text(client.get("/console/targets/new?lang=uk"))


def test_a_webhook_needs_its_address(client: FlaskClient, login_as: Any, ctx: None) -> None:
    login_as(client, organiser_of=[campaign()])
    response = post(client, "/console/targets/new", dict(NEW, delivery_channel="webhook", webhook_url=""))
    assert response.status_code == 400
    page = text(response)
    assert 'class="error-summary"' in page
    assert 'value="Verkhovna Rada of Ukraine"' in page
    assert services.find_target("verkhovna-rada") is None


def test_liaisons_are_listed(client: FlaskClient, login_as: Any, ctx: None) -> None:
    target_id = target()
    other = client.application.test_client()
    login_as(other, liaison_of=[target_id], email="liaison@bundestag.example")
    login_as(client, organiser_of=[campaign()])
    page = text(client.get(f"/console/targets/{target_id}/edit"))
    assert "liaison@bundestag.example" in page


def test_liaisons_and_accounts_without_roles_are_refused(client: FlaskClient, login_as: Any, ctx: None) -> None:
    target_id = target()
    login_as(client, liaison_of=[target_id])
    for path in ("/console/targets", "/console/targets/new", f"/console/targets/{target_id}/edit"):
        assert client.get(path).status_code == 403, path
    for path in ("/console/targets/new", f"/console/targets/{target_id}/edit",
                 f"/console/targets/{target_id}/publish"):
        assert post(client, path, NEW).status_code == 403, path
    # the liaison's own overview names the target
    assert "Bundestag" in text(client.get("/console/"))
