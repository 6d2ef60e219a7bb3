"""A signer who lost the confirmation email or the withdraw link gets a new one, and nobody learns who signed."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from advocacy.accounts.roles import SYSTEM
from advocacy.extensions import db
from advocacy.petitions import services as petitions
from advocacy.signatures.models import Signature, SignatureState
from tests.signatures.test_views import TOKEN_RE, confirm_via_email, csrf_token, sign


def ask(client: FlaskClient, slug: str, email: str) -> Any:
    return client.post(f"/p/{slug}/new-link",
                       data={"email": email, "csrf_token": csrf_token(client, f"/p/{slug}/new-link")})


def test_the_answer_is_the_same_whether_or_not_the_address_signed(client, make_petition, drain, mailbox):
    petition = make_petition()
    sign(client, petition.slug, email="signed@example.org")
    drain()
    before = len(mailbox())
    signed = ask(client, petition.slug, "signed@example.org")
    stranger = ask(client, petition.slug, "never.signed@example.org")
    assert signed.status_code == stranger.status_code == 303
    assert signed.headers["Location"] == stranger.headers["Location"] == f"/p/{petition.slug}/new-link/sent"
    drain()
    # only the address that signed got a mail: a second confirmation link, to itself
    new = mailbox()[before:]
    assert [mail.to for mail in new] == ["signed@example.org"]
    assert client.get(f"/p/{petition.slug}/new-link/sent").status_code == 200


def test_a_pending_signer_gets_the_confirmation_link_again_and_it_works(client, make_petition, drain, mailbox):
    petition = make_petition()
    sign(client, petition.slug)
    drain()
    ask(client, petition.slug, "OLENA@example.org")  # as typed differently
    drain()
    resent = mailbox()[-1]
    assert len(mailbox()) == 2
    assert confirm_via_email(client, resent).status_code == 200
    assert db.session.scalar(db.select(Signature.state)) == SignatureState.CONFIRMED


def test_a_confirmed_signer_gets_a_withdraw_link_that_works_even_after_closing(
        ctx, client, make_petition, drain, mailbox):
    petition = make_petition()
    sign(client, petition.slug)
    drain()
    confirm_via_email(client, mailbox()[0])
    drain()
    petitions.close_petition(petition.id, actor=SYSTEM)
    db.session.commit()
    assert ask(client, petition.slug, "olena@example.org").status_code == 303
    drain()
    mail = mailbox()[-1]
    assert "withdraw" in mail.subject.lower() or "back" in mail.subject.lower()
    link = mail.link("/withdraw/").removeprefix("https://petitions.test")
    page = client.get(link).get_data(as_text=True)
    token = TOKEN_RE.search(page)
    assert token
    assert client.post(link, data={"csrf_token": token.group(1)}).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(db.select(Signature.state)) == SignatureState.WITHDRAWN


def test_new_links_share_the_daily_cap_of_signing_again(client, make_petition, drain, mailbox):
    petition = make_petition()
    sign(client, petition.slug)  # the first email
    for _ in range(5):
        assert ask(client, petition.slug, "olena@example.org").status_code == 303
    drain()
    assert len(mailbox()) == 3  # the cap: three emails a signature a day


def test_withdrawn_and_unknown_signers_get_nothing(client, make_petition, drain, mailbox):
    petition = make_petition()
    sign(client, petition.slug)
    drain()
    confirm_via_email(client, mailbox()[0])
    drain()
    withdraw = mailbox()[-1].link("/withdraw/").removeprefix("https://petitions.test")
    token = TOKEN_RE.search(client.get(withdraw).get_data(as_text=True))
    assert token
    client.post(withdraw, data={"csrf_token": token.group(1)})
    sent = len(mailbox())
    assert ask(client, petition.slug, "olena@example.org").status_code == 303
    drain()
    assert len(mailbox()) == sent


def test_a_bad_address_is_shown_again_with_the_error(client, make_petition):
    petition = make_petition()
    answer = ask(client, petition.slug, "not-an-address")
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'value="not-an-address"' in html
    assert "valid email address" in html
    assert 'class="error-summary"' in html


def test_the_form_needs_its_token_and_a_published_petition(client, make_petition):
    from advocacy.petitions.models import PetitionStatus

    petition = make_petition()
    refused = client.post(f"/p/{petition.slug}/new-link", data={"email": "olena@example.org"})
    assert refused.status_code == 400
    assert "expired" in refused.get_data(as_text=True)
    draft = make_petition(status=PetitionStatus.DRAFT)
    assert client.get(f"/p/{draft.slug}/new-link").status_code == 404


def test_the_petition_and_check_your_email_pages_offer_it(client, make_petition):
    petition = make_petition()
    assert f"/p/{petition.slug}/new-link" in client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert f"/p/{petition.slug}/new-link" in client.get(f"/p/{petition.slug}/signed").get_data(as_text=True)
