"""Campaign pages: admins create, organisers of the campaign edit and publish, nobody else gets in."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from advocacy.extensions import db
from advocacy.petitions import services
from tests.console.helpers import campaign, hidden, post, text

NEW = {"slug": "people-first", "name_en": "People First", "name_uk": "Люди передусім",
       "description_en": "Free them all", "languages": ["en", "uk"], "website": "https://people-first.example",
       "sender_name": "People First coalition", "footer_en": "You signed a People First petition.",
       "footer_uk": "Ви підписали петицію."}


def test_admin_creates_edits_and_publishes_a_campaign(client: FlaskClient, login_as: Any, ctx: None) -> None:
    login_as(client, admin=True)
    form = text(client.get("/console/campaigns/new"))
    assert 'lang="uk"' in form
    assert 'name="name_uk"' in form
    assert 'value="uk"' in form
    response = post(client, "/console/campaigns/new", NEW)
    assert response.status_code == 303
    created = services.find_campaign("people-first")
    assert created is not None
    assert response.headers["Location"] == f"/console/campaigns/{created.id}"
    assert created.name == {"en": "People First", "uk": "Люди передусім"}
    assert created.languages == ["en", "uk"]
    assert created.sender_name == "People First coalition"
    assert created.email_footer == {"en": "You signed a People First petition.", "uk": "Ви підписали петицію."}
    assert created.published_at is None

    edit = text(client.get(f"/console/campaigns/{created.id}/edit"))
    assert 'value="People First"' in edit
    changed = dict(NEW, name_en="People First!", languages=["en", "uk", "ru"], version=hidden(edit, "version"))
    assert post(client, f"/console/campaigns/{created.id}/edit", changed).status_code == 303
    db.session.expire_all()
    assert created.name["en"] == "People First!"
    assert created.languages == ["en", "uk", "ru"]

    assert post(client, f"/console/campaigns/{created.id}/publish").status_code == 303
    db.session.expire_all()
    assert created.published_at is not None
    assert "People First!" in text(client.get("/console/campaigns"))


def test_errors_are_summarised_linked_and_typed_values_kept(client: FlaskClient, login_as: Any, ctx: None) -> None:
    login_as(client, admin=True)
    response = post(client, "/console/campaigns/new", dict(NEW, slug="Not A Slug", name_en="", name_uk="",
                                                           website="ftp://nowhere"))
    assert response.status_code == 400
    page = text(response)
    assert 'class="error-summary"' in page
    assert 'href="#slug"' in page
    assert 'href="#name_en"' in page
    assert 'href="#website"' in page
    assert 'aria-describedby="slug-hint slug-error"' in page
    assert 'id="name_en-error"' in page
    assert 'value="Not A Slug"' in page
    assert "Free them all" in page
    assert services.find_campaign("people-first") is None


def test_only_admins_create_campaigns(client: FlaskClient, login_as: Any, ctx: None) -> None:
    campaign_id = campaign()
    login_as(client, organiser_of=[campaign_id])
    assert client.get("/console/campaigns/new").status_code == 403
    assert post(client, "/console/campaigns/new", NEW).status_code == 403
    assert "New campaign" not in text(client.get("/console/campaigns"))


def test_stale_campaign_edit_keeps_what_was_typed(client: FlaskClient, login_as: Any, ctx: None) -> None:
    campaign_id = campaign()
    login_as(client, organiser_of=[campaign_id])
    version = hidden(text(client.get(f"/console/campaigns/{campaign_id}/edit")), "version")
    from advocacy.accounts.roles import SYSTEM
    services.update_campaign(campaign_id, actor=SYSTEM, version=int(version), website="https://elsewhere.example")
    db.session.commit()
    response = post(client, f"/console/campaigns/{campaign_id}/edit",
                    dict(NEW, name_en="My typed name", version=version))
    assert response.status_code == 400
    page = text(response)
    assert "Someone else changed this campaign while you were editing" in page
    assert 'value="My typed name"' in page


def test_other_organisers_and_liaisons_are_refused(client: FlaskClient, login_as: Any, ctx: None) -> None:
    mine, theirs = campaign("mine"), campaign("theirs")
    login_as(client, organiser_of=[mine])
    assert "Theirs" not in text(client.get("/console/campaigns"))
    for path in (f"/console/campaigns/{theirs}", f"/console/campaigns/{theirs}/edit",
                 f"/console/campaigns/{theirs}/petitions/new"):
        assert client.get(path).status_code == 403, path
    for path in (f"/console/campaigns/{theirs}/edit", f"/console/campaigns/{theirs}/publish",
                 f"/console/campaigns/{theirs}/petitions/new"):
        assert post(client, path, NEW).status_code == 403, path
    assert client.get("/console/campaigns/999").status_code == 404

    liaison = client.application.test_client()
    login_as(liaison, liaison_of=[])
    assert liaison.get("/console/campaigns").status_code == 403
    assert liaison.get(f"/console/campaigns/{mine}").status_code == 403


def test_a_post_without_csrf_token_is_refused(client: FlaskClient, login_as: Any, ctx: None) -> None:
    login_as(client, admin=True)
    response = post(client, "/console/campaigns/new", NEW, csrf=False)
    assert response.status_code == 400
    assert services.find_campaign("people-first") is None
