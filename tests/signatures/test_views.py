"""Signing through the web form, confirming through the emailed link, withdrawing."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from advocacy.extensions import db
from advocacy.signatures.models import Signature, SignatureState

TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str, **kwargs: Any) -> str:
    page = client.get(url, **kwargs)
    assert page.status_code == 200
    match = TOKEN_RE.search(page.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign(client: FlaskClient, slug: str, **fields: Any) -> Any:
    data = {"full_name": "Olena Kovalenko", "email": "olena@example.org", "country": "UA",
            "postcode": "", "consent_share_name": "y"}
    data.update(fields)
    data["csrf_token"] = csrf_token(client, f"/p/{slug}")
    return client.post(f"/p/{slug}", data=data)


def confirm_via_email(client: FlaskClient, mail: Any) -> Any:
    link = mail.link("/confirm/")
    path = link.removeprefix("https://petitions.test")
    page = client.get(path)
    assert page.status_code == 200
    assert "Confirm my signature" in page.get_data(as_text=True) or "Підтвердити" in page.get_data(as_text=True)
    token = TOKEN_RE.search(page.get_data(as_text=True))
    assert token
    return client.post(path, data={"csrf_token": token.group(1)})


def test_sign_confirm_and_count(client, make_petition, drain, mailbox):
    petition = make_petition()
    response = sign(client, petition.slug)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/p/{petition.slug}/signed")

    drain()
    mails = mailbox()
    assert len(mails) == 1
    assert mails[0].to == "olena@example.org"
    # the subject names no petition: whoever sees the inbox learns nothing
    assert mails[0].subject == "Confirm your signature"
    assert petition.display_title("en") in mails[0].text
    # every emailed link is built from the configured base URL
    assert mails[0].link("/confirm/").startswith("https://petitions.test/confirm/")

    # a pending signature does not count
    assert client.get(f"/api/v1/petitions/{petition.slug}").get_json()["signature_count"] == 0

    confirmed = confirm_via_email(client, mails[0])
    assert confirmed.status_code == 200
    assert "/withdraw/" in confirmed.get_data(as_text=True)
    data = client.get(f"/api/v1/petitions/{petition.slug}").get_json()
    assert data["signature_count"] == 1
    # the total is exact; one signer's country is not told apart from the others below the threshold
    assert data["signatures_by_country"] == [{"code": "UA", "name": "Ukraine", "count": None, "count_below": 10}]


def test_opening_the_link_does_not_confirm(client, make_petition, drain, mailbox):
    """Mail scanners follow links: only the button's POST confirms."""
    petition = make_petition()
    sign(client, petition.slug)
    drain()
    link = mailbox()[0].link("/confirm/").removeprefix("https://petitions.test")
    for _ in range(3):
        assert client.get(link).status_code == 200
    with client.application.app_context():
        assert db.session.scalar(db.select(Signature.state)) == SignatureState.PENDING


def test_confirming_gives_no_cookie_and_a_button_works_only_for_its_own_signature(app, make_petition, drain,
                                                                                  mailbox):
    """Opening the emailed link and pressing the button start no session (the button's token is stateless and
    bound to the signature; the link's language is remembered as everywhere); a token from another signer's
    page, or none, is refused and confirms nothing."""
    petition = make_petition()
    signer = app.test_client(use_cookies=False)

    def no_session(response: Any) -> bool:
        cookies = response.headers.getlist("Set-Cookie")
        return not any(cookie.startswith(app.config["SESSION_COOKIE_NAME"] + "=") for cookie in cookies)

    for address in ("olena@example.org", "taras@example.org"):
        assert sign(signer, petition.slug, email=address).status_code == 303
    drain()
    # a worker with several threads may send the two mails in either order
    links = {mail.to: mail.link("/confirm/").removeprefix("https://petitions.test") for mail in mailbox()}
    olena, taras = links["olena@example.org"], links["taras@example.org"]
    page = signer.get(olena)
    assert page.status_code == 200
    assert no_session(page)
    olena_token = TOKEN_RE.search(page.get_data(as_text=True))
    assert olena_token
    taras_token = TOKEN_RE.search(signer.get(taras).get_data(as_text=True))
    assert taras_token
    for wrong in ({"csrf_token": taras_token.group(1)}, {"csrf_token": "forged"}, {}):
        refused = signer.post(olena, data=wrong)
        assert refused.status_code == 400
        assert "This form has expired" in refused.get_data(as_text=True)
    with app.app_context():
        assert set(db.session.scalars(db.select(Signature.state))) == {SignatureState.PENDING}
    pressed = signer.post(olena, data={"csrf_token": olena_token.group(1)})
    assert pressed.status_code == 200
    assert no_session(pressed)
    assert "your signature counts" in pressed.get_data(as_text=True)
    with app.app_context():
        states = list(db.session.scalars(db.select(Signature.state).order_by(Signature.id)))
    assert states == [SignatureState.CONFIRMED, SignatureState.PENDING]  # Olena's alone


def test_confirming_twice_counts_once(client, make_petition, drain, mailbox):
    petition = make_petition()
    sign(client, petition.slug)
    drain()
    path = mailbox()[0].link("/confirm/").removeprefix("https://petitions.test")
    token = TOKEN_RE.search(client.get(path).get_data(as_text=True))
    assert token
    # the button pressed twice, e.g. in two tabs opened before either was sent
    first = client.post(path, data={"csrf_token": token.group(1)})
    again = client.post(path, data={"csrf_token": token.group(1)})
    assert first.status_code == again.status_code == 200
    assert "your signature counts" in again.get_data(as_text=True)
    # a later visit to the link says so instead of showing the button
    assert "already confirmed" in client.get(path).get_data(as_text=True)
    assert client.get(f"/api/v1/petitions/{petition.slug}").get_json()["signature_count"] == 1


def test_repeat_signer_gets_same_page_and_already_signed_email(client, make_petition, drain, mailbox):
    petition = make_petition()
    first = sign(client, petition.slug)
    drain()
    confirm_via_email(client, mailbox()[0])
    drain()
    # the same mailbox written differently
    second = sign(client, petition.slug, email="Olena@Example.org ")
    assert second.status_code == first.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    drain()
    subjects = [m.subject for m in mailbox()]
    assert subjects[0] == "Confirm your signature"
    assert subjects[1] == "Your signature is confirmed"
    assert subjects[2] == "You have already signed"
    assert client.get(f"/api/v1/petitions/{petition.slug}").get_json()["signature_count"] == 1


def test_gmail_dots_and_plus_tags_are_one_signer(client, make_petition, drain, mailbox):
    petition = make_petition()
    sign(client, petition.slug, email="olena.kovalenko@gmail.com")
    sign(client, petition.slug, email="OlenaKovalenko+petitions@googlemail.com")
    drain()
    with client.application.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Signature)) == 1
    # both are confirmation emails for the one pending signature, sent to the address it was signed with
    assert [m.subject.split(":")[0] for m in mailbox()] == ["Confirm your signature"] * 2
    assert [m.to for m in mailbox()] == ["olena.kovalenko@gmail.com"] * 2


def test_resending_the_confirmation_is_capped(client, make_petition, drain, mailbox):
    petition = make_petition()
    for _ in range(6):
        assert sign(client, petition.slug).status_code == 303
    drain()
    assert len(mailbox()) == 3


def test_withdraw_removes_from_tally_and_erases_personal_data(client, make_petition, drain, mailbox):
    petition = make_petition()
    sign(client, petition.slug)
    drain()
    confirm_via_email(client, mailbox()[0])
    drain()
    confirmed_mail = mailbox()[1]
    withdraw_path = confirmed_mail.link("/withdraw/").removeprefix("https://petitions.test")
    page = client.get(withdraw_path)
    assert page.status_code == 200
    token = TOKEN_RE.search(page.get_data(as_text=True))
    assert token
    done = client.post(withdraw_path, data={"csrf_token": token.group(1)})
    assert done.status_code == 200
    assert client.get(f"/api/v1/petitions/{petition.slug}").get_json()["signature_count"] == 0
    with client.application.app_context():
        signature = db.session.scalar(db.select(Signature))
        assert signature.state == SignatureState.WITHDRAWN
        assert signature.full_name is None
        assert signature.email is None


@pytest.mark.parametrize("token", ["garbage", "eyJhbGciOi.tampered.x", "MQ.ZZZZZZ.abcdefabcdefabcdefabcdefabc"])
def test_tampered_link_gets_a_clear_page(client, token):
    response = client.get(f"/confirm/{token}")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "This link does not work" in body


def test_expired_link_gets_a_clear_page(client, make_petition, drain, mailbox):
    import time_machine

    petition = make_petition()
    sign(client, petition.slug)
    drain()
    link = mailbox()[0].link("/confirm/").removeprefix("https://petitions.test")
    import datetime as dt

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=8)):
        response = client.get(link)
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_the_confirm_page_shows_exactly_what_the_owner_submitted(client, make_petition, drain, mailbox):
    petition = make_petition()
    sign(client, petition.slug, full_name="Olena Kovalenko", email="olena.kovalenko@gmail.com", country="UA",
         postcode="01001", consent_share_name="y")
    # someone else types the same mailbox another way, with details of their own
    sign(client, petition.slug, full_name="Mallory Stranger", email="olenakovalenko+x@googlemail.com",
         country="PL", postcode="00-001", consent_share_name="", opt_in_news="y")
    drain()
    mails = mailbox()
    assert [m.to for m in mails] == ["olena.kovalenko@gmail.com"] * 2
    for mail in mails:  # the first link and the re-sent one show the same, the owner's, details
        page = client.get(mail.link("/confirm/").removeprefix("https://petitions.test")).get_data(as_text=True)
        details = dict(re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", page, re.S))
        assert {k: " ".join(v.split()) for k, v in details.items()} == {
            "Name": "Olena Kovalenko",
            "Country": "Ukraine",
            "Postcode": "01001",
            "Pass my name and country to the institutions this petition is addressed to": "Yes",
            "News about this campaign": "No",
        }
        assert "Mallory" not in page


def test_a_tampered_signature_gets_a_clear_page_and_is_not_confirmed(client, make_petition, drain, mailbox, caplog):
    petition = make_petition()
    sign(client, petition.slug, full_name="Olena Kovalenko", email="olena@example.org")
    sign(client, petition.slug, full_name="Mallory Stranger", email="mallory@example.org")
    drain()
    olena_mail = next(m for m in mailbox() if m.to == "olena@example.org")
    with client.application.app_context():
        olena_id = db.session.scalar(db.select(Signature.id).order_by(Signature.id))
        # Mallory's sealed name is copied over Olena's, so that Olena would confirm a stranger's name
        db.session.execute(text("UPDATE signatures SET full_name = (SELECT full_name FROM signatures"
                                " WHERE id != :id) WHERE id = :id"), {"id": olena_id})
        db.session.commit()
    path = olena_mail.link("/confirm/").removeprefix("https://petitions.test")
    with caplog.at_level(logging.ERROR, logger="advocacy.crypto"):
        page = client.get(path)
        assert page.status_code == 409
        body = page.get_data(as_text=True)
        assert "This signature cannot be shown" in body
        assert "Mallory" not in body
        assert "Olena" not in body
        # a session token from another form of the site (the petition page's token is for its sign form only)
        pressed = client.post(path, data={"csrf_token": csrf_token(client, f"/p/{petition.slug}/new-link")})
        assert pressed.status_code == 409
    assert f"signatures.full_name of row {olena_id}" in caplog.text
    assert "Mallory" not in caplog.text
    with client.application.app_context():
        assert db.session.get(Signature, olena_id).state == SignatureState.PENDING
    assert client.get(f"/api/v1/petitions/{petition.slug}").get_json()["signature_count"] == 0
