"""The `advocacy` command as an operator uses it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from advocacy.config import load_settings
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
    assert loaded[0] == 6
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


def test_secrets_are_generated_once_and_kept(tmp_path):
    first = load_settings({}, instance_path=tmp_path)
    second = load_settings({}, instance_path=tmp_path)
    assert first.secret_key == second.secret_key
    assert first.data_keys == second.data_keys
    assert len(next(iter(first.data_keys.values()))) == 32
    stored = json.loads((tmp_path / "secrets.json").read_text())
    assert set(stored) == {"secret_key", "data_keys", "blind_index_key"}
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0
    assert first.database_url == f"sqlite:///{tmp_path / 'advocacy.sqlite3'}"
    assert first.broker_url is None
    assert first.smtp_url is None


def test_environment_overrides_the_defaults(tmp_path):
    settings = load_settings({
        "ADVOCACY_DATABASE_URL": "postgresql+psycopg://u@db/advocacy",
        "ADVOCACY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "ADVOCACY_BASE_URL": "https://petitions.example.org/",
        "ADVOCACY_DATA_KEYS": "new:" + "Y" * 43 + "=,old:" + "Z" * 43 + "=",
    }, instance_path=tmp_path)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.base_url == "https://petitions.example.org"
    assert list(settings.data_keys) == ["new", "old"]


def test_worker_refuses_to_run_without_a_broker(app):
    if app.config["BROKER_URL"]:
        pytest.skip("this run has a broker configured")
    result = app.test_cli_runner().invoke(args=["worker"])
    assert result.exit_code != 0
    assert "ADVOCACY_BROKER_URL is not set" in result.output


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
    periodic.run_due(jobs=tuple(j for j in periodic.JOBS if j.name == "purge-finished-outbox"))
    status = runner.invoke(args=["outbox", "periodic"]).output
    assert "purge-finished-outbox\truns 1" in status
