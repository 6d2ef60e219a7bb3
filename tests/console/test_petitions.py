"""Writing petitions in the console: per-language Markdown with a preview that saves nothing, targets and
goals, edits on a version that never silently overwrite someone else's."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from advocacy.accounts.roles import SYSTEM
from advocacy.extensions import db
from advocacy.petitions import services
from advocacy.petitions.models import Petition, PetitionStatus
from tests.console.helpers import campaign, hidden, petition_form, post, target, text


def test_preview_renders_markdown_safely_and_saves_nothing(client: FlaskClient, login_as: Any, ctx: None) -> None:
    campaign_id, target_id = campaign(), target()
    login_as(client, organiser_of=[campaign_id])
    form = text(client.get(f"/console/campaigns/{campaign_id}/petitions/new"))
    # the campaign's languages only, each input marked with its language
    assert 'name="title_en"' in form
    assert 'name="body_uk"' in form
    assert 'name="body_ru"' not in form
    assert 'id="body_uk" lang="uk"' in form or ('lang="uk"' in form and 'id="body_uk"' in form)
    body = "Hello **world**\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1)) [good](https://example.org)"
    response = post(client, f"/console/campaigns/{campaign_id}/petitions/new",
                    petition_form([target_id], body_en=body, preview="1"))
    assert response.status_code == 200
    page = text(response)
    assert "<strong>world</strong>" in page
    assert '<a href="https://example.org"' in page
    assert "<script>" not in page
    assert 'href="javascript:' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # kept as text in the textarea and the preview
    assert "Перший абзац." in page
    assert db.session.scalar(db.select(Petition)) is None


def test_create_then_edit_a_petition(client: FlaskClient, login_as: Any, ctx: None) -> None:
    campaign_id, target_id = campaign(), target()
    login_as(client, organiser_of=[campaign_id])
    response = post(client, f"/console/campaigns/{campaign_id}/petitions/new",
                    petition_form([target_id], closes_on="2031-05-01", postcode_required="y"))
    assert response.status_code == 303, text(response)
    petition = services.get_petition("free-them-all", include_drafts=True)
    assert response.headers["Location"] == f"/console/petitions/{petition.id}"
    assert petition.status == PetitionStatus.DRAFT
    assert petition.title == {"en": "Free them all", "uk": "Звільніть усіх"}
    assert [t.id for t in petition.targets] == [target_id]
    assert petition.goal == 1000
    assert petition.country_goals == {"UA": 500, "DE": 200}
    assert petition.postcode_required
    assert petition.retention_days == 180
    assert petition.closes_at is not None
    assert petition.closes_at.isoformat().startswith("2031-05-02T00:00")

    edit = text(client.get(f"/console/petitions/{petition.id}/edit"))
    assert "UA 500" in edit
    assert 'value="2031-05-01"' in edit
    changed = petition_form([target_id], title_en="Free them all now", country_goals="UA 600",
                            version=hidden(edit, "version"))
    assert post(client, f"/console/petitions/{petition.id}/edit", changed).status_code == 303
    db.session.expire_all()
    assert petition.title["en"] == "Free them all now"
    assert petition.country_goals == {"UA": 600}


def test_errors_point_at_their_fields(client: FlaskClient, login_as: Any, ctx: None) -> None:
    campaign_id, target_id = campaign(), target()
    login_as(client, organiser_of=[campaign_id])
    response = post(client, f"/console/campaigns/{campaign_id}/petitions/new",
                    petition_form([target_id], title_en="", title_uk="", country_goals="Ukraine lots",
                                  goal="-3"))
    assert response.status_code == 400
    page = text(response)
    assert 'href="#country_goals"' in page
    assert 'href="#goal"' in page
    assert 'aria-describedby="country_goals-hint country_goals-error"' in page
    assert "Ukraine lots" in page
    assert "First **bold** paragraph." in page
    # the service's own refusal (no title in any language) goes beside the first title
    response = post(client, f"/console/campaigns/{campaign_id}/petitions/new",
                    petition_form([target_id], title_en="", title_uk=""))
    assert response.status_code == 400
    assert 'href="#title_en"' in text(response)
    assert db.session.scalar(db.select(Petition)) is None


def test_stale_edit_is_refused_and_keeps_what_was_typed(client: FlaskClient, login_as: Any, ctx: None) -> None:
    campaign_id, target_id = campaign(), target()
    petition = services.create_petition("stale", actor=SYSTEM, campaign_id=campaign_id, title={"en": "Original"},
                                        target_ids=[target_id])
    db.session.commit()
    first, second = client, client.application.test_client()
    login_as(first, organiser_of=[campaign_id])
    login_as(second, organiser_of=[campaign_id])
    version_first = hidden(text(first.get(f"/console/petitions/{petition.id}/edit")), "version")
    version_second = hidden(text(second.get(f"/console/petitions/{petition.id}/edit")), "version")
    saved = post(second, f"/console/petitions/{petition.id}/edit",
                 petition_form([target_id], title_en="Second's title", version=version_second))
    assert saved.status_code == 303, text(saved)
    response = post(first, f"/console/petitions/{petition.id}/edit",
                    petition_form([target_id], title_en="First's carefully typed title", version=version_first))
    assert response.status_code == 409
    page = text(response)
    assert "Someone else changed this petition while you were editing" in page
    assert 'value="First&#39;s carefully typed title"' in page or "First's carefully typed title" in page
    db.session.expire_all()
    assert petition.title["en"] == "Second's title"


def test_once_open_only_dates_and_goals_change(client: FlaskClient, login_as: Any, make_petition: Any) -> None:
    petition = make_petition()
    login_as(client, organiser_of=[petition.campaign_id])
    edit = text(client.get(f"/console/petitions/{petition.id}/edit"))
    assert 'name="title_en"' not in edit
    assert 'name="goal"' in edit
    response = post(client, f"/console/petitions/{petition.id}/edit",
                    {"goal": "5000", "country_goals": "UA 900", "retention_days": "180",
                     "title_en": "Sneaky", "version": hidden(edit, "version")})
    assert response.status_code == 303
    db.session.expire_all()
    assert petition.goal == 5000
    assert petition.country_goals == {"UA": 900}
    assert petition.title["en"].startswith("Free them all")


def test_organiser_of_another_campaign_and_liaison_get_403_everywhere(client: FlaskClient, login_as: Any,
                                                                      make_petition: Any) -> None:
    petition = make_petition()
    draft = make_petition(status=PetitionStatus.DRAFT)
    other = campaign("another-campaign")
    liaison = client.application.test_client()
    login_as(client, organiser_of=[other])
    login_as(liaison, liaison_of=[petition.targets[0].id])
    for who in (client, liaison):
        for ident in (petition.id, draft.id):
            for path in (f"/console/petitions/{ident}", f"/console/petitions/{ident}/edit",
                         f"/console/petitions/{ident}/launch"):
                assert who.get(path).status_code == 403, path
            for action in ("edit", "submit", "approve", "reject", "return-to-draft", "close", "launch"):
                path = f"/console/petitions/{ident}/{action}"
                assert post(who, path, {"reason": "no", "version": "1", "countries": "DE"}).status_code == 403, path
        for path in (f"/console/campaigns/{petition.campaign_id}", f"/console/campaigns/{petition.campaign_id}/edit",
                     f"/console/campaigns/{petition.campaign_id}/petitions/new"):
            assert who.get(path).status_code == 403, path
    assert client.get("/console/petitions/9999").status_code == 404
    db.session.expire_all()
    assert draft.status == PetitionStatus.DRAFT
    assert petition.status == PetitionStatus.OPEN
