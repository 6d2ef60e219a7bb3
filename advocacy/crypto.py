"""Field encryption, blind indexes and purpose-salted tokens.

Personal fields are sealed with AES-GCM under a key id so keys can be rotated: the newest key encrypts,
every configured key decrypts. Duplicates are found through an HMAC-SHA256 blind index computed with a
separate key, so the database never holds an email address in a form that can be read or brute-forced
without the index key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

FORMAT_VERSION = b"\x01"


class DecryptionError(Exception):
    pass


@dataclass(frozen=True)
class Keyring:
    data_keys: dict[str, bytes]
    blind_index_key: bytes

    def encrypt(self, plaintext: str, *, context: bytes = b"") -> bytes:
        kid, key = next(iter(self.data_keys.items()))
        kid_bytes = kid.encode()
        nonce = os.urandom(12)
        header = FORMAT_VERSION + bytes([len(kid_bytes)]) + kid_bytes
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), header + context)
        return header + nonce + sealed

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> str:
        if not blob or blob[:1] != FORMAT_VERSION:
            raise DecryptionError("unknown ciphertext format")
        kid_len = blob[1]
        kid = blob[2 : 2 + kid_len].decode()
        header = blob[: 2 + kid_len]
        nonce = blob[2 + kid_len : 14 + kid_len]
        key = self.data_keys.get(kid)
        if key is None:
            raise DecryptionError(f"no data key {kid!r} configured")
        try:
            return AESGCM(key).decrypt(nonce, blob[14 + kid_len :], header + context).decode()
        except InvalidTag as exc:
            raise DecryptionError("ciphertext altered or sealed under another key") from exc

    def blind_index(self, value: str, *, purpose: str) -> str:
        message = purpose.encode() + b"\x00" + value.encode()
        return hmac.new(self.blind_index_key, message, hashlib.sha256).hexdigest()


def keyring() -> Keyring:
    keyring: Keyring = current_app.extensions["advocacy.keyring"]
    return keyring


class EncryptedText(TypeDecorator[str]):
    """A text column stored as AES-GCM ciphertext; plain ``str`` in Python."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return keyring().encrypt(value)

    def process_result_value(self, value: bytes | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return keyring().decrypt(bytes(value))


# Providers that ignore dots in the local part and deliver ``+tag`` addresses to the same mailbox.
_DOTLESS_DOMAINS = {"gmail.com", "googlemail.com"}
_PLUS_TAG_DOMAINS = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com", "pm.me",
    "fastmail.com", "yandex.ru", "ya.ru", "yandex.com", "ukr.net", "mail.ru", "gmx.de", "gmx.net",
    "web.de", "wp.pl", "onet.pl", "o2.pl",
}
_DOMAIN_ALIASES = {"googlemail.com": "gmail.com", "ya.ru": "yandex.ru", "yandex.com": "yandex.ru"}


def canonical_email(address: str) -> str:
    """Fold an address so that one mailbox gives one value: case, and the dots and +tags of big providers."""
    address = unicodedata.normalize("NFC", address.strip())
    local, _, domain = address.rpartition("@")
    domain = domain.lower().rstrip(".")
    domain = _DOMAIN_ALIASES.get(domain, domain)
    local = local.lower()
    if domain in _PLUS_TAG_DOMAINS:
        local = local.split("+", 1)[0]
        if domain == "yandex.ru":
            local = local.replace(".", "-")
    if domain in _DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


class TokenInvalid(Exception):
    pass


class TokenExpired(TokenInvalid):
    pass


# Each purpose has its own salt so a token minted for one action can never be replayed for another.
# Seconds a token is valid; None: as long as what it names exists (a signer may withdraw at any time).
TOKEN_PURPOSES: dict[str, int | None] = {
    "confirm-signature": 7 * 24 * 3600,
    "withdraw-signature": None,
}


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in TOKEN_PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    # the last key signs; the fallbacks still verify links sent before a rotation
    keys = [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.config["SECRET_KEY"]]
    return URLSafeTimedSerializer(keys, salt=f"advocacy.{purpose}")


def make_token(purpose: str, value: Any) -> str:
    return _serializer(purpose).dumps(value)


def read_token(purpose: str, token: str) -> Any:
    try:
        return _serializer(purpose).loads(token, max_age=TOKEN_PURPOSES[purpose])
    except SignatureExpired as exc:
        raise TokenExpired() from exc
    except BadSignature as exc:
        raise TokenInvalid() from exc
