"""The platform's packet key: Ed25519 signatures of packet manifests, and the public keys that check them.

The private key is ADVOCACY_PACKET_SIGNING_KEY (a 32-byte seed; generated into the instance folder in the
embedded mode). Keys used before a rotation stay in ADVOCACY_PACKET_SIGNING_KEY_FALLBACKS: they sign
nothing any more, but their public keys are still published at ``/.well-known/packet-signing-key`` as a
JWK set (RFC 8037 "OKP" keys), so packets delivered earlier keep verifying.

A key's id (``kid``) is the first 16 hex digits of the SHA-256 of its raw public key; its fingerprint, shown
to liaisons to compare by eye or read out on the phone, is the whole SHA-256 in groups of four.

``manifest.sig`` is a small JSON document: ``{"alg": "EdDSA", "kid": …, "signature": base64url}``, the
signature over the exact bytes of ``manifest.json``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def fingerprint(key: Ed25519PublicKey) -> str:
    digest = hashlib.sha256(raw_public(key)).hexdigest().upper()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


class SignatureMismatch(ValueError):
    """The signature does not hold. ``reason``: "format" (not a signature document), "unknown_key" (made with a
    key not trusted here) or "mismatch" (the manifest or the signature changed); the message says it in
    English."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class PacketKeys:
    current: Ed25519PrivateKey
    older: tuple[Ed25519PublicKey, ...] = ()

    @classmethod
    def from_seeds(cls, seed: bytes, fallbacks: tuple[bytes, ...] = ()) -> PacketKeys:
        return cls(Ed25519PrivateKey.from_private_bytes(seed),
                   tuple(Ed25519PrivateKey.from_private_bytes(old).public_key() for old in fallbacks))

    @property
    def public_keys(self) -> tuple[Ed25519PublicKey, ...]:
        return (self.current.public_key(), *self.older)

    def sign(self, manifest: bytes) -> bytes:
        """The contents of manifest.sig for these manifest bytes."""
        document = {"alg": "EdDSA", "kid": key_id(self.current.public_key()),
                    "signature": _b64(self.current.sign(manifest))}
        return (json.dumps(document, indent=2) + "\n").encode()

    def jwks(self) -> dict[str, Any]:
        return jwks(self.public_keys)


def jwks(keys: tuple[Ed25519PublicKey, ...] | list[Ed25519PublicKey]) -> dict[str, Any]:
    return {"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": key_id(key),
                      "x": _b64(raw_public(key))} for key in keys]}


def keys_from_jwks(document: Any) -> list[Ed25519PublicKey]:
    """The Ed25519 keys of a JWK set (or of a single JWK); raises ValueError if there is none."""
    entries = document.get("keys", [document]) if isinstance(document, dict) else []
    keys = []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("kty") == "OKP" and entry.get("crv") == "Ed25519":
            try:
                keys.append(Ed25519PublicKey.from_public_bytes(_unb64(str(entry.get("x", "")))))
            except ValueError:
                continue
    if not keys:
        raise ValueError("no Ed25519 public key in this JWK set")
    return keys


def check(manifest: bytes, signature_file: bytes, keys: list[Ed25519PublicKey] | tuple[Ed25519PublicKey, ...]
          ) -> Ed25519PublicKey:
    """The key whose signature in ``signature_file`` holds for ``manifest``; raises SignatureMismatch."""
    try:
        document = json.loads(signature_file)
        signature = _unb64(str(document["signature"]))
        kid = str(document.get("kid", ""))
    except (ValueError, KeyError, TypeError):
        raise SignatureMismatch("format", "manifest.sig is not a signature document") from None
    if len(signature) != 64:
        raise SignatureMismatch("format", "manifest.sig does not hold an Ed25519 signature")
    candidates = sorted(keys, key=lambda key: key_id(key) != kid)  # the named key first, then any other
    for key in candidates:
        try:
            key.verify(signature, manifest)
        except InvalidSignature:
            continue
        return key
    if not any(key_id(key) == kid for key in keys):
        raise SignatureMismatch("unknown_key",
                                f"manifest.sig was made with a key that is not trusted here (key id {kid})")
    raise SignatureMismatch("mismatch",
                            "the signature does not match manifest.json: the manifest or its signature was changed")


def packet_keys() -> PacketKeys:
    keys: PacketKeys = current_app.extensions["advocacy.packet_keys"]
    return keys
