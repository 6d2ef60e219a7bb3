"""What protects signers: headers, body limits, encryption at rest, nothing personal in logs or URLs."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import text

from advocacy.extensions import db
from tests.pages import assert_loads_nothing_from_elsewhere
from tests.signatures.test_views import confirm_via_email, sign

NAME = "Ірина Шевченко-Testowa"
EMAIL = "irina.secret.signer@example.org"
POSTCODE = "01001"


@pytest.mark.parametrize("path", ["/", "/p/petition-1", "/api/v1/petitions", "/no-such-page"])
def test_every_response_carries_strict_headers(client, make_petition, path):
    make_petition()
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_load_nothing_from_other_origins(client, make_petition):
    petition = make_petition()
    for path in ["/", f"/p/{petition.slug}"]:
        assert_loads_nothing_from_elsewhere(client.get(path).get_data(as_text=True))


def test_oversized_body_gets_413(client, make_petition):
    petition = make_petition()
    response = client.post(f"/p/{petition.slug}", data={"full_name": "x" * 200_000})
    assert response.status_code == 413


def test_personal_data_is_encrypted_at_rest(app, client, make_petition, drain, mailbox):
    petition = make_petition(postcode_required=True)
    assert sign(client, petition.slug, full_name=NAME, email=EMAIL, postcode=POSTCODE).status_code == 303
    drain()
    confirm_via_email(client, mailbox()[0])
    drain()
    with app.app_context():
        db.session.commit()
        rows = db.session.execute(text("SELECT * FROM signatures")).all()
        raw = repr(rows).encode() + b"".join(
            bytes(value) for row in rows for value in row if isinstance(value, bytes | memoryview)
        )
        for secret in (NAME, EMAIL, "irina.secret.signer", POSTCODE):
            assert secret.encode() not in raw
            assert secret.encode("utf-16-le") not in raw
        # and the whole database file too, on the embedded default
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
            path = db.engine.url.database
            assert path
            content = open(path, "rb").read()  # noqa: SIM115
            for secret in (NAME, EMAIL, POSTCODE):
                assert secret.encode() not in content
        # the service still reads them back
        from advocacy.signatures.models import Signature

        signature = db.session.scalar(db.select(Signature))
        assert signature.full_name == NAME
        assert signature.email == EMAIL
        assert signature.postcode == POSTCODE


def test_no_personal_data_in_logs_or_urls(app, client, make_petition, drain, mailbox, caplog):
    caplog.set_level(logging.DEBUG)
    petition = make_petition()
    response = sign(client, petition.slug, full_name=NAME, email=EMAIL)
    assert EMAIL not in response.headers["Location"]
    drain()
    mail = mailbox()[0]
    confirm_link = mail.link("/confirm/")
    assert "irina" not in confirm_link.lower()
    confirm_via_email(client, mail)
    drain()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "mail written to" in logged
    for secret in (NAME, EMAIL, "irina.secret.signer", "127.0.0.1"):
        assert secret not in logged


def test_emailed_links_ignore_the_host_header(client, make_petition, drain, mailbox):
    petition = make_petition()
    # a Host that is not the site's is refused outright (tests/test_proxy.py); a forwarded one is ignored
    assert client.get(f"/p/{petition.slug}", headers={"Host": "evil.example"}).status_code == 400
    token_page = client.get(f"/p/{petition.slug}", headers={"X-Forwarded-Host": "evil.example"})
    assert token_page.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', token_page.get_data(as_text=True))
    assert token
    response = client.post(
        f"/p/{petition.slug}", headers={"X-Forwarded-Host": "evil.example"},
        data={"full_name": "Olena K", "email": "olena@example.org", "country": "UA", "csrf_token": token.group(1)},
    )
    assert response.status_code == 303
    drain()
    text_body = mailbox()[0].text
    assert "evil.example" not in text_body
    assert "https://petitions.test/confirm/" in text_body


def test_signing_is_rate_limited_per_address(client, make_petition):
    from advocacy.extensions import limiter

    petition = make_petition()
    limiter.enabled = True
    limiter.reset()
    try:
        codes = [client.post(f"/p/{petition.slug}", data={"full_name": ""}).status_code for _ in range(21)]
        # reading the page is never limited
        assert client.get(f"/p/{petition.slug}").status_code == 200
    finally:
        limiter.enabled = False
        limiter.reset()
    assert codes[:20] == [400] * 20
    assert codes[20] == 429
