"""Rendering email from templates/email/<name>/{subject.txt,body.txt,body.html} and sending it.

With no ADVOCACY_SMTP_URL, messages are written as .eml files to the instance ``mail/`` folder.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTPUTF8 as SMTP_POLICY
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale

from advocacy.dbtypes import utcnow

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A send that failed; the message says what happened without naming the recipient."""


class TransientDeliveryError(DeliveryError):
    """Worth trying again later: the server is down, busy or answered 4xx."""


class PermanentDeliveryError(DeliveryError):
    """Trying again will not help: the server answered 5xx, e.g. the mailbox does not exist."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render(name: str, locale: str, **context: Any) -> RenderedEmail:
    with force_locale(locale):
        subject = render_template(f"email/{name}/subject.txt", **context).strip()
        text = render_template(f"email/{name}/body.txt", **context)
        html = render_template(f"email/{name}/body.html", locale=locale, subject=subject, **context)
    return RenderedEmail(" ".join(subject.split()), text, html)


def build_message(to: str, email: RenderedEmail, *, locale: str, message_key: str | None = None) -> Message:
    """The MIME message, text and HTML alternatives.

    ``message_key`` makes the Message-ID stable, so a send that is redone after a crash is recognisably the
    same message (mail systems fold duplicates with one Message-ID).
    """
    domain = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    sender = current_app.config["MAIL_FROM"]
    headers = {
        "Date": format_datetime(utcnow()),
        "Message-ID": f"<{message_key}@{domain}>" if message_key else make_msgid(domain=domain),
        "Auto-Submitted": "auto-generated",
        "Content-Language": locale,
    }
    if not (to.isascii() and parseaddr(sender)[1].isascii()):
        return _build_international(to, sender, email, headers)
    # the classic MIME classes build a message about four times faster than EmailMessage, which parses every
    # header it is given; that matters when a petition goes viral
    message = MIMEMultipart("alternative")
    name, address = parseaddr(sender)
    message["From"] = formataddr((name, address), charset="utf-8")
    message["To"] = to
    message["Subject"] = Header(email.subject, "utf-8").encode()
    for key, value in headers.items():
        message[key] = value
    message.attach(MIMEText(email.text, "plain", "utf-8"))
    message.attach(MIMEText(email.html, "html", "utf-8"))
    return message


def _build_international(to: str, sender: str, email: RenderedEmail, headers: dict[str, str]) -> Message:
    """Addresses with non-ASCII characters need SMTPUTF8, which EmailMessage handles."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = email.subject
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    # after the body: set_content clears every Content-* header
    for key, value in headers.items():
        message[key] = value
    return message


def send(message: Message) -> None:
    smtp_url = current_app.config.get("SMTP_URL")
    if smtp_url:
        _send_smtp(smtp_url, message)
    else:
        _write_eml(message)


def _write_eml(message: Message) -> None:
    folder = current_app.config["MAIL_DIR"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
    # written under a temporary name and renamed, so a reader never sees half a message
    partial = path.with_suffix(".part")
    policy = SMTP_POLICY if isinstance(message, EmailMessage) else None
    partial.write_bytes(message.as_bytes(policy=policy))
    partial.replace(path)
    # the file name says nothing about the recipient
    log.info("mail written to %s", path)


def _deliver_smtp(url: str, message: Message) -> None:
    parts = urlsplit(url)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = parts.hostname or "localhost"
    timeout = float(options.get("timeout", 30))
    client: smtplib.SMTP
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout, context=ssl.create_default_context())
    elif parts.scheme == "smtp":
        client = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
    else:
        raise ValueError("ADVOCACY_SMTP_URL must start with smtp:// or smtps://")
    with client:
        if parts.scheme == "smtp" and options.get("starttls") in {"1", "true", "yes"}:
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


def _send_smtp(url: str, message: Message) -> None:
    """Send, and turn smtplib's errors (whose text can hold the address) into ours, which never do."""
    try:
        _deliver_smtp(url, message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        kind = PermanentDeliveryError if all(code >= 500 for code in codes) else TransientDeliveryError
        raise kind(f"recipient refused by the SMTP server ({', '.join(map(str, codes))})") from None
    except smtplib.SMTPResponseException as exc:
        kind = PermanentDeliveryError if exc.smtp_code >= 500 else TransientDeliveryError
        raise kind(f"SMTP server answered {exc.smtp_code}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise TransientDeliveryError(f"SMTP server unreachable ({type(exc).__name__})") from None


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link built from ADVOCACY_BASE_URL, never from the Host header of a request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)
