"""Rendering email from templates/email/<name>/{subject.txt,body.txt,body.html}, building and sending it.

One message builder (the stdlib ``EmailMessage``) and one ``Transport`` chosen from settings: SMTP when
ADVOCACY_SMTP_URL is set, otherwise ``.eml`` files in the instance ``mail/`` folder.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
import smtplib
import ssl
import threading
import time
import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header, decode_header, make_header
from email.message import EmailMessage
from email.policy import SMTP as SMTP_ASCII_POLICY
from email.policy import SMTPUTF8 as SMTP_POLICY
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from markupsafe import escape

from advocacy.cache import TTLCache
from advocacy.dbtypes import utcnow

log = logging.getLogger(__name__)

# .eml files of the embedded mode hold personal data: they are removed after this long
KEEP_MAIL_FILES = timedelta(days=7)


class DeliveryError(Exception):
    """A send that failed; the message says what happened without naming the recipient."""


class TransientDeliveryError(DeliveryError):
    """Worth trying again later: the server is busy or answered 4xx for this message."""


class SystemDeliveryError(TransientDeliveryError):
    """Our side is broken, not the recipient: wrong password, sender or relay refused, server unreachable.

    Retried like any transient failure, and shown to operators (the outbox middleware flags the row, which
    `advocacy outbox failures` and /healthz show): every mail fails until someone fixes it.
    """


class PermanentDeliveryError(DeliveryError):
    """Trying again will not help: the server refused this recipient (550 to 553), e.g. no such mailbox."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def render(name: str, locale: str, **context: Any) -> RenderedEmail:
    context.setdefault("site_url", current_app.config["BASE_URL"])
    with force_locale(locale):
        subject = render_template(f"email/{name}/subject.txt", **context).strip()
        text = render_template(f"email/{name}/body.txt", **context)
        html = render_template(f"email/{name}/body.html", locale=locale, subject=subject, **context)
    return RenderedEmail(" ".join(subject.split()), text, html)


# A personal value's place in a rendered skeleton: NUL cannot come from a template, a translation or a setting.
_MARK = "\x00{}\x00"
_MARKED = re.compile("\x00([a-z_]+)\x00")
_skeletons: TTLCache[RenderedEmail] = TTLCache(maxsize=1024)


def render_personal(name: str, locale: str, *, shared: dict[str, Any], personal: dict[str, str], key: Hashable,
                    seconds: float) -> RenderedEmail:
    """``render`` for the many mails that differ only in a few personal values (a signer's name, their link).

    The templates are rendered once per ``(name, locale, key)`` for ``seconds``, with a marker in each personal
    value's place (the skeleton holds nobody's data); each mail then puts its values in: as they are in the
    subject and the text, HTML-escaped in the HTML, exactly what autoescaping would have written. The
    templates must print a personal value as it is (no filter on it); ``key`` names everything ``shared``
    depends on. The same as ``render(name, locale, **shared, **personal)``, which a test checks.
    """

    def skeleton() -> RenderedEmail:
        return render(name, locale, **shared, **{field: _MARK.format(field) for field in personal})

    made = _skeletons.get_or_make((name, locale, key, tuple(sorted(personal))), seconds, skeleton)
    escaped = {field: str(escape(value)) for field, value in personal.items()}

    def fill(text: str, values: dict[str, str]) -> str:
        # one pass: a value that happens to hold a marker is not filled in again
        return _MARKED.sub(lambda found: values[found.group(1)], text)

    return RenderedEmail(fill(made.subject, personal), fill(made.text, personal), fill(made.html, escaped))


def sender(name: str | None = None) -> str:
    """The From: the address of ADVOCACY_MAIL_FROM (or petitions@ the site's domain), under ``name`` if given
    (a campaign's), else the name ADVOCACY_MAIL_FROM gives, else the site's name."""
    return _sender_and_address(name)[0]


def _sender_and_address(name: str | None) -> tuple[str, str]:
    return _sender(str(current_app.config.get("MAIL_FROM") or ""), current_app.config["SITE_NAME"], _domain(), name)


@lru_cache(maxsize=256)
def _sender(mail_from: str, site_name: str | None, domain: str, name: str | None) -> tuple[str, str]:
    """The From header and its address, from the settings and a campaign's sender name (parsed once each)."""
    configured_name, address = parseaddr(mail_from)
    address = address or f"petitions@{domain}"
    return formataddr((name or configured_name or site_name or "Petitions", address)), address


def _domain() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def build_message(to: str, email: RenderedEmail, *, locale: str, message_key: str | None = None,
                  attachments: tuple[Attachment, ...] = (), list_unsubscribe: str | None = None,
                  one_click_unsubscribe: bool = False, sender_name: str | None = None) -> OutgoingMessage:
    """The message: text and HTML alternatives, then any attachments.

    ``message_key`` makes the Message-ID stable, so a send that is redone after a crash is recognisably the
    same message (mail systems fold duplicates with one Message-ID). ``list_unsubscribe`` is a URL for the
    List-Unsubscribe header; ``one_click_unsubscribe`` says a POST to it unsubscribes (RFC 8058).
    ``sender_name`` is the name the From shows (the petition's campaign).

    The usual message (no attachment, ASCII addresses: every signer's mail but an internationalized
    address's) is written straight to its wire form (``WireMessage``), about ten times cheaper than the
    stdlib's ``EmailMessage``, whose header objects are parsed when set and folded again when sent; the
    others are built as an ``EmailMessage``. Both read back the same with any MIME parser.
    """
    domain = _domain()
    from_header, sender_address = _sender_and_address(sender_name)
    message_id = f"<{message_key}@{domain}>" if message_key else make_msgid(domain=domain)
    extra: list[tuple[str, str]] = [("Date", format_datetime(utcnow())), ("Message-ID", message_id),
                                    ("Auto-Submitted", "auto-generated"), ("Content-Language", locale)]
    if list_unsubscribe:
        extra.append(("List-Unsubscribe", f"<{list_unsubscribe}>"))
        if one_click_unsubscribe:
            extra.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    if not attachments and f"{sender_address}{to}".isascii() and "\n" not in to and "\r" not in to:
        return WireMessage.build(from_header, sender_address, to, email, extra)
    message = EmailMessage()
    message["From"] = from_header
    message["To"] = to
    message["Subject"] = email.subject
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.filename)
    # after the body: set_content clears every Content-* header
    for name, value in extra:
        message[name] = value
    return message


_CRLF = b"\r\n"


def _header(name: str, value: str) -> bytes:
    """One header, folded; words outside ASCII as RFC 2047 encoded words."""
    value = " ".join(value.split())  # no line breaks of its own: they would start a header of their own
    if value.isascii() and len(name) + len(value) < 900:
        return f"{name}: {value}".encode("ascii")  # within the 998 a line may hold: a URL is not broken up
    encoded = Header(value, "us-ascii" if value.isascii() else "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}".encode("ascii")


def _address_header(name: str, value: str) -> bytes:
    """From or To: the display name encoded if it needs to be, the (ASCII) address as it is."""
    display, address = parseaddr(value)
    if not display:
        return f"{name}: {address}".encode("ascii")
    if display.isascii():
        return f"{name}: {formataddr((display, address))}".encode("ascii")
    encoded = Header(display, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded} <{address}>".encode("ascii")


@lru_cache(maxsize=256)
def _from_line(value: str) -> bytes:
    """The From header: the same for every mail of a sender, so made once."""
    return _address_header("From", value)


def _to_line(value: str) -> bytes:
    """The To header: a bare ASCII address as it is, anything else as ``_address_header`` writes it (never
    cached: a recipient is personal)."""
    if value.isascii() and not any(ch in value for ch in ' \t<>(),;:"[]\\'):
        return f"To: {value}".encode("ascii")
    return _address_header("To", value)


@lru_cache(maxsize=256)
def _subject(subject: str) -> bytes:
    """The Subject header: the same for every mail of a kind and language, so encoded once."""
    return _header("Subject", subject)


def _text_part(subtype: str, text: str) -> bytes:
    """A text part in UTF-8: quoted-printable or base64, whichever is shorter (as the stdlib chooses)."""
    data = text.replace("\r\n", "\n").encode("utf-8")
    if data.isascii() and max(map(len, data.split(b"\n")), default=0) <= 78:
        cte, body = "7bit", data
    else:
        quoted = binascii.b2a_qp(data, istext=True)
        if len(quoted) <= len(data) * 4 // 3 + 4:
            cte, body = "quoted-printable", quoted
        else:
            cte, body = "base64", base64.encodebytes(data)
    head = (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {cte}\r\n\r\n").encode("ascii")
    return head + body.replace(b"\n", _CRLF)


@dataclass
class WireMessage:
    """A message already in its wire form (CRLF line ends, ASCII headers): text and HTML alternatives."""

    sender_address: str
    recipient: str
    data: bytes

    @classmethod
    def build(cls, from_header: str, sender_address: str, to: str, email: RenderedEmail,
              extra: list[tuple[str, str]]) -> WireMessage:
        boundary = f"==advocacy_{secrets.token_hex(12)}=="  # "=" never appears in the encoded parts
        head = [_from_line(from_header), _to_line(to), _subject(email.subject),
                b"MIME-Version: 1.0",
                f'Content-Type: multipart/alternative; boundary="{boundary}"'.encode("ascii")]
        head.extend(_header(name, value) for name, value in extra)
        separator = b"--" + boundary.encode("ascii")
        data = b"".join([
            _CRLF.join(head), _CRLF, _CRLF,
            separator, _CRLF, _text_part("plain", email.text), _CRLF,
            separator, _CRLF, _text_part("html", email.html), _CRLF,
            separator, b"--", _CRLF,
        ])
        return cls(sender_address, to, data)

    def __setitem__(self, name: str, value: str) -> None:
        """Add a header, as ``EmailMessage`` does (e.g. ``Precedence: bulk``)."""
        head, body = self.data.split(b"\r\n\r\n", 1)
        self.data = head + _CRLF + _header(name, value) + _CRLF + _CRLF + body

    def get(self, name: str, default: str | None = None) -> str | None:
        """A header's value, decoded (encoded words and folding undone), as ``EmailMessage`` gives it."""
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("ascii").replace("\r\n ", " ")
        prefix = name.lower() + ":"
        for line in head.split("\r\n"):
            if line.lower().startswith(prefix):
                return str(make_header(decode_header(line[len(prefix):].strip())))
        return default

    def __getitem__(self, name: str) -> str | None:
        return self.get(name)


OutgoingMessage = EmailMessage | WireMessage


def as_bytes(message: OutgoingMessage) -> bytes:
    """The message on the wire: plain SMTP policy, or SMTPUTF8 when an address needs it."""
    if isinstance(message, WireMessage):
        return message.data
    addresses = f"{message.get('From', '')}{message.get('To', '')}"
    return message.as_bytes(policy=SMTP_ASCII_POLICY if addresses.isascii() else SMTP_POLICY)


class Transport(Protocol):
    def send(self, message: OutgoingMessage) -> None: ...


class EmlFolderTransport:
    """The embedded mode: each message a file, readable by its owner only, with one log line each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: OutgoingMessage) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.folder / f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
        # written under a temporary name and renamed, so a reader never sees half a message
        partial = path.with_suffix(".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(as_bytes(message))
        partial.replace(path)
        # the file name says nothing about the recipient
        log.info("mail written to %s", path)


class SmtpTransport:
    """smtp://user:pass@host:587?starttls=1&timeout=30 or smtps://…; errors never name the recipient.

    Each thread keeps its SMTP connection open between messages (login and TLS once, not per message):
    ``reuse`` messages at most per connection (default 100), closed after ``idle`` seconds unused (default
    30, below servers' usual idle limits). A kept connection that the server has meanwhile dropped is
    opened again once, transparently; a connection is closed after any failure that may have left it in
    an unknown state, so the next message starts clean.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"}:
            raise ValueError("ADVOCACY_SMTP_URL must start with smtp:// or smtps://")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.ssl = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.ssl else 25)
        self.timeout = float(options.get("timeout", 30))
        self.starttls = not self.ssl and options.get("starttls") in {"1", "true", "yes"}
        self.login = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
        self.reuse = max(int(options.get("reuse", 100)), 1)
        self.idle = float(options.get("idle", 30))
        self._local = threading.local()

    def send(self, message: OutgoingMessage) -> None:
        try:
            self._deliver(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _recipient_error(list(exc.recipients.values())) from None
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise SystemDeliveryError(f"SMTP login refused ({exc.smtp_code})") from None
        except smtplib.SMTPSenderRefused as exc:
            kind = SystemDeliveryError if exc.smtp_code >= 500 else TransientDeliveryError
            raise kind(f"SMTP server refused the sender ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            # after the recipients were taken (DATA) or before (HELO, STARTTLS): the server's policy or state
            self.close()
            kind = SystemDeliveryError if exc.smtp_code >= 500 or exc.smtp_code == 421 else TransientDeliveryError
            raise kind(f"SMTP server answered {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise SystemDeliveryError(f"SMTP server unreachable ({type(exc).__name__})") from None

    def close(self) -> None:
        """Close this thread's kept connection, if any (politely, or by dropping it if the server is gone)."""
        client: smtplib.SMTP | None = getattr(self._local, "client", None)
        self._local.client = None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()

    def _connect(self) -> smtplib.SMTP:
        client: smtplib.SMTP
        if self.ssl:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.login is not None:
                client.login(*self.login)
        except BaseException:
            client.close()
            raise
        return client

    def _kept(self) -> smtplib.SMTP | None:
        """This thread's open connection, unless it has served its share or sat idle too long."""
        client: smtplib.SMTP | None = getattr(self._local, "client", None)
        if client is not None and (self._local.sent >= self.reuse
                                   or time.monotonic() - self._local.last_used > self.idle):
            self.close()
            return None
        return client

    def _deliver(self, message: OutgoingMessage) -> None:
        client = self._kept()
        if client is not None:
            try:
                _transmit(client, message)
            except smtplib.SMTPServerDisconnected:
                # dropped while we kept it: nothing was accepted on it, so open a new one and send once more
                self._local.client = None
                client.close()
            else:
                self._used()
                return
        client = self._connect()
        self._local.client, self._local.sent = client, 0
        _transmit(client, message)
        self._used()

    def _used(self) -> None:
        self._local.sent += 1
        self._local.last_used = time.monotonic()


def _transmit(client: smtplib.SMTP, message: OutgoingMessage) -> None:
    if isinstance(message, WireMessage):
        client.sendmail(message.sender_address, [message.recipient], message.data)
    else:
        client.send_message(message)


def _recipient_error(answers: list[tuple[int, bytes]]) -> DeliveryError:
    """The recipient refused at RCPT: 550 to 553 about the address is for good; a policy refusal is ours."""
    codes = sorted({code for code, _ in answers})
    text = f"recipient refused by the SMTP server ({', '.join(map(str, codes))})"

    def about_the_address(code: int, reply: bytes) -> bool:
        # 5.7.x is policy (relay denied, authentication required): the address is not at fault
        return 550 <= code <= 553 and not reply.lstrip().startswith(b"5.7.")

    if all(about_the_address(code, reply) for code, reply in answers):
        return PermanentDeliveryError(text)
    if any(code >= 500 for code in codes):
        return SystemDeliveryError(text)
    return TransientDeliveryError(text)


def transport() -> Transport:
    """The transport the settings name, built once per configuration."""
    smtp_url = current_app.config.get("SMTP_URL")
    folder = current_app.config["MAIL_DIR"]
    key = (smtp_url, str(folder))
    cached = current_app.extensions.get("advocacy.mail_transport")
    if cached is None or cached[0] != key:
        chosen: Transport = SmtpTransport(smtp_url) if smtp_url else EmlFolderTransport(Path(folder))
        cached = (key, chosen)
        current_app.extensions["advocacy.mail_transport"] = cached
    return cached[1]


def send(message: OutgoingMessage) -> None:
    transport().send(message)


def purge_old_mail_files(now: datetime | None = None) -> int:
    """Remove the embedded mode's .eml files (and half-written ones) older than seven days."""
    now = now or utcnow()
    cutoff = (now - KEEP_MAIL_FILES).timestamp()
    folder = Path(current_app.config["MAIL_DIR"])
    if not folder.is_dir():
        return 0
    removed = 0
    for path in [*folder.glob("*.eml"), *folder.glob("*.part")]:
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # removed by another process meanwhile
    return removed
