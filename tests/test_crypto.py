"""Field encryption and tokens: what keeps signer data safe if the database or a link leaks."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from advocacy.crypto import DecryptionError, Keyring, TokenInvalid, key_id, make_token, read_token, seal_context


def test_ciphertext_reveals_nothing_and_differs_every_time():
    ring = Keyring({"k1": b"a" * 32}, b"i" * 32)
    one, two = ring.encrypt("Olena Kovalenko"), ring.encrypt("Olena Kovalenko")
    assert one != two
    assert b"Olena" not in one
    assert ring.decrypt(one) == ring.decrypt(two) == "Olena Kovalenko"


def test_keys_rotate_old_data_still_reads():
    old = Keyring({"k1": b"a" * 32}, b"i" * 32)
    sealed = old.encrypt("Mykola")
    rotated = Keyring({"k2": b"b" * 32, "k1": b"a" * 32}, b"i" * 32)
    assert rotated.decrypt(sealed) == "Mykola"
    assert rotated.encrypt("Mykola")[2:4] == b"k2"  # the newest key seals new data
    assert key_id(rotated.encrypt("Mykola")) == "k2"
    without_old = Keyring({"k2": b"b" * 32}, b"i" * 32)
    with pytest.raises(DecryptionError):
        without_old.decrypt(sealed)


def test_tampered_ciphertext_is_refused():
    ring = Keyring({"k1": b"a" * 32}, b"i" * 32)
    sealed = bytearray(ring.encrypt("Iryna"))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError):
        ring.decrypt(bytes(sealed))


def test_blind_index_is_keyed():
    a = Keyring({"k1": b"a" * 32}, b"i" * 32)
    b = Keyring({"k1": b"a" * 32}, b"j" * 32)
    assert a.blind_index("x@example.org", purpose="p") == a.blind_index("x@example.org", purpose="p")
    assert a.blind_index("x@example.org", purpose="p") != b.blind_index("x@example.org", purpose="p")
    assert a.blind_index("x@example.org", purpose="p") != a.blind_index("x@example.org", purpose="q")


def test_a_token_for_one_purpose_is_useless_for_another(ctx):
    token = make_token("withdraw-signature", 7)
    assert read_token("withdraw-signature", token) == 7
    with pytest.raises(TokenInvalid):
        read_token("confirm-signature", token)


def test_a_value_opens_only_in_its_own_place():
    ring = Keyring({"k1": b"a" * 32}, b"i" * 32)
    here = seal_context("signatures", "full_name", "a" * 32)
    sealed = ring.encrypt("Olena Kovalenko", context=here)
    assert ring.decrypt(sealed, context=here) == "Olena Kovalenko"
    for elsewhere in (seal_context("signatures", "full_name", "b" * 32),   # another row
                      seal_context("signatures", "postcode", "a" * 32),    # another column
                      seal_context("packets", "full_name", "a" * 32),      # another table
                      b""):                                                # no place at all
        with pytest.raises(DecryptionError):
            ring.decrypt(sealed, context=elsewhere)


def test_the_old_unbound_format_is_refused():
    key = b"a" * 32
    header = b"\x01\x02k1"
    nonce = os.urandom(12)
    old = header + nonce + AESGCM(key).encrypt(nonce, b"Olena", header)  # valid under format 1
    with pytest.raises(DecryptionError, match="unbound"):
        Keyring({"k1": key}, b"i" * 32).decrypt(old)
