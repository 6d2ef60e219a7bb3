"""The sign form as a person meets it: errors on the right fields, in their language, nothing lost."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from advocacy.extensions import db
from advocacy.petitions.models import PetitionStatus
from advocacy.signatures.models import Signature
from tests.signatures.test_views import csrf_token, sign


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown on {field}"
    return " ".join(match.group(1).split())


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"full_name": ""}, "full_name", "Please enter your full name."),
    ({"full_name": "A" * 101}, "full_name", "at most 100 characters"),
    ({"full_name": "Olena\nKovalenko"}, "full_name", "on one line"),
    ({"full_name": "=1+1"}, "full_name", "cannot start with"),
    ({"email": "olena.example.org"}, "email", "valid email address"),
    ({"email": ""}, "email", "Please enter your email address."),
    ({"country": "ZZ"}, "country", "from the list"),
    ({"country": ""}, "country", "Please choose your country."),
])
def test_invalid_input_returns_the_form_with_the_error_on_its_field(client, make_petition, fields, field, message):
    petition = make_petition()
    response = sign(client, petition.slug, **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in field_error(html, field)
    # the field points at its error for screen readers, and the summary links to the field
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', html)
    assert f'aria-describedby="{field}-error"' in html or f'{field}-error"' in html
    assert f'href="#{field}"' in html
    # what was typed in the other fields is still there
    if field != "email":
        assert 'value="olena@example.org"' in html


def test_errors_come_in_the_signers_language(client, make_petition):
    petition = make_petition()
    client.get("/language/uk")
    response = sign(client, petition.slug, full_name="", email="nope")
    html = response.get_data(as_text=True)
    assert '<html lang="uk">' in html
    assert "Please enter your full name." not in html
    assert field_error(html, "full_name")


def test_expired_form_token_keeps_what_was_typed(client, make_petition):
    petition = make_petition()
    response = client.post(f"/p/{petition.slug}", data={
        "full_name": "Olena Kovalenko", "email": "olena@example.org", "country": "UA", "csrf_token": "stale",
    })
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This form had expired" in html
    assert 'value="Olena Kovalenko"' in html
    assert csrf_token(client, f"/p/{petition.slug}")


@pytest.mark.parametrize("data", [
    {},
    {"country": ["UA", "PL"]},
    {"email": "a@b.c" * 100},
    {"consent_share_name": "maybe", "opt_in_news": "\x00"},
])
def test_odd_input_never_causes_a_server_error(client, make_petition, data):
    petition = make_petition()
    data = dict(data)
    data["csrf_token"] = csrf_token(client, f"/p/{petition.slug}")
    response = client.post(f"/p/{petition.slug}", data=data)
    assert response.status_code == 400


@pytest.mark.parametrize("raw", [b"full_name=%ED%A0%80&email=%FF%FE", b"full_name=%C0%AF", b"\xff\xfe=\x00"])
def test_undecodable_bytes_never_cause_a_server_error(client, make_petition, raw):
    petition = make_petition()
    token = csrf_token(client, f"/p/{petition.slug}").encode()
    response = client.post(f"/p/{petition.slug}", data=raw + b"&csrf_token=" + token,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_closed_petition_shows_no_form_and_refuses_posts(client, make_petition, mailbox):
    petition = make_petition()
    # the form is fetched while the petition is open, and posted after it closed: a valid token, valid input
    token = csrf_token(client, f"/p/{petition.slug}")
    petition.status = PetitionStatus.CLOSED
    db.session.commit()
    page = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert "closed and no longer takes signatures" in page
    assert 'name="full_name"' not in page
    response = client.post(f"/p/{petition.slug}", data={"full_name": "Olena Kovalenko", "email": "olena@example.org",
                                                         "country": "UA", "csrf_token": token})
    assert response.status_code == 400
    assert "This petition is closed and no longer takes signatures." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert mailbox() == []
    # the token was good (it is bound to this petition's form): once the petition is open again it is taken
    petition.status = PetitionStatus.OPEN
    db.session.commit()
    taken = client.post(f"/p/{petition.slug}", data={"full_name": "Olena Kovalenko", "email": "olena@example.org",
                                                      "country": "UA", "csrf_token": token})
    assert taken.status_code == 303


def test_unknown_petition_is_404(client):
    assert client.get("/p/no-such-petition").status_code == 404


def test_draft_petition_is_not_public(client, make_petition):
    petition = make_petition(status=PetitionStatus.DRAFT)
    assert client.get(f"/p/{petition.slug}").status_code == 404
    assert client.get(f"/api/v1/petitions/{petition.slug}").status_code == 404


def test_an_error_on_an_optional_field_is_shown(client, make_petition):
    petition = make_petition()
    response = sign(client, petition.slug, postcode="!!!")
    assert response.status_code == 400
    assert "letters, digits, spaces or hyphens" in field_error(response.get_data(as_text=True), "postcode")


def test_a_lang_link_is_remembered_through_signing(client, make_petition):
    petition = make_petition()
    assert client.get(f"/p/{petition.slug}?lang=uk").status_code == 200
    response = sign(client, petition.slug)
    assert response.status_code == 303
    assert '<html lang="uk">' in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("fields", [
    {"full_name": "Olena Kovalenko", "email": "olena@example.org", "country": "UA", "postcode": "01001",
     "consent_share_name": "y", "opt_in_news": "y"},
    {"full_name": "Olena", "email": "olena@example.org", "country": "UA"},  # no postcode, boxes not ticked
    {"consent_share_name": "", "opt_in_news": "false"},  # boxes sent empty or "false" are not ticked
    {"consent_share_name": "on", "opt_in_news": "0"},  # any other value ticks them, as in WTForms
    {"full_name": ["first", "second"], "postcode": ""},  # a field sent twice: the first value
    {},
])
def test_the_sign_post_is_read_as_the_form_reads_it(app, fields):
    """The sign POST is read without building SignForm (signer_from); what it reads is what the form gives."""
    from werkzeug.datastructures import MultiDict

    from advocacy.signatures.forms import SignForm, signer_from
    from advocacy.signatures.services import Signer

    data = MultiDict([(key, each) for key, value in fields.items()
                      for each in (value if isinstance(value, list) else [value])])
    with app.test_request_context("/p/x", method="POST", data=data):
        form = SignForm(formdata=data, locale="uk", meta={"csrf": False})
        from_form = Signer(
            full_name=form.full_name.data or "", email=form.email.data or "", country=form.country.data or "",
            postcode=form.postcode.data, locale="uk", consent_share_name=bool(form.consent_share_name.data),
            opt_in_news=bool(form.opt_in_news.data))
        assert signer_from(data, "uk") == from_form
