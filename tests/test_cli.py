"""The `advocacy` command as an operator uses it."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from advocacy.config import ConfigError, load_settings
from advocacy.crypto import TokenInvalid
from advocacy.events.models import Event
from advocacy.extensions import db
from advocacy.outbox.models import OutboxMessage
from advocacy.petitions.models import Petition, Target
from advocacy.signatures.models import Signature, SignatureState
from advocacy.tallies import services as tallies


def counts() -> tuple[int, int, int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Petition)),
        db.session.scalar(select(func.count()).select_from(Target)),
        db.session.scalar(select(func.count()).select_from(Signature)),
        db.session.scalar(select(func.count()).select_from(Event)),
    )


def test_demo_loads_once_and_again_changes_nothing(app, ctx):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    loaded = counts()
    assert loaded[0] == 9  # six campaign petitions and three country petitions
    assert loaded[1] >= 6
    assert loaded[2] > 1000
    assert loaded[3] >= 3
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert "0 new signatures" in again.output
    assert counts() == loaded
    # the tallies agree with the signatures, and every demo signature is confirmed
    assert tallies.reconcile_all() == 0
    assert db.session.scalar(select(func.count()).select_from(Signature)
                             .where(Signature.state != SignatureState.CONFIRMED)) == 0
    petition = db.session.scalar(select(Petition).where(Petition.slug == "free-ukrainian-civilians"))
    assert set(petition.title) == {"en", "uk", "ru"}
    assert len(tallies.tally(petition.id).by_country) > 10
    # the petition to the Bundestag is launched from it and written in German too
    german = db.session.scalar(select(Petition).where(Petition.slug == "free-ukrainian-civilians-de"))
    assert (german.parent_id, german.country) == (petition.id, "DE")
    assert set(german.title) == {"en", "uk", "ru", "de"}
    assert "Besatzungsgerichte" in german.body["de"]
    assert set(tallies.tally(german.id).by_country) == {"DE"}


def test_secrets_are_generated_once_and_kept(tmp_path):
    first = load_settings({}, instance_path=tmp_path)
    second = load_settings({}, instance_path=tmp_path)
    assert first.secret_key == second.secret_key
    assert first.data_keys == second.data_keys
    assert len(next(iter(first.data_keys.values()))) == 32
    stored = json.loads((tmp_path / "secrets.json").read_text())
    assert set(stored) == {"secret_key", "data_keys", "blind_index_key", "packet_signing_key"}
    assert first.packet_signing_key == second.packet_signing_key
    assert len(first.packet_signing_key) == 32
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0
    assert first.database_url == f"sqlite:///{tmp_path / 'advocacy.sqlite3'}"
    assert first.broker_url is None
    assert first.smtp_url is None


def test_an_instance_from_before_packets_gets_a_packet_key_added_once(tmp_path):
    (tmp_path / "secrets.json").write_text(json.dumps({
        "secret_key": "s" * 64, "data_keys": "k1:" + "A" * 43 + "=", "blind_index_key": "B" * 43 + "="}))
    first = load_settings({}, instance_path=tmp_path)
    second = load_settings({}, instance_path=tmp_path)
    stored = json.loads((tmp_path / "secrets.json").read_text())
    assert stored["secret_key"] == "s" * 64  # what was there is kept
    assert first.packet_signing_key == second.packet_signing_key
    assert base64.urlsafe_b64decode(stored["packet_signing_key"]) == first.packet_signing_key
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0


PRODUCTION_SECRETS = {
    "ADVOCACY_SMTP_URL": "smtp://mail.internal:587?starttls=1",
    "ADVOCACY_SECRET_KEY": "s" * 40,
    "ADVOCACY_DATA_KEYS": "new:" + "Y" * 43 + "=,old:" + "Z" * 43 + "=",
    "ADVOCACY_BLIND_INDEX_KEY": "B" * 43 + "=",
    "ADVOCACY_PACKET_SIGNING_KEY": "P" * 43 + "=",
}


def test_environment_overrides_the_defaults(tmp_path):
    settings = load_settings({
        "ADVOCACY_DATABASE_URL": "postgresql+psycopg://u@db/advocacy",
        "ADVOCACY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "ADVOCACY_BASE_URL": "https://petitions.example.org/",
        "ADVOCACY_RELAY_EVERY": "2",
        **PRODUCTION_SECRETS,
    }, instance_path=tmp_path)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.base_url == "https://petitions.example.org"
    assert list(settings.data_keys) == ["new", "old"]
    assert settings.relay_every == 2
    assert not (tmp_path / "secrets.json").exists()


@pytest.mark.parametrize("missing", sorted(PRODUCTION_SECRETS))
def test_production_refuses_to_start_without_each_required_setting(tmp_path, missing):
    env = {"ADVOCACY_DATABASE_URL": "postgresql+psycopg://u@db/advocacy", **PRODUCTION_SECRETS}
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        load_settings(env, instance_path=tmp_path)
    # nothing was generated that a second host would not share
    assert not (tmp_path / "secrets.json").exists()


def test_secrets_can_come_from_files(tmp_path):
    env = {"ADVOCACY_DATABASE_URL": "postgresql+psycopg://u@db/advocacy"}
    for name, value in PRODUCTION_SECRETS.items():
        if name == "ADVOCACY_SMTP_URL":
            env[name] = value
            continue
        path = tmp_path / name.lower()
        path.write_text(value + "\n")  # as a secret store writes it
        env[f"{name}_FILE"] = str(path)
    settings = load_settings(env, instance_path=tmp_path)
    assert settings.secret_key == "s" * 40
    assert list(settings.data_keys) == ["new", "old"]
    env["ADVOCACY_SECRET_KEY_FILE"] = str(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="ADVOCACY_SECRET_KEY_FILE"):
        load_settings(env, instance_path=tmp_path)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("ADVOCACY_SECRET_KEY", "short", "at least 32 characters"),
    ("ADVOCACY_DATA_KEYS", "k1:" + "A" * 22, "must be 32 bytes"),
    ("ADVOCACY_BLIND_INDEX_KEY", "A" * 22, "at least 32 bytes"),
    ("ADVOCACY_DATA_KEYS", "no-key-id", "kid:base64key"),
])
def test_key_lengths_are_checked(tmp_path, name, value, message):
    env = {"ADVOCACY_DATABASE_URL": "postgresql+psycopg://u@db/advocacy", **PRODUCTION_SECRETS, name: value}
    with pytest.raises(ConfigError, match=message):
        load_settings(env, instance_path=tmp_path)


def test_the_command_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVOCACY_")}
    env.update(ADVOCACY_DATABASE_URL="postgresql+psycopg://u@127.0.0.1:1/none", ADVOCACY_INSTANCE_PATH=str(tmp_path),
               ADVOCACY_SMTP_URL="smtp://127.0.0.1:1")
    result = subprocess.run([sys.executable, "-m", "advocacy", "db", "current"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert ("ADVOCACY_SECRET_KEY, ADVOCACY_DATA_KEYS, ADVOCACY_BLIND_INDEX_KEY, ADVOCACY_PACKET_SIGNING_KEY must be set"
            in result.stderr)
    assert "Traceback" not in result.stderr


def test_old_links_stay_valid_while_a_new_secret_key_takes_over(app):
    from advocacy.crypto import make_token, read_token

    with app.app_context():
        old_link = make_token("confirm-signature", 42)
    previous = app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"]
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = "a-brand-new-secret-key-" + "x" * 20, [previous[0]]
    try:
        with app.app_context():
            assert read_token("confirm-signature", old_link) == 42
            new_link = make_token("confirm-signature", 43)
        app.config["SECRET_KEY_FALLBACKS"] = []
        with app.app_context():
            assert read_token("confirm-signature", new_link) == 43
            with pytest.raises(TokenInvalid):
                read_token("confirm-signature", old_link)
    finally:
        app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = previous


def test_worker_refuses_to_run_without_a_broker(app):
    if app.config["BROKER_URL"]:
        pytest.skip("this run has a broker configured")
    result = app.test_cli_runner().invoke(args=["worker"])
    assert result.exit_code != 0
    assert "ADVOCACY_BROKER_URL is not set" in result.output


def test_worker_refuses_a_priority_outside_nice_values(app):
    result = app.test_cli_runner().invoke(args=["worker", "--nice", "20"])
    assert result.exit_code == 2
    assert "Invalid value for '--nice'" in result.output
    assert "20 is not in the range 0<=x<=19" in result.output


def test_operators_see_failed_jobs_and_periodic_runs(app, ctx, make_petition):
    from advocacy.outbox import services as outbox
    from advocacy.periodic import services as periodic
    from advocacy.signatures import services as signatures

    runner = app.test_cli_runner()
    assert "no failed jobs" in runner.invoke(args=["outbox", "failures"]).output
    petition = make_petition()
    signatures.sign(petition.id, signatures.Signer(full_name="Anna Nowak", email="anna@example.org",
                                                   country="PL", locale="en"))
    row_id = db.session.scalar(select(func.min(OutboxMessage.id)))
    outbox.mark_failed(row_id, "PermanentDeliveryError: recipient refused by the SMTP server (550) (after 0 retries)")
    listed = runner.invoke(args=["outbox", "failures"]).output
    assert "send_signature_email" in listed
    assert "(550)" in listed
    assert "anna" not in listed
    periodic.run_due(jobs=tuple(j for j in periodic.registered_jobs() if j.name == "purge-finished-outbox"))
    status = runner.invoke(args=["periodic", "status"]).output
    assert "purge-finished-outbox\truns 1" in status
