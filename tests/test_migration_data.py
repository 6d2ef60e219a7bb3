"""The migration that binds sealed values to their place, run on data sealed the old way."""

from __future__ import annotations

import logging
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from advocacy import create_app
from advocacy.crypto import SealBroken
from advocacy.extensions import db
from advocacy.signatures.models import Signature
from tests.conftest import settings_for_tests

BEFORE = "31cc51689bab"
KEY = b"k" * 32  # the tests' data key "t1"


def seal_unbound(plaintext: str, kid: str = "t1") -> bytes:
    """A value as the app sealed it before values were bound: format 1, only the header authenticated."""
    header = b"\x01" + bytes([len(kid)]) + kid.encode()
    nonce = os.urandom(12)
    return header + nonce + AESGCM(KEY).encrypt(nonce, plaintext.encode(), header)


def open_unbound(blob: bytes) -> str:
    assert blob[:1] == b"\x01"
    kid_len = blob[1]
    header, nonce = blob[: 2 + kid_len], blob[2 + kid_len : 14 + kid_len]
    return AESGCM(KEY).decrypt(nonce, blob[14 + kid_len :], header).decode()


def insert_old_rows() -> None:
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO campaigns (id, slug, name, description, languages, created_at)"
            " VALUES (1, 'people-first', '{\"en\": \"People First\"}', '{}', '[\"en\"]', CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO petitions (id, campaign_id, slug, position, title, summary, body, status, goal,"
            " country_goals, postcode_required, created_at) VALUES (1, 1, 'free-them-all', 0,"
            " '{\"en\": \"Free them all\"}', '{}', '{}', 'open', 100, '{}', false, CURRENT_TIMESTAMP)"))
        for sid, name, email, postcode in [(1, "Olena Kovalenko", "olena@example.org", "01001"),
                                           (2, "Taras Bondarenko", "taras@example.org", None)]:
            conn.execute(text(
                "INSERT INTO signatures (id, petition_id, state, full_name, email, email_index, country, postcode,"
                " locale, consent_share_name, opt_in_news, created_at, emails_sent) VALUES (:id, 1, 'confirmed',"
                " :name, :email, :idx, 'UA', :postcode, 'uk', true, false, CURRENT_TIMESTAMP, 1)"),
                {"id": sid, "name": seal_unbound(name), "email": seal_unbound(email), "idx": f"{sid:064x}",
                 "postcode": seal_unbound(postcode) if postcode else None})


def test_upgrade_reseals_old_values_bound_to_their_row(tmp_path, fresh_database_url, rebind_worker_app, caplog):
    app = create_app({"TESTING": True}, settings=settings_for_tests(tmp_path, fresh_database_url))
    with app.app_context():
        upgrade(revision=BEFORE)
        insert_old_rows()
        upgrade()

        olena, taras = db.session.get(Signature, 1), db.session.get(Signature, 2)
        assert (olena.full_name, olena.email, olena.postcode) == ("Olena Kovalenko", "olena@example.org", "01001")
        assert (taras.full_name, taras.email, taras.postcode) == ("Taras Bondarenko", "taras@example.org", None)
        assert olena.seal_id
        assert taras.seal_id
        assert olena.seal_id != taras.seal_id
        stored = db.session.execute(text("SELECT full_name FROM signatures WHERE id = 1")).scalar_one()
        assert bytes(stored)[:1] == b"\x02"
        if db.engine.dialect.name == "sqlite":  # the rebuilt table still never reuses a deleted id
            schema = db.session.execute(text("SELECT sql FROM sqlite_master WHERE name = 'signatures'")).scalar_one()
            assert "AUTOINCREMENT" in schema
        db.session.rollback()

        # Olena's sealed name copied onto Taras's row no longer opens there
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE signatures SET full_name = (SELECT full_name FROM signatures WHERE id = 1)"
                              " WHERE id = 2"))
        db.session.expire_all()
        with caplog.at_level(logging.ERROR, logger="advocacy.crypto"), pytest.raises(SealBroken):
            _ = db.session.get(Signature, 2).full_name
        assert any("signatures.full_name of row 2" in r.getMessage() for r in caplog.records)
        assert db.session.get(Signature, 1).full_name == "Olena Kovalenko"
        db.session.rollback()

        # a withdrawn signature has no email index; going back down gives the old format (and an index) again
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE signatures SET full_name = NULL, email = NULL, postcode = NULL,"
                              " email_index = NULL, state = 'withdrawn' WHERE id = 2"))
        db.session.remove()
        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, full_name, email, postcode, email_index FROM signatures"
                                     " ORDER BY id")).all()
        assert open_unbound(bytes(rows[0].full_name)) == "Olena Kovalenko"
        assert open_unbound(bytes(rows[0].email)) == "olena@example.org"
        assert open_unbound(bytes(rows[0].postcode)) == "01001"
        assert rows[1].email_index
        assert rows[1].full_name is None
        db.engine.dispose()


def test_the_app_refuses_values_in_the_old_unbound_format(ctx, make_petition, caplog):
    petition = make_petition()
    signature = Signature(petition_id=petition.id, email_index="x" * 64, country="UA", locale="en",
                          full_name="Olena Kovalenko")
    db.session.add(signature)
    db.session.commit()
    # a value written the old way, left behind without the migration
    db.session.execute(text("UPDATE signatures SET full_name = :v"), {"v": seal_unbound("Olena Kovalenko")})
    db.session.commit()
    db.session.expire_all()
    with caplog.at_level(logging.ERROR, logger="advocacy.crypto"), pytest.raises(SealBroken):
        _ = db.session.get(Signature, signature.id).full_name
    assert "unbound" in caplog.text
