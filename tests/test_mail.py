"""Real SMTP: the confirmation goes over the wire to an SMTP server, and its link works."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import SentMail, parse_mail
from tests.signatures.test_views import TOKEN_RE, sign


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_sink(app) -> Iterator[Sink]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    previous = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        yield sink
    finally:
        app.config["SMTP_URL"] = previous
        controller.stop()


def test_confirmation_goes_over_smtp_and_its_link_confirms(client, make_petition, drain, smtp_sink, mailbox):
    petition = make_petition()
    client.get("/language/ru")
    assert sign(client, petition.slug, email="mykola@example.org", country="PL").status_code == 303
    drain()
    assert mailbox() == []  # nothing written to files when SMTP is configured
    assert len(smtp_sink.messages) == 1
    _mail_from, recipients, raw = smtp_sink.messages[0]
    assert recipients == ["mykola@example.org"]
    mail = parse_mail(raw)
    assert isinstance(mail, SentMail)
    assert mail.message["Content-Language"] == "ru"
    assert mail.message.get_body(preferencelist=("html",)) is not None
    link = mail.link("/confirm/")
    assert link.startswith("https://petitions.test/confirm/")
    assert "lang=ru" in link

    path = link.removeprefix("https://petitions.test")
    page = client.get(path)
    token = TOKEN_RE.search(page.get_data(as_text=True))
    assert token
    assert client.post(path, data={"csrf_token": token.group(1)}).status_code == 200
    drain()
    assert client.get(f"/api/v1/petitions/{petition.slug}").get_json()["signatures_by_country"][0]["code"] == "PL"
    # the "confirmed" email followed over SMTP, with the withdraw link
    assert len(smtp_sink.messages) == 2
    assert parse_mail(smtp_sink.messages[1][2]).link("/withdraw/").startswith("https://petitions.test/withdraw/")


class RefusingSink(Sink):
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.attempts = getattr(self, "attempts", 0) + 1
        return "550 5.1.1 No such mailbox"


def test_a_refused_address_ends_in_a_failure_record_without_retries(app, client, make_petition, drain, caplog):
    from sqlalchemy import select

    from advocacy.extensions import db
    from advocacy.outbox.models import OutboxMessage
    from advocacy.signatures.models import Signature, SignatureState

    sink = RefusingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    previous = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
    try:
        assert sign(client, make_petition().slug, email="nobody.here@example.org").status_code == 303
        drain()
    finally:
        app.config["SMTP_URL"] = previous
        controller.stop()
    assert sink.attempts == 1  # refused for good: not tried again
    with app.app_context():
        row = db.session.scalar(select(OutboxMessage))
        assert row.done_at is None
        assert row.failed_at is not None
        assert row.last_error.startswith("PermanentDeliveryError: recipient refused by the SMTP server (550)")
        assert "nobody.here" not in row.last_error
        assert db.session.scalar(select(Signature.state)) == SignatureState.PENDING
    assert "nobody.here" not in caplog.text


def test_smtp_down_is_retried_and_the_signature_waits(app, client, make_petition, drain):
    import time

    from sqlalchemy import select

    from advocacy.extensions import db
    from advocacy.outbox import services as outbox
    from advocacy.outbox.models import OutboxMessage
    from advocacy.signatures.models import Signature, SignatureState

    previous = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}?timeout=2"  # nobody listens there
    try:
        assert sign(client, make_petition().slug).status_code == 303
        deadline = time.monotonic() + 20
        with app.app_context():
            while time.monotonic() < deadline:
                row = db.session.scalar(select(OutboxMessage))
                if row.attempts >= 1 and row.lease_until is not None:
                    break
                db.session.remove()
                time.sleep(0.1)
            db.session.remove()
            row = db.session.scalar(select(OutboxMessage))
            assert row.attempts >= 1
            assert row.done_at is None
            assert row.failed_at is None
            # the retry holds the row: the relay does not add a second message beside it
            assert outbox.relay_stale() == 0
            assert db.session.scalar(select(Signature.state)) == SignatureState.PENDING
    finally:
        app.config["SMTP_URL"] = previous
        with app.app_context():
            # the retry still scheduled must not send into the next test
            outbox.mark_failed(db.session.scalar(select(OutboxMessage.id)), "test over")
            db.session.commit()


def test_mail_in_ukrainian_reads_back_intact(client, make_petition, drain, mailbox):
    petition = make_petition()
    client.get("/language/uk")
    sign(client, petition.slug, full_name="Олена Коваленко")
    drain()
    mail = mailbox()[0]
    assert mail.message["Content-Language"] == "uk"
    assert petition.title["uk"] in mail.subject
    assert "Олена Коваленко" in mail.text
    assert "Олена Коваленко" in mail.html
    assert mail.message["Message-ID"].startswith("<outbox-")


def test_an_internationalized_address_gets_its_mail(client, make_petition, drain, mailbox):
    petition = make_petition()
    assert sign(client, petition.slug, email="олена@приклад.укр").status_code == 303
    drain()
    mails = mailbox()
    assert len(mails) == 1
    assert mails[0].to == "олена@приклад.укр"
