"""The whole moderation path through the console with two organisers of one campaign: one writes and
submits, the other approves or rejects; the public site follows at once."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from advocacy.extensions import db
from advocacy.petitions import services
from advocacy.petitions.models import PetitionStatus
from tests.console.helpers import campaign, hidden, petition_form, post, target, text


def _draft(author: FlaskClient, campaign_id: int, target_id: int) -> Any:
    preview = post(author, f"/console/campaigns/{campaign_id}/petitions/new",
                   petition_form([target_id], preview="1"))
    assert "<strong>bold</strong>" in text(preview)
    assert "<script" not in text(preview)
    saved = post(author, f"/console/campaigns/{campaign_id}/petitions/new", petition_form([target_id]))
    assert saved.status_code == 303, text(saved)
    return services.get_petition("free-them-all", include_drafts=True)


def _submit(author: FlaskClient, petition: Any) -> None:
    page = text(author.get(f"/console/petitions/{petition.id}"))
    assert "Submit for approval" in page
    assert post(author, f"/console/petitions/{petition.id}/submit",
                {"version": hidden(page, "version")}).status_code == 303


def test_two_organisers_submit_approve_and_close(client: FlaskClient, app: Any, login_as: Any, ctx: None) -> None:
    campaign_id, target_id = campaign(), target()
    author, colleague = client, app.test_client()
    author_id = login_as(author, organiser_of=[campaign_id], email="author@coalition.test")
    login_as(colleague, organiser_of=[campaign_id], email="colleague@coalition.test")
    petition = _draft(author, campaign_id, target_id)
    assert client.get("/p/free-them-all").status_code == 404

    _submit(author, petition)
    db.session.expire_all()
    assert petition.status == PetitionStatus.SUBMITTED
    assert client.get("/p/free-them-all").status_code == 404

    # the author sees no approve button and cannot approve by posting either
    page = text(author.get(f"/console/petitions/{petition.id}"))
    assert "Approve and open for signing" not in page
    assert "another organiser of the campaign or an admin must approve it" in page
    assert post(author, f"/console/petitions/{petition.id}/approve").status_code == 403
    db.session.expire_all()
    assert petition.status == PetitionStatus.SUBMITTED

    # the colleague has it waiting on the overview, and approves it
    overview = text(colleague.get("/console/"))
    assert "Waiting for your approval" in overview
    assert f'/console/petitions/{petition.id}"' in overview
    assert "Waiting for your approval" not in text(author.get("/console/"))
    assert "Approve and open for signing" in text(colleague.get(f"/console/petitions/{petition.id}"))
    assert post(colleague, f"/console/petitions/{petition.id}/approve").status_code == 303
    db.session.expire_all()
    assert petition.status == PetitionStatus.OPEN

    # the public site follows at once: the page, the home page and the API
    public = client.get("/p/free-them-all")
    assert public.status_code == 200
    assert "<strong>bold</strong>" in text(public)
    assert "/p/free-them-all" in text(client.get("/"))
    assert "free-them-all" in [p["slug"] for p in client.get("/api/v1/petitions").get_json()["petitions"]]

    # the history says who did what, and the console links the public page
    page = text(author.get(f"/console/petitions/{petition.id}"))
    assert 'href="/p/free-them-all"' in page
    history = page.split('id="history-heading"')[1]
    assert "author@coalition.test" in history
    assert "colleague@coalition.test" in history
    assert author_id

    assert post(author, f"/console/petitions/{petition.id}/close").status_code == 303
    db.session.expire_all()
    assert petition.status == PetitionStatus.CLOSED
    closed = text(client.get("/p/free-them-all"))
    assert "This petition is closed and no longer takes signatures." in closed
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', closed)
    refused = client.post("/p/free-them-all", data={
        "csrf_token": token.group(1) if token else "", "full_name": "Ada Lovelace", "email": "ada@example.org",
        "country": "GB"})
    assert refused.status_code != 303
    assert db.session.execute(db.text("SELECT count(*) FROM signatures")).scalar() == 0


def test_reject_with_a_reason_the_author_sees_then_back_to_draft(client: FlaskClient, app: Any, login_as: Any,
                                                                 ctx: None) -> None:
    campaign_id, target_id = campaign(), target()
    author, colleague = client, app.test_client()
    login_as(author, organiser_of=[campaign_id])
    login_as(colleague, organiser_of=[campaign_id])
    petition = _draft(author, campaign_id, target_id)
    _submit(author, petition)

    # a rejection needs a reason
    response = post(colleague, f"/console/petitions/{petition.id}/reject", {"reason": "  "})
    assert response.status_code == 400
    assert 'href="#reason"' in text(response)
    assert 'aria-describedby="reason-hint reason-error"' in text(response)
    db.session.expire_all()
    assert petition.status == PetitionStatus.SUBMITTED
    # and the author cannot reject their own submission (they withdraw it instead)
    assert "Withdraw the submission" in text(author.get(f"/console/petitions/{petition.id}"))
    assert post(author, f"/console/petitions/{petition.id}/reject", {"reason": "mine"}).status_code == 403

    assert post(colleague, f"/console/petitions/{petition.id}/reject",
                {"reason": "Name the prisoners' families' demands in the summary."}).status_code == 303
    db.session.expire_all()
    assert petition.status == PetitionStatus.REJECTED

    overview = text(author.get("/console/"))
    assert "Your petitions that were rejected" in overview
    assert "Name the prisoners&#39; families&#39; demands in the summary." in overview
    page = text(author.get(f"/console/petitions/{petition.id}"))
    assert "Name the prisoners&#39; families&#39; demands in the summary." in page
    assert "Return to draft" in page

    assert post(author, f"/console/petitions/{petition.id}/return-to-draft").status_code == 303
    db.session.expire_all()
    assert petition.status == PetitionStatus.DRAFT
    assert "Submit for approval" in text(author.get(f"/console/petitions/{petition.id}"))


def test_submitting_an_unpublishable_petition_says_why(client: FlaskClient, login_as: Any, ctx: None) -> None:
    campaign_id, target_id = campaign(published=False), target()
    login_as(client, organiser_of=[campaign_id])
    petition = _draft(client, campaign_id, target_id)
    page = text(client.get(f"/console/petitions/{petition.id}"))
    response = post(client, f"/console/petitions/{petition.id}/submit", {"version": hidden(page, "version")})
    assert response.status_code == 303
    assert "Its campaign is not published." in text(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert petition.status == PetitionStatus.DRAFT


def test_an_admin_approves_an_organisers_submission(client: FlaskClient, app: Any, login_as: Any,
                                                    ctx: None) -> None:
    campaign_id, target_id = campaign(), target()
    admin = app.test_client()
    login_as(client, organiser_of=[campaign_id])
    login_as(admin, admin=True)
    petition = _draft(client, campaign_id, target_id)
    _submit(client, petition)
    assert "Waiting for your approval" in text(admin.get("/console/"))
    assert post(admin, f"/console/petitions/{petition.id}/approve").status_code == 303
    db.session.expire_all()
    assert petition.status == PetitionStatus.OPEN
