"""Real SMTP: the confirmation goes over the wire to an SMTP server, and its link works."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from advocacy.outbox.models import OutboxMessage
from tests.conftest import SentMail, parse_mail, wait_for
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
    assert mail.subject == "Підтвердьте свій підпис"
    assert petition.title["uk"] in mail.text
    assert petition.title["uk"] in mail.html
    assert mail.message["Message-ID"].startswith("<outbox-")


def test_an_internationalized_address_gets_its_mail(client, make_petition, drain, mailbox):
    petition = make_petition()
    assert sign(client, petition.slug, email="олена@приклад.укр").status_code == 303
    drain()
    mails = mailbox()
    assert len(mails) == 1
    assert mails[0].to == "олена@приклад.укр"


# ---------------------------------------------------------------- what each SMTP answer means


class ScriptedSink(Sink):
    """Answers MAIL, RCPT or DATA as told; accepts everything else."""

    def __init__(self, *, mail: str | None = None, rcpt: str | None = None, data: str | None = None) -> None:
        super().__init__()
        self.answers = {"mail": mail, "rcpt": rcpt, "data": data}

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.answers["mail"]:
            return self.answers["mail"]
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.answers["rcpt"]:
            return self.answers["rcpt"]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answers["data"]:
            return self.answers["data"]
        return await super().handle_DATA(server, session, envelope)


def password_check(password: str) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    return check


class RunningSink:
    def __init__(self, sink: Sink, *, password: str | None = None) -> None:
        self.sink = sink
        options: dict[str, Any] = {}
        if password is not None:
            options = {"authenticator": password_check(password), "auth_require_tls": False}
        self.controller = Controller(sink, hostname="127.0.0.1", port=free_port(), **options)

    def url(self, credentials: str = "") -> str:
        return f"smtp://{credentials}127.0.0.1:{self.controller.port}?timeout=5"

    def __enter__(self) -> RunningSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def a_message(app: Any, to: str = "reader@example.org") -> Any:
    from advocacy import mail

    with app.test_request_context():
        return mail.build_message(to, mail.RenderedEmail("Hello", "text", "<p>html</p>"), locale="en")


@pytest.mark.parametrize(("answers", "expected", "system"), [
    ({"rcpt": "550 5.1.1 No such mailbox"}, "PermanentDeliveryError", False),
    ({"rcpt": "553 5.1.3 Bad recipient address syntax"}, "PermanentDeliveryError", False),
    ({"rcpt": "554 5.7.1 Relay access denied"}, "SystemDeliveryError", True),
    ({"rcpt": "550 5.7.1 Relaying denied"}, "SystemDeliveryError", True),
    ({"rcpt": "450 4.2.0 Mailbox busy"}, "TransientDeliveryError", False),
    ({"mail": "553 5.7.1 Sender address rejected: not owned by user"}, "SystemDeliveryError", True),
    ({"mail": "530 5.7.0 Authentication required"}, "SystemDeliveryError", True),
    ({"data": "554 5.7.1 Message rejected by policy"}, "SystemDeliveryError", True),
    ({"data": "451 4.3.0 Try again later"}, "TransientDeliveryError", False),
])
def test_smtp_answers_are_told_apart(app, answers, expected, system):
    from advocacy import mail

    with RunningSink(ScriptedSink(**answers)) as running, pytest.raises(mail.DeliveryError) as raised:
        mail.SmtpTransport(running.url()).send(a_message(app, "someone.private@example.org"))
    assert type(raised.value).__name__ == expected
    assert isinstance(raised.value, mail.SystemDeliveryError) is system  # what the outbox flags as ours
    assert "someone.private" not in str(raised.value)
    # only a refusal of the recipient is final: dramatiq does not retry what the actor throws
    assert isinstance(raised.value, mail.PermanentDeliveryError) == (expected == "PermanentDeliveryError")


def test_a_wrong_password_and_an_unreachable_server_are_ours(app):
    from advocacy import mail

    with RunningSink(Sink(), password="right") as running:
        with pytest.raises(mail.SystemDeliveryError, match=r"login refused \(535\)"):
            mail.SmtpTransport(running.url("user:wrong@")).send(a_message(app))
        mail.SmtpTransport(running.url("user:right@")).send(a_message(app))
        assert len(running.sink.messages) == 1
    with pytest.raises(mail.SystemDeliveryError, match="unreachable"):
        mail.SmtpTransport(f"smtp://127.0.0.1:{free_port()}?timeout=2").send(a_message(app))


def outbox_row(app: Any) -> Any:
    from sqlalchemy import select

    from advocacy.extensions import db
    from advocacy.outbox.models import OutboxMessage

    with app.app_context():
        row = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
        db.session.expunge_all()
        db.session.remove()
        return row


def test_a_wrong_smtp_password_keeps_the_mail_and_says_so_until_it_is_fixed_and_retried(app, client, make_petition,
                                                                                         caplog):
    """The deploy-time mistake of the issue: 535 for every mail. Nothing is dropped; operators see it."""
    import logging

    caplog.set_level(logging.INFO)
    petition = make_petition()
    previous = app.config["SMTP_URL"]
    runner = app.test_cli_runner()
    try:
        with RunningSink(Sink(), password="right") as running:
            app.config["SMTP_URL"] = running.url("petitions:wrong@")
            assert sign(client, petition.slug, email="waiting.signer@example.org").status_code == 303
            row = wait_for(lambda: (r := outbox_row(app)) is not None and r.last_error_at is not None and r)
            assert row.failed_at is None  # retried, not given up
            assert row.system_error is True
            assert row.last_error == "SystemDeliveryError: SMTP login refused (535)"
            assert running.sink.messages == []

            # the operator's three ways of noticing, none naming the signer
            assert "mail is failing: SMTP login refused (535)" in caplog.text
            assert any(r.levelname == "ERROR" and "mail is failing" in r.getMessage() for r in caplog.records)
            health = client.get("/healthz")
            assert health.status_code == 503
            assert health.get_json() == {"ok": False, "database": True, "mail": False}
            listed = runner.invoke(args=["outbox", "failures"])
            assert f"{row.id}\t" in listed.output
            assert "retrying" in listed.output
            assert "SMTP login refused (535)" in listed.output
            assert "waiting.signer" not in listed.output + caplog.text

            # fixed: the right password, and the waiting mail is sent now rather than at its next backoff
            app.config["SMTP_URL"] = running.url("petitions:right@")
            result = runner.invoke(args=["outbox", "retry", "--all"])
            assert result.exit_code == 0, result.output
            assert "1 job(s) sent again" in result.output
            wait_for(lambda: running.sink.messages)
            wait_for(lambda: outbox_row(app).done_at is not None)
        assert [m[1] for m in running.sink.messages] == [["waiting.signer@example.org"]]
        assert parse_mail(running.sink.messages[0][2]).link("/confirm/").startswith("https://petitions.test/")
        done = outbox_row(app)
        assert done.system_error is False
        assert client.get("/healthz").get_json() == {"ok": True, "database": True, "mail": True}
        assert "no failed jobs" in runner.invoke(args=["outbox", "failures"]).output
    finally:
        app.config["SMTP_URL"] = previous


def test_a_failed_row_is_retried_by_id_and_a_bad_id_is_refused(app, client, make_petition, drain, mailbox):
    from advocacy.extensions import db

    runner = app.test_cli_runner()
    sign(client, make_petition().slug)
    drain()
    row = outbox_row(app)
    assert row.done_at is not None
    assert len(mailbox()) == 1
    refused = runner.invoke(args=["outbox", "retry", str(row.id)])
    assert refused.exit_code != 0
    assert f"job {row.id} has not failed" in refused.output
    missing = runner.invoke(args=["outbox", "retry", "999999"])
    assert missing.exit_code != 0
    assert "no job with ID 999999" in missing.output
    assert runner.invoke(args=["outbox", "retry"]).exit_code != 0  # neither an ID nor --all

    # refused for good (550), then the address is fixed at the provider: the operator sends it again
    second = make_petition(slug="second")
    with RunningSink(ScriptedSink(rcpt="550 5.1.1 No such mailbox")) as running:
        previous = app.config["SMTP_URL"]
        app.config["SMTP_URL"] = running.url()
        try:
            sign(client, second.slug, email="second@example.org")
            drain()
        finally:
            app.config["SMTP_URL"] = previous
    with app.app_context():
        failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.failed_at.is_not(None)))
        assert failed.system_error is False
        failed_id = failed.id
    # the recipient's failure is not the system's: mail is healthy
    assert client.get("/healthz").get_json()["mail"] is True
    listed = runner.invoke(args=["outbox", "failures"]).output
    assert f"{failed_id}\t" in listed
    assert "\tfailed\t" in listed
    assert "second@" not in listed
    result = runner.invoke(args=["outbox", "retry", str(failed_id)])
    assert result.exit_code == 0, result.output
    assert "1 job(s) sent again" in result.output
    drain()
    assert [m.to for m in mailbox()][-1] == "second@example.org"
    with app.app_context():
        assert db.session.get(OutboxMessage, failed_id).done_at is not None
    assert "0 job(s) sent again" in runner.invoke(args=["outbox", "retry", "--all"]).output


def test_a_failed_row_with_a_system_error_fails_the_health_check_until_retried(app, client, make_petition, drain,
                                                                               mailbox, monkeypatch):
    from advocacy.extensions import db
    from advocacy.outbox import services as outbox
    from advocacy.queue import get_broker

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(get_broker(), "enqueue", refuse)
    sign(client, make_petition().slug)
    with app.app_context():
        row_id = db.session.scalar(select(OutboxMessage.id))
        outbox.mark_failed(row_id, "SystemDeliveryError: SMTP server unreachable (ConnectionRefusedError)",
                           system_error=True)
        db.session.commit()
    assert client.get("/healthz").status_code == 503
    assert outbox.handed_over()
    monkeypatch.undo()
    assert "1 job(s) sent again" in app.test_cli_runner().invoke(args=["outbox", "retry", "--all"]).output
    assert client.get("/healthz").status_code == 200  # retried: no longer failing, unless it fails again
    drain()
    assert len(mailbox()) == 1
    with app.app_context():
        assert db.session.get(OutboxMessage, row_id).done_at is not None


# ---------------------------------------------------------------- the message and the .eml folder


def test_one_builder_with_attachments_and_list_unsubscribe(app):
    from advocacy import mail

    with app.test_request_context():
        message = mail.build_message(
            "олена@приклад.укр", mail.RenderedEmail("Привіт", "текст", "<p>html</p>"), locale="uk",
            attachments=(mail.Attachment("summary.pdf", "application/pdf", b"%PDF-1.7 test"),),
            list_unsubscribe="https://petitions.test/unsubscribe/abc", one_click_unsubscribe=True,
        )
        plain = mail.build_message("a@example.org", mail.RenderedEmail("Hi", "t", "<p>h</p>"), locale="en",
                                   list_unsubscribe="mailto:unsubscribe@petitions.test")
    parsed = parse_mail(mail.as_bytes(message))
    assert parsed.to == "олена@приклад.укр"
    assert parsed.subject == "Привіт"
    assert parsed.text.strip() == "текст"
    [attachment] = list(parsed.message.iter_attachments())
    assert attachment.get_filename() == "summary.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == b"%PDF-1.7 test"
    assert parsed.message["List-Unsubscribe"] == "<https://petitions.test/unsubscribe/abc>"
    assert parsed.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.message["Content-Language"] == "uk"
    assert parse_mail(mail.as_bytes(plain)).message["List-Unsubscribe-Post"] is None
    assert "Petitions" in str(parse_mail(mail.as_bytes(plain)).message["From"])


def test_mail_files_are_private_and_removed_after_a_week(app, client, make_petition, drain, mailbox):
    import os
    import stat
    from datetime import timedelta

    from advocacy import mail
    from advocacy.dbtypes import utcnow
    from advocacy.periodic.services import registered_jobs

    sign(client, make_petition().slug)
    drain()
    [path] = list(app.config["MAIL_DIR"].glob("*.eml"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    old = app.config["MAIL_DIR"] / "20200101T000000-old.eml"
    old.write_bytes(b"Subject: old\r\n\r\nold")
    eight_days_ago = (utcnow() - timedelta(days=8)).timestamp()
    os.utime(old, (eight_days_ago, eight_days_ago))
    with app.app_context():
        assert mail.purge_old_mail_files(utcnow()) == 1
        assert not old.exists()
        assert path.exists()
        assert mail.purge_old_mail_files(utcnow() + timedelta(days=8)) == 1
    assert mailbox() == []
    assert [job.every for job in registered_jobs() if job.name == "purge-mail-files"] == [timedelta(hours=6)]


def test_site_and_campaign_names_come_from_settings_and_data(app, client, make_petition, drain, mailbox):
    petition = make_petition()
    # no ADVOCACY_SITE_NAME: the site is named after its campaign, in the reader's language
    page = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert '<a class="brand" href="/">People First</a>' in page
    ukrainian = app.test_client()  # a ?lang= choice is remembered: a reader of their own
    assert '<a class="brand" href="/">Люди передусім</a>' in ukrainian.get("/?lang=uk").get_data(as_text=True)
    sign(client, petition.slug)
    drain()
    [sent] = mailbox()
    footer = sent.text.split()[-3:]
    assert footer == ["People", "First", "https://petitions.test"]  # named once, then the site's address
    # the From names the campaign, at the site's address (ADVOCACY_MAIL_FROM unset in tests)
    assert sent.message["From"].addresses[0].display_name == "People First"
    assert sent.message["From"].addresses[0].addr_spec == "petitions@petitions.test"

    app.config["SITE_NAME"] = "Free Them All"
    try:
        assert '<a class="brand" href="/">Free Them All</a>' in ukrainian.get("/").get_data(as_text=True)
        sign(client, petition.slug, email="second.signer@example.org")
        drain()
        latest = mailbox()[-1]
        assert "People First · Free Them All" in latest.text
        assert "People First · Free Them All" in latest.html
    finally:
        app.config["SITE_NAME"] = None


def test_a_site_without_a_campaign_is_called_petitions_in_the_readers_language(client):
    assert '<a class="brand" href="/">Петиції</a>' in client.get("/?lang=uk").get_data(as_text=True)
    assert '<a class="brand" href="/">Petitions</a>' in client.get("/?lang=en").get_data(as_text=True)


def test_the_sender_address_comes_from_settings_and_its_name_from_the_campaign(app):
    from advocacy import mail

    previous = app.config["MAIL_FROM"]
    app.config["MAIL_FROM"] = "Coalition mail <noreply@coalition.example>"
    try:
        with app.test_request_context():
            assert mail.sender("People First") == "People First <noreply@coalition.example>"
            assert mail.sender() == "Coalition mail <noreply@coalition.example>"
            app.config["MAIL_FROM"] = "noreply@coalition.example"
            assert mail.sender() == "Petitions <noreply@coalition.example>"
    finally:
        app.config["MAIL_FROM"] = previous


def test_the_site_name_is_a_setting(tmp_path):
    from advocacy.config import load_settings

    assert load_settings(environ={}, instance_path=tmp_path).site_name is None  # the campaign's name
    named = load_settings(environ={"ADVOCACY_SITE_NAME": " Free Them All "}, instance_path=tmp_path)
    assert named.site_name == "Free Them All"
    assert named.mail_from is None


def test_a_campaign_sets_the_sender_name_and_the_footer_of_its_emails(app, client, make_petition, drain,
                                                                       mailbox):
    from advocacy.accounts.roles import SYSTEM
    from advocacy.extensions import db
    from advocacy.petitions import services as petitions

    petition = make_petition()
    campaign = petition.campaign
    petitions.update_campaign(campaign.id, actor=SYSTEM, version=campaign.version,
                              sender_name="People First coalition",
                              email_footer={"en": "Write to us: team@people-first.test",
                                            "uk": "Пишіть нам: team@people-first.test"})
    db.session.commit()
    sign(client, petition.slug)
    drain()
    [sent] = mailbox()
    assert sent.message["From"].addresses[0].display_name == "People First coalition"
    assert "Write to us: team@people-first.test" in sent.text
    assert "Write to us: team@people-first.test" in sent.html


class CountingSink(Sink):
    """Remembers which connection (the client's address and port) carried each message."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions: list[tuple[str, int]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sessions.append(tuple(session.peer))
        return await super().handle_DATA(server, session, envelope)


def test_one_thread_keeps_its_smtp_connection_open_for_many_messages(app):
    from advocacy import mail

    with RunningSink(CountingSink()) as running:
        transport = mail.SmtpTransport(running.url())
        for number in range(10):
            transport.send(a_message(app, f"reader{number}@example.org"))
        transport.close()
    assert len(running.sink.messages) == 10
    assert len(set(running.sink.sessions)) == 1


def test_a_connection_serves_at_most_its_share_and_threads_do_not_share_one(app):
    import threading

    from advocacy import mail

    with RunningSink(CountingSink()) as running:
        transport = mail.SmtpTransport(running.url() + "&reuse=3")
        for number in range(7):
            transport.send(a_message(app, f"reader{number}@example.org"))
        assert len(set(running.sink.sessions)) == 3  # 3 + 3 + 1
        other = threading.Thread(target=transport.send, args=(a_message(app, "other@example.org"),))
        other.start()
        other.join()
        transport.send(a_message(app, "last@example.org"))
        transport.close()
    sessions = running.sink.sessions
    assert len(sessions) == 9
    assert sessions[7] not in sessions[:7]  # the other thread opened its own
    assert sessions[8] == sessions[6]  # this thread's third connection still had room


def test_a_refused_recipient_leaves_the_kept_connection_usable(app):
    from advocacy import mail

    class RefusesOne(CountingSink):
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
            if address.startswith("gone"):
                return "550 5.1.1 No such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    with RunningSink(RefusesOne()) as running:
        transport = mail.SmtpTransport(running.url())
        transport.send(a_message(app, "first@example.org"))
        with pytest.raises(mail.PermanentDeliveryError):
            transport.send(a_message(app, "gone@example.org"))
        transport.send(a_message(app, "next@example.org"))
        transport.close()
    assert [rcpt for _, (rcpt,), _ in running.sink.messages] == ["first@example.org", "next@example.org"]
    assert len(set(running.sink.sessions)) == 1


def test_a_kept_connection_the_server_dropped_is_opened_again_without_losing_the_message(app):
    from advocacy import mail

    sink = CountingSink()
    port = free_port()
    first = Controller(sink, hostname="127.0.0.1", port=port)
    first.start()
    transport = mail.SmtpTransport(f"smtp://127.0.0.1:{port}?timeout=5")
    try:
        transport.send(a_message(app, "before@example.org"))
    finally:
        first.stop()  # the server restarts: the kept connection is dead
    second = Controller(sink, hostname="127.0.0.1", port=port)
    second.start()
    try:
        transport.send(a_message(app, "after@example.org"))
        transport.close()
    finally:
        second.stop()
    assert [rcpt for _, (rcpt,), _ in sink.messages] == ["before@example.org", "after@example.org"]
    assert len(set(sink.sessions)) == 2


def test_an_idle_connection_is_closed_and_a_new_one_opened(app):
    from advocacy import mail

    with RunningSink(CountingSink()) as running:
        transport = mail.SmtpTransport(running.url() + "&idle=0")
        transport.send(a_message(app, "one@example.org"))
        transport.send(a_message(app, "two@example.org"))
        transport.close()
    assert len(set(running.sink.sessions)) == 2


def test_the_usual_message_is_written_straight_to_the_wire_and_reads_back_intact(app):
    """A signer's mail (no attachment, ASCII addresses) skips EmailMessage: any parser reads it back the same."""
    from advocacy import mail

    text = "Вітаємо, Олена!\n\n" + "Натисніть посилання: https://petitions.test/confirm/" + "x" * 120 + "\n"
    html = "<p>Вітаємо, <b>Олена</b> = 100% &amp; “так”</p>\n" + "<p>" + "word " * 60 + "</p>"
    with app.test_request_context():
        message = mail.build_message(
            "olena@example.org", mail.RenderedEmail("Підтвердіть підпис: Звільніть усіх\nBcc: x@evil.test", text, html),
            locale="uk", message_key="outbox-7", sender_name="Люди передусім",
            list_unsubscribe="https://petitions.test/updates/unsubscribe/" + "y" * 100)
        english = mail.build_message("a@example.org", mail.RenderedEmail("Hi", "short\n", "<p>h</p>"), locale="en")
    assert isinstance(message, mail.WireMessage)
    message["Precedence"] = "bulk"
    raw = mail.as_bytes(message)
    assert raw.isascii()
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = parse_mail(raw)
    assert parsed.to == "olena@example.org"
    assert parsed.subject == "Підтвердіть підпис: Звільніть усіх Bcc: x@evil.test"  # one line: no header of its own
    assert parsed.message["Bcc"] is None
    assert str(parsed.message["From"]).startswith("Люди передусім <")
    # CRLF on the wire, as every message (the stdlib's too); the content is otherwise the same
    assert parsed.text.replace("\r\n", "\n") == text
    assert parsed.html.replace("\r\n", "\n") == html
    assert parsed.message["Message-ID"] == "<outbox-7@petitions.test>"
    assert parsed.message["Content-Language"] == "uk"
    assert parsed.message["Precedence"] == "bulk"
    assert parsed.message["List-Unsubscribe"] == "<https://petitions.test/updates/unsubscribe/" + "y" * 100 + ">"
    assert message["To"] == "olena@example.org"
    assert message["From"].startswith("Люди передусім")
    assert parse_mail(mail.as_bytes(english)).text.replace("\r\n", "\n") == "short\n"


@pytest.mark.parametrize("kind", ["confirm", "already_signed", "confirmed", "withdraw_link"])
def test_a_signers_mail_filled_into_its_shared_skeleton_is_the_mail_rendered_for_them(app, kind):
    """The templates of a petition's signer mails are rendered once and each signer's name and link filled in:
    every language gives exactly what rendering the whole mail for that signer gives, HTML escaping included,
    and a name that looks like a marker is printed as typed, not filled in again."""
    from advocacy import mail
    from advocacy.i18n import SUPPORTED_LOCALES

    link = "confirm_url" if kind == "confirm" else "withdraw_url"  # as deliver_email gives them
    shared = {"petition_title": "Free <all> “civilians” & POWs", "petition_url": "https://petitions.test/p/x?lang=uk",
              "campaign_name": "People First", "campaign_footer": "Kyiv & Warsaw", "site_url": "https://petitions.test"}
    signers = [
        {"full_name": "Ann <b>O’Brien</b> & \"Bob\"", link: "https://petitions.test/confirm/abc.DEF-1_x?lang=uk&x=<1>"},
        {"full_name": f"Eve \x00{link}\x00", link: "https://petitions.test/withdraw/zz"},
        {"full_name": "Олена Петрівна", link: "https://petitions.test/confirm/q"},
    ]
    with app.test_request_context():
        for locale in SUPPORTED_LOCALES:
            for personal in signers:
                filled = mail.render_personal(kind, locale, shared=shared, personal=dict(personal),
                                              key=("test", kind), seconds=60)
                assert filled == mail.render(kind, locale, **shared, **personal)
                assert personal[link] in filled.text  # (the Ukrainian greeting has no name)
                if locale == "en":
                    assert personal["full_name"] in filled.text
