"""Nothing personal leaves in logs or queues: a whole sign → confirm → withdraw, with a failing attempt.

Every log record at DEBUG and every message handed to the broker (its encoded bytes; on Redis also what
dramatiq keeps there) is searched for the signer's name, email, postcode and client address.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
from dramatiq import Message

from advocacy import mail
from advocacy.extensions import limiter
from tests.conftest import wait_for
from tests.signatures.test_views import TOKEN_RE

NAME = "Zofia Wyszomirska-Quell"
EMAIL = "zofia.quell.7731@example.org"
POSTCODE = "QX-7731"
CLIENT_ADDRESS = "203.0.113.77"
PERSONAL = (NAME, "Wyszomirska", EMAIL, "zofia.quell", POSTCODE, CLIENT_ADDRESS)


def redis_contents() -> list[bytes]:
    """Everything dramatiq keeps in Redis: queues, delay queues, acks, dead letters."""
    url = os.environ.get("ADVOCACY_BROKER_URL", "")
    if not url.startswith("redis"):
        return []
    import redis

    client = redis.Redis.from_url(url)
    found = []
    for key in client.scan_iter("dramatiq*"):
        kind = client.type(key)
        found.append(key)
        if kind == b"hash":
            found.extend(v for pair in client.hgetall(key).items() for v in pair)
        elif kind == b"list":
            found.extend(client.lrange(key, 0, -1))
        elif kind == b"zset":
            found.extend(client.zrange(key, 0, -1))
        elif kind == b"set":
            found.extend(client.smembers(key))
        elif kind == b"string":
            found.append(client.get(key) or b"")
    return found


def leaks(texts: list[str]) -> list[str]:
    return [f"{value!r} in {text[:300]!r}…" for text in texts for value in PERSONAL if value.lower() in text.lower()]


@pytest.fixture
def encoded_messages(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes of every message as it goes to the broker (first sends and retries alike)."""
    seen: list[bytes] = []
    original = Message.encode

    def recording(self: Message[Any]) -> bytes:
        data = original(self)
        seen.append(data)
        return data

    monkeypatch.setattr(Message, "encode", recording)
    return seen


@pytest.fixture
def first_attempt_fails(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first mail fails with an exception quoting the recipient, as library errors sometimes do."""
    failures: list[str] = []
    original = mail.EmlFolderTransport.send

    def send(self: mail.EmlFolderTransport, message: Any) -> None:
        if not failures:
            failures.append(str(message["To"]))
            raise RuntimeError(f"could not write the mail for {NAME} <{message['To']}>")
        original(self, message)

    monkeypatch.setattr(mail.EmlFolderTransport, "send", send)
    return failures


def test_no_personal_data_in_logs_or_broker_messages(app, make_petition, mailbox, drain, caplog, encoded_messages,
                                                     first_attempt_fails):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = CLIENT_ADDRESS
    petition = make_petition()
    form_path = f"/p/{petition.slug}"
    page = client.get(form_path).get_data(as_text=True)
    token = TOKEN_RE.search(page)
    assert token
    response = client.post(form_path, data={
        "full_name": NAME, "email": EMAIL, "country": "PL", "postcode": POSTCODE, "consent_share_name": "y",
        "csrf_token": token.group(1),
    })
    assert response.status_code == 303

    # the first attempt fails (with the address in the exception text) and waits for dramatiq's retry
    wait_for(lambda: first_attempt_fails)
    broker_copies = [b"".join(redis_contents())]
    confirm_mail = wait_for(lambda: mailbox())[0]
    assert first_attempt_fails == [EMAIL]  # the failure did happen, with the address in its text
    assert "RuntimeError" in caplog.text  # and the worker logged it (what it logged is scanned below)

    confirm_path = confirm_mail.link("/confirm/").removeprefix("https://petitions.test")
    token = TOKEN_RE.search(client.get(confirm_path).get_data(as_text=True))
    assert token
    assert client.post(confirm_path, data={"csrf_token": token.group(1)}).status_code == 200
    drain()
    withdraw_mail = mailbox()[-1]
    withdraw_path = withdraw_mail.link("/withdraw/").removeprefix("https://petitions.test")
    token = TOKEN_RE.search(client.get(withdraw_path).get_data(as_text=True))
    assert token
    assert client.post(withdraw_path, data={"csrf_token": token.group(1)}).status_code == 200
    drain()
    broker_copies.append(b"".join(redis_contents()))

    # and one signer too many from that address: Flask-Limiter says so in its log
    limiter.enabled = True
    limiter.reset()
    try:
        codes = [client.post(form_path, data={"full_name": ""}).status_code for _ in range(21)]
    finally:
        limiter.enabled = False
        limiter.reset()
    assert codes[-1] == 429
    assert "ratelimit 20 per 1 minute" in caplog.text

    assert len(encoded_messages) >= 3  # confirm, its retry, confirmed
    assert any(b'"traceback"' in data for data in encoded_messages)  # the retry carried a (clean) traceback
    found = leaks([caplog.text])
    found += leaks([record.getMessage() for record in caplog.records])
    found += leaks([data.decode("utf-8", "replace") for data in [*encoded_messages, *broker_copies]])
    assert found == []
