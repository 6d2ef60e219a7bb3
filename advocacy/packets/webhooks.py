"""Posting to an institution's webhook without letting anyone aim the platform at its own network.

Rules (issue 10): https only (http to a loopback address only where ADVOCACY_WEBHOOK_ALLOW_LOOPBACK is set, in
tests); never a private, loopback, link-local, multicast or reserved address, checked on every address the
name resolves to, and again on the socket actually connected (a DNS answer that changes between the two
cannot slip through: we connect to the address we checked); no redirects; 10 s timeouts; at most 64 KiB of
the answer read. Messages are signed with the ``standardwebhooks`` library (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from standardwebhooks import Webhook

TIMEOUT = 10.0
MAX_ANSWER = 64 * 1024


class Refused(Exception):
    """The address may not be called; the message says why (no personal data)."""


def new_secret() -> str:
    """A fresh secret in the scheme's own format (``whsec_`` and base64 of 24 random bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _blocked(address: str, allow_loopback: bool) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return not allow_loopback
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_private


class GuardedBackend(httpcore.SyncBackend):
    """Resolves the name itself, refuses forbidden addresses, connects to a checked one and checks the peer."""

    def __init__(self, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve the webhook's host ({exc.strerror})") from None
        addresses = [str(info[4][0]) for info in answers]
        if not addresses or any(_blocked(address, self.allow_loopback) for address in addresses):
            raise httpcore.ConnectError("refused: the webhook's host resolves to a private or local address")
        stream = super().connect_tcp(addresses[0], port, timeout=timeout, local_address=local_address,
                                     socket_options=socket_options)
        peer = stream.get_extra_info("socket").getpeername()[0]
        if _blocked(peer, self.allow_loopback):
            stream.close()
            raise httpcore.ConnectError("refused: connected to a private or local address")
        return stream


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, allow_loopback: bool) -> None:
        super().__init__(trust_env=False, retries=0)
        # httpx builds its pool without a way to pass a network backend: replace it with one that has ours
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                             max_connections=4, network_backend=GuardedBackend(allow_loopback))


def check_url(url: str, *, allow_loopback: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and allow_loopback and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return
    raise Refused("refused: a webhook must be an https address")


@dataclass(frozen=True)
class Answer:
    ok: bool
    outcome: str       # "HTTP 204", "timed out", "refused: …"
    duration_ms: int


def post(url: str, payload: dict[str, Any], *, secret: str, message_id: str, allow_loopback: bool) -> Answer:
    """POST the signed payload once; never raises for what the receiver does (the Answer says it)."""
    began = time.monotonic()

    def answer(ok: bool, outcome: str) -> Answer:
        return Answer(ok, outcome, int((time.monotonic() - began) * 1000))

    try:
        check_url(url, allow_loopback=allow_loopback)
    except Refused as exc:
        return answer(False, str(exc))
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": "advocacy-packets/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }
    try:
        with httpx.Client(transport=GuardedTransport(allow_loopback), timeout=TIMEOUT, follow_redirects=False,
                          trust_env=False) as client, \
                client.stream("POST", url, content=body.encode(), headers=headers) as response:
            read = 0
            for chunk in response.iter_bytes():
                read += len(chunk)
                if read >= MAX_ANSWER:
                    break
            status = response.status_code
    except httpx.TimeoutException:
        return answer(False, "timed out")
    except httpx.ConnectError as exc:
        message = str(exc)
        return answer(False, message if message.startswith("refused") else "could not connect")
    except httpx.HTTPError as exc:
        return answer(False, f"failed ({type(exc).__name__})")
    if 200 <= status < 300:
        return answer(True, f"HTTP {status}")
    if 300 <= status < 400:
        return answer(False, f"HTTP {status}: redirects are not followed")
    return answer(False, f"HTTP {status}")
