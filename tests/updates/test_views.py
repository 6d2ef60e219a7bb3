"""The console's update pages (second-organiser approval, roles, preview) and the one-click unsubscribe."""

from __future__ import annotations

from sqlalchemy import select

from advocacy.extensions import db
from advocacy.petitions.models import Petition
from advocacy.signatures.models import Signature
from advocacy.updates import services
from advocacy.updates.models import Update, UpdateStatus
from tests.console.helpers import hidden, post, text
from tests.updates.conftest import organiser

FORM = {"subject_en": "We handed it in", "body_en": "It is **delivered**.",
        "subject_uk": "Ми її передали", "body_uk": "Її **передано**.", "subject_ru": "", "body_ru": ""}


def test_the_author_cannot_approve_another_organiser_does(app, client, login_as, make_petition, signer, drain,
                                                        mailbox):
    petition = make_petition()
    signer(petition.id, "uk@example.org", locale="uk")
    base = f"/console/petitions/{petition.id}/updates"
    colleague = app.test_client()
    login_as(client, organiser_of=[petition.campaign_id])
    login_as(colleague, organiser_of=[petition.campaign_id])

    assert "Updates to signers" in text(client.get(f"/console/petitions/{petition.id}"))
    preview = post(client, f"{base}/new", {**FORM, "preview": "1"})
    assert preview.status_code == 200
    assert "&lt;strong&gt;delivered&lt;/strong&gt;" in text(preview)  # the email HTML, inside srcdoc
    assert db.session.scalar(select(Update.id)) is None  # a preview saves nothing
    saved = post(client, f"{base}/new", FORM)
    assert saved.status_code == 303
    update_id = db.session.scalar(select(Update.id))
    page = text(client.get(f"{base}/{update_id}"))
    assert post(client, f"{base}/{update_id}/submit", {"version": hidden(page, "version")}).status_code == 303

    assert "Approve and send" not in text(client.get(f"{base}/{update_id}"))
    assert post(client, f"{base}/{update_id}/approve").status_code == 403
    db.session.expire_all()
    assert db.session.get(Update, update_id).status == UpdateStatus.SUBMITTED

    assert "Approve and send" in text(colleague.get(f"{base}/{update_id}"))
    assert post(colleague, f"{base}/{update_id}/approve").status_code == 303
    drain()
    [mail] = mailbox()
    assert mail.subject == "Ми її передали"
    # links come from the base URL, never from the Host the approving request had (localhost)
    assert mail.message["List-Unsubscribe"].startswith("<https://petitions.test/updates/unsubscribe/")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.link("/updates/unsubscribe/").startswith("https://petitions.test/")
    assert "localhost" not in mail.text


def test_an_organiser_of_another_campaign_gets_403(app, client, login_as, make_petition):
    from advocacy.accounts.roles import SYSTEM
    from advocacy.petitions import services as petitions

    petition = make_petition()
    other = petitions.create_campaign("other", actor=SYSTEM, name={"en": "Other"})
    db.session.commit()
    found = services.create_update(petition.id, actor=organiser(1, petition.campaign_id),
                                   subject={"en": "News"}, body={"en": "Text."})
    services.submit_update(found.id, actor=organiser(1, petition.campaign_id), version=1)
    db.session.commit()
    login_as(client, organiser_of=[other.id])
    base = f"/console/petitions/{petition.id}/updates"
    assert client.get(f"{base}/").status_code == 403
    assert client.get(f"{base}/{found.id}").status_code == 403
    assert post(client, f"{base}/{found.id}/approve", csrf=False).status_code in (400, 403)
    db.session.expire_all()
    assert db.session.get(Update, found.id).status == UpdateStatus.SUBMITTED


def test_one_click_unsubscribe_without_csrf_and_get_changes_nothing(client, make_petition, signer):
    petition = make_petition()
    signature_id = signer(petition.id, "anna@example.org")
    path = "/updates/unsubscribe/" + services.unsubscribe_token(signature_id)

    page = client.get(path)
    assert page.status_code == 200
    assert "Send me no more updates" in text(page)
    db.session.expire_all()
    assert db.session.get(Signature, signature_id).opt_in_news is True

    # a browser's POST without its token is refused; the RFC 8058 body needs none
    assert client.post(path, data={}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Signature, signature_id).opt_in_news is True
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    db.session.expire_all()
    assert db.session.get(Signature, signature_id).opt_in_news is False
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # twice is harmless
    assert client.get("/updates/unsubscribe/forged").status_code == 404


def test_unsubscribe_pages_in_every_language(client, make_petition, signer):
    petition = make_petition()
    path = "/updates/unsubscribe/" + services.unsubscribe_token(signer(petition.id, "anna@example.org"))
    for lang in ("en", "uk", "ru"):
        response = client.get(f"{path}?lang={lang}")
        assert response.status_code == 200
        assert f'lang="{lang}"' in text(response)


def test_milestone_switch_on_the_console(client, login_as, make_petition):
    petition = make_petition()
    login_as(client, organiser_of=[petition.campaign_id])
    base = f"/console/petitions/{petition.id}/updates"
    assert post(client, f"{base}/milestones", {"enabled": "y"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Petition, petition.id).milestone_emails is True
    assert post(client, f"{base}/milestones", {}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Petition, petition.id).milestone_emails is False


def test_console_pages_in_every_language(client, login_as, make_petition):
    petition = make_petition()
    found = services.create_update(petition.id, actor=organiser(1, petition.campaign_id),
                                   subject={"en": "News", "ru": "Новости"}, body={"en": "Text.", "ru": "Текст."})
    db.session.commit()
    login_as(client, organiser_of=[petition.campaign_id])
    base = f"/console/petitions/{petition.id}/updates"
    for lang in ("en", "uk", "ru"):
        for path in (f"{base}/", f"{base}/new", f"{base}/{found.id}", f"{base}/{found.id}/edit"):
            response = client.get(f"{path}?lang={lang}")
            assert response.status_code == 200, path
            assert f'lang="{lang}"' in text(response)
        # the email as a page is in the email's language, whatever the console's
        assert '<html lang="ru">' in text(client.get(f"{base}/{found.id}/email?locale=ru&lang={lang}"))
    assert client.get(f"{base}/{found.id}/email?locale=uk").status_code == 404  # it has no Ukrainian text
