"""Field encryption, blind indexes and purpose-salted tokens.

Personal fields are sealed with AES-GCM under a key id so keys can be rotated: the newest key encrypts,
every configured key decrypts. Each sealed value authenticates where it lives (table, column and the row's
``seal_id``) as associated data, so a value copied into another row or column does not decrypt.
Duplicates are found through an HMAC-SHA256 blind index computed with a separate key, so the database
never holds an email address in a form that can be read or brute-forced without the index key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any, overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

log = logging.getLogger(__name__)

# 1: AES-GCM with the header as associated data, bound to nothing (refused since values are bound to their
# place); 2: the header plus a context naming the value's table, column and row.
UNBOUND_FORMAT_VERSION = b"\x01"
FORMAT_VERSION = b"\x02"


class DecryptionError(Exception):
    pass


class SealBroken(DecryptionError):
    """A stored value does not open in its own place: altered, copied from elsewhere, or under a lost key."""

    def __init__(self, table: str, column: str, row_id: object) -> None:
        super().__init__(f"sealed value in {table}.{column} of row {row_id} does not open")
        self.table = table
        self.column = column
        self.row_id = row_id


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

    @property
    def current_kid(self) -> str:
        return next(iter(self.data_keys))

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> str:
        if blob[:1] == UNBOUND_FORMAT_VERSION:
            raise DecryptionError("ciphertext in the old unbound format")
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


def key_id(blob: bytes) -> str | None:
    """The id of the key a sealed value is under, read from its header; None if the header is not ours."""
    if len(blob) < 2 or blob[:1] not in (FORMAT_VERSION, UNBOUND_FORMAT_VERSION):
        return None
    return blob[2 : 2 + blob[1]].decode(errors="replace")


def seal_context(table: str, column: str, seal_id: str) -> bytes:
    return f"{table}\0{column}\0{seal_id}".encode()


def new_seal_id() -> str:
    return uuid.uuid4().hex


# every (model, Sealed field) pair, so key rotation can find all sealed values
SEALED_FIELDS: list[tuple[type, Sealed]] = []


class Sealed:
    """A personal field stored as AES-GCM ciphertext bound to table, column and the row's ``seal_id``.

    The model maps the ciphertext column to the attribute ``_<name>`` (DB column ``<name>``) and a string
    ``seal_id`` column set when the object is created; this descriptor gives plain ``str`` in Python.
    Reading a value that does not open in its place logs an integrity error (never the value) and raises
    ``SealBroken``.
    """

    def __init__(self, column: str) -> None:
        self.column = column
        self.attr = f"_{column}"
        self.table = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.table = str(owner.__dict__.get("__tablename__") or owner.__name__)
        SEALED_FIELDS.append((owner, self))

    def context(self, obj: Any) -> bytes:
        return seal_context(self.table, self.column, ensure_seal_id(obj))

    @overload
    def __get__(self, obj: None, owner: type) -> Sealed: ...
    @overload
    def __get__(self, obj: object, owner: type) -> str | None: ...

    def __get__(self, obj: object | None, owner: type) -> Sealed | str | None:
        if obj is None:
            return self
        blob = getattr(obj, self.attr)
        if blob is None:
            return None
        try:
            return keyring().decrypt(bytes(blob), context=self.context(obj))
        except DecryptionError as exc:
            raise self._broken(obj, exc) from exc

    def __set__(self, obj: object, value: str | None) -> None:
        setattr(obj, self.attr, None if value is None else keyring().encrypt(value, context=self.context(obj)))

    def resealed(self, obj: object, ring: Keyring) -> bytes | None:
        """The value sealed again under the first key, or None if it is empty or already under that key."""
        blob = getattr(obj, self.attr)
        if blob is None or key_id(bytes(blob)) == ring.current_kid:
            return None
        context = self.context(obj)
        try:
            plaintext = ring.decrypt(bytes(blob), context=context)
        except DecryptionError as exc:
            raise self._broken(obj, exc) from exc
        return ring.encrypt(plaintext, context=context)

    def _broken(self, obj: object, error: DecryptionError) -> SealBroken:
        row_id = getattr(obj, "id", None)
        log.error("integrity error: the sealed value in %s.%s of row %s does not open in its place (%s)",
                  self.table, self.column, row_id, error)
        return SealBroken(self.table, self.column, row_id)


def ensure_seal_id(obj: Any) -> str:
    seal_id: str | None = obj.seal_id
    if seal_id is None:
        seal_id = obj.seal_id = new_seal_id()
    return seal_id


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
    # the unsubscribe link of updates to signers: valid as long as the signature exists
    "unsubscribe-news": None,
    # a delivered packet's link in the console: 14 days (the liaison still finds the packet in their list)
    "packet-link": 14 * 24 * 3600,
}


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in TOKEN_PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    # the last key signs; the fallbacks still verify links sent before a rotation
    keys = (*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.config["SECRET_KEY"])
    serializer = _serializers.get((purpose, keys))
    if serializer is None:  # built once per purpose and keys: every emailed link and every click reads one
        if len(_serializers) > 64:
            _serializers.clear()
        serializer = _serializers[(purpose, keys)] = URLSafeTimedSerializer(list(keys), salt=f"advocacy.{purpose}")
    return serializer


_serializers: dict[tuple[str, tuple[Any, ...]], URLSafeTimedSerializer] = {}


def make_token(purpose: str, value: Any) -> str:
    return _serializer(purpose).dumps(value)


def read_token(purpose: str, token: str) -> Any:
    try:
        return _serializer(purpose).loads(token, max_age=TOKEN_PURPOSES[purpose])
    except SignatureExpired as exc:
        raise TokenExpired() from exc
    except BadSignature as exc:
        raise TokenInvalid() from exc
