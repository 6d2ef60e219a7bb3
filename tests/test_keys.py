"""``advocacy keys``: fresh secrets, and a data-key rotation from start to end."""

from __future__ import annotations

import base64
import shlex

import pytest
from flask import Flask
from sqlalchemy import select, text

from advocacy.config import load_settings, parse_data_keys
from advocacy.crypto import Keyring, Sealed, key_id
from advocacy.extensions import db
from advocacy.signatures import services
from advocacy.signatures.models import Signature
from advocacy.signatures.services import Signer

K1, K2 = b"1" * 32, b"2" * 32


def test_generate_prints_a_fresh_usable_set(app: Flask, tmp_path):
    runner = app.test_cli_runner()
    outputs = []
    for _ in range(2):
        result = runner.invoke(args=["keys", "generate"])
        assert result.exit_code == 0, result.output
        exports = dict(
            shlex.split(line.removeprefix("export "))[0].split("=", 1)
            for line in result.stdout.splitlines() if line.startswith("export ")
        )
        assert set(exports) == {"ADVOCACY_SECRET_KEY", "ADVOCACY_DATA_KEYS", "ADVOCACY_BLIND_INDEX_KEY",
                                "ADVOCACY_PACKET_SIGNING_KEY"}
        outputs.append(exports)
    assert all(outputs[0][name] != outputs[1][name] for name in outputs[0])
    # what it prints is what the app reads: one new data key, 32-byte keys, a long secret
    settings = load_settings({**outputs[0], "ADVOCACY_INSTANCE_PATH": str(tmp_path)})
    assert len(settings.data_keys) == 1
    assert [len(key) for key in settings.data_keys.values()] == [32]
    assert list(settings.data_keys) != list(parse_data_keys(outputs[1]["ADVOCACY_DATA_KEYS"]))
    assert len(settings.blind_index_key) == 32
    assert len(base64.urlsafe_b64decode(outputs[0]["ADVOCACY_BLIND_INDEX_KEY"] + "=")) == 32
    assert len(settings.secret_key) >= 40
    assert len(settings.packet_signing_key) == 32


@pytest.fixture
def use_keys(app: Flask, monkeypatch):
    """Swap the app's data keys, as a restart with another ADVOCACY_DATA_KEYS would."""
    blind = app.extensions["advocacy.keyring"].blind_index_key

    def use(keys: dict[str, bytes]) -> None:
        monkeypatch.setitem(app.extensions, "advocacy.keyring", Keyring(keys, blind))

    return use


def stored_key_ids() -> list[str | None]:
    rows = db.session.execute(text("SELECT full_name, email, postcode, email_domain FROM signatures ORDER BY id")
                              ).all()
    return [key_id(bytes(value)) for row in rows for value in row if value is not None]


def sign_people(petition_id: int, count: int) -> list[int]:
    for n in range(count):
        services.sign(petition_id, Signer(full_name=f"Person {chr(65 + n)}", email=f"p{n}@example.org",
                                          country="UA", locale="uk", postcode=f"0100{n}"))
        db.session.commit()
    return list(db.session.scalars(select(Signature.id).order_by(Signature.id)))


def test_rotation_from_start_to_end(app: Flask, make_petition, use_keys, client):
    use_keys({"k1": K1})
    petition = make_petition()
    ids = sign_people(petition.id, 5)
    services.withdraw(ids[4])  # erased values stay erased
    db.session.commit()
    assert set(stored_key_ids()) == {"k1"}

    use_keys({"k2": K2, "k1": K1})  # the new key first, the old one kept
    result = app.test_cli_runner().invoke(args=["keys", "reencrypt", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 16 values in 4 rows under data key k2" in result.output
    db.session.expire_all()
    assert set(stored_key_ids()) == {"k2"}
    again = app.test_cli_runner().invoke(args=["keys", "reencrypt"])
    assert "re-encrypted 0 values in 0 rows" in again.output

    use_keys({"k2": K2})  # the old key removed: everything still reads
    db.session.expire_all()
    people = db.session.scalars(select(Signature).order_by(Signature.id)).all()
    assert [(p.full_name, p.email, p.postcode) for p in people[:4]] == [
        (f"Person {chr(65 + n)}", f"p{n}@example.org", f"0100{n}") for n in range(4)]
    assert (people[4].full_name, people[4].email) == (None, None)


def test_a_stopped_run_loses_nothing_and_the_next_one_finishes(app: Flask, make_petition, use_keys, monkeypatch):
    use_keys({"k1": K1})
    petition = make_petition()
    ids = sign_people(petition.id, 5)
    use_keys({"k2": K2, "k1": K1})

    original = Sealed.resealed

    def crash_on_the_fourth_row(self, obj, ring):
        if obj.id == ids[3]:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or the machine going down
        return original(self, obj, ring)

    with monkeypatch.context() as patch:
        patch.setattr(Sealed, "resealed", crash_on_the_fourth_row)
        stopped = app.test_cli_runner().invoke(args=["keys", "reencrypt", "--batch-size", "2"])
    assert stopped.exit_code != 0
    db.session.rollback()
    db.session.expire_all()
    # the first batch (two rows, four values each) was committed; the interrupted one was not
    assert stored_key_ids() == ["k2"] * 8 + ["k1"] * 12

    resumed = app.test_cli_runner().invoke(args=["keys", "reencrypt", "--batch-size", "2"])
    assert resumed.exit_code == 0, resumed.output
    assert "re-encrypted 12 values in 3 rows under data key k2" in resumed.output
    db.session.expire_all()
    assert stored_key_ids() == ["k2"] * 20
    use_keys({"k2": K2})
    assert [s.full_name for s in db.session.scalars(select(Signature).order_by(Signature.id))] == [
        f"Person {chr(65 + n)}" for n in range(5)]


def test_a_value_that_does_not_open_is_reported_and_left(app: Flask, make_petition, use_keys, caplog):
    use_keys({"k1": K1})
    petition = make_petition()
    ids = sign_people(petition.id, 2)
    db.session.execute(text("UPDATE signatures SET full_name = (SELECT full_name FROM signatures WHERE id = :a)"
                            " WHERE id = :b"), {"a": ids[0], "b": ids[1]})
    db.session.commit()
    use_keys({"k2": K2, "k1": K1})
    result = app.test_cli_runner().invoke(args=["keys", "reencrypt"])
    assert result.exit_code == 1
    assert "1 values do not open in their place" in result.output
    assert "re-encrypted 7 values in 2 rows" in result.output
    assert f"signatures.full_name of row {ids[1]}" in caplog.text
    assert "Person" not in caplog.text
