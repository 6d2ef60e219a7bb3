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
