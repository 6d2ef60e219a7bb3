"""Signers' names, emails and postcodes are erased a petition's retention period after it closed."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import select, text

from advocacy import create_app
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.periodic import services as periodic
from advocacy.petitions.models import Petition, PetitionStatus
from advocacy.signatures import retention
from advocacy.signatures import services as signatures
from advocacy.signatures.models import Signature, SignatureState
from advocacy.signatures.services import ConfirmOutcome, EmailKind, Signer
from advocacy.tallies import services as tallies
from tests.conftest import settings_for_tests, statements_of_this_thread

DAY = timedelta(days=1)


def sign(petition: Petition, n: int, country: str = "UA", *, confirm: bool = True) -> list[int]:
    ids = []
    for i in range(n):
        signatures.sign(petition.id, Signer(full_name=f"Iryna Shevchenko {i}", email=f"{country}{i}@example.org",
                                            country=country, postcode="01001", locale="uk"))
        db.session.commit()  # services flush; the caller commits
        signature_id = db.session.scalar(select(Signature.id).order_by(Signature.id.desc()))
        if confirm:
            assert signatures.confirm(signature_id) == ConfirmOutcome.CONFIRMED
            db.session.commit()
        ids.append(signature_id)
    return ids


def close(petition: Petition, closes_at: datetime | None, status: PetitionStatus = PetitionStatus.OPEN) -> None:
    petition.closes_at = closes_at
    petition.status = status
    db.session.commit()


def personal_data(petition_id: int) -> list[tuple[str | None, str | None, str | None]]:
    db.session.expire_all()
    return [(s.full_name, s.email, s.postcode) for s in db.session.scalars(
        select(Signature).where(Signature.petition_id == petition_id).order_by(Signature.id))]


def is_erased(signature: Signature) -> bool:
    return (signature.full_name, signature.email, signature.postcode, signature.email_index) == (None,) * 4


def test_personal_data_is_erased_after_closing_plus_retention_and_the_counts_stay(make_petition):
    petition = make_petition()
    confirmed = sign(petition, 2, "UA") + sign(petition, 1, "PL")
    pending = sign(petition, 1, "DE", confirm=False)
    signatures.withdraw(confirmed[0])
    db.session.commit()
    other = make_petition()
    sign(other, 1, "UA")
    now = utcnow()
    close(petition, now - 181 * DAY)  # closed by date: its status may still say open
    close(other, now - 10 * DAY)
    before = {(s.id, s.state, s.country) for s in db.session.scalars(select(Signature))}
    tally_before = tallies.tally(petition.id)

    # the withdrawn signature had nothing left to erase
    assert retention.erase_after_retention() == 3
    db.session.commit()

    erased = db.session.scalars(select(Signature).where(Signature.petition_id == petition.id)).all()
    assert all(is_erased(s) for s in erased)
    # rows, states and countries stay, and so do the counts
    assert {(s.id, s.state, s.country) for s in db.session.scalars(select(Signature))} == before
    assert tallies.tally(petition.id) == tally_before
    assert tallies.tally(petition.id).by_country == {"UA": 1, "PL": 1}
    assert tallies.reconcile_all() == 0
    # another petition still inside its retention period keeps its signers' data
    assert personal_data(other.id) == [("Iryna Shevchenko 0", "UA0@example.org", "01001")]
    # nothing left to erase
    assert retention.erase_after_retention() == 0
    assert db.session.get(Signature, pending[0]).state == SignatureState.PENDING


def test_erased_signatures_are_neither_confirmable_nor_emailed(make_petition, mailbox, drain):
    petition = make_petition()
    confirmed = sign(petition, 1)
    pending = sign(petition, 1, "PL", confirm=False)
    drain()
    sent_before = len(mailbox())
    close(petition, utcnow() - 200 * DAY)
    retention.erase_after_retention()
    db.session.commit()
    assert signatures.confirm(pending[0]) != ConfirmOutcome.CONFIRMED
    # an email queued again (actors run at least once) finds no address and sends nothing
    assert signatures.deliver_email(pending[0], EmailKind.CONFIRM) is False
    assert signatures.deliver_email(confirmed[0], EmailKind.CONFIRMED) is False
    drain()
    assert len(mailbox()) == sent_before
    assert tallies.tally(petition.id).total == 1


def test_the_period_is_set_per_petition(make_petition):
    short, default = make_petition(), make_petition()
    assert default.retention_days == 180
    short.retention_days = 30
    sign(short, 1)
    sign(default, 1, "PL")
    now = utcnow()
    close(short, now - 31 * DAY)
    close(default, now - 31 * DAY)
    assert retention.due_petitions(now) == [short.id]
    assert retention.erase_after_retention(now) == 1
    # the default period: the day before it ends nothing happens, the day after the data goes
    assert retention.erase_after_retention(now + 148 * DAY) == 0
    assert retention.erase_after_retention(now + 150 * DAY) == 1
    db.session.commit()
    assert personal_data(default.id) == [(None, None, None)]


def test_open_petitions_and_future_closing_dates_keep_their_data(make_petition):
    no_end, later = make_petition(), make_petition()
    sign(no_end, 1)
    sign(later, 1, "PL")
    close(later, utcnow() + 10 * DAY)
    assert retention.erase_after_retention(utcnow() + 9 * DAY) == 0
    assert retention.erase_after_retention(utcnow() + 3650 * DAY) == 1  # `later` closed 10 days in
    db.session.commit()
    assert personal_data(no_end.id) == [("Iryna Shevchenko 0", "UA0@example.org", "01001")]


def test_closed_by_hand_without_a_date_counts_from_the_last_signature(make_petition):
    petition = make_petition()
    ids = sign(petition, 2)
    close(petition, None, PetitionStatus.CLOSED)
    first, last = (db.session.get(Signature, i) for i in ids)
    now = utcnow()
    first.created_at = now - 300 * DAY
    last.created_at = now - 100 * DAY
    db.session.commit()
    assert retention.erase_after_retention(now) == 0
    assert retention.erase_after_retention(now + 81 * DAY) == 2


def test_large_petitions_are_erased_in_batches_and_nothing_is_committed(make_petition):
    petition = make_petition()
    sign(petition, 5)
    close(petition, utcnow() - 181 * DAY)
    assert retention.erase_after_retention(batch=2) == 5
    assert all(name is None for name, _, _ in personal_data(petition.id))
    # the caller commits: a rollback keeps everything
    db.session.rollback()
    assert [name for name, _, _ in personal_data(petition.id)] == [f"Iryna Shevchenko {i}" for i in range(5)]


def test_a_petition_erased_once_is_not_read_again_until_it_ends_again(make_petition):
    """The hourly job skips a petition whose data it already erased, without reading a single one of its
    signatures (at a million signatures that read took seconds every hour); a petition reopened, signed and
    closed again is erased again once its new period is over."""
    petition = make_petition()
    sign(petition, 3)
    close(petition, utcnow() - 200 * DAY)
    assert retention.erase_after_retention() == 3

    with statements_of_this_thread(db.engine) as statements:
        assert retention.erase_after_retention() == 0
        assert retention.erase_after_retention(utcnow() + 400 * DAY) == 0
    assert statements, "the job ran no statement at all"
    assert not [statement for statement in statements if "signatures" in statement]

    close(petition, utcnow() + 10 * DAY)  # reopened: signed again, then it ends again
    sign(petition, 2, country="PL")
    assert retention.erase_after_retention(utcnow() + 100 * DAY) == 0  # its new period is not over
    assert retention.erase_after_retention(utcnow() + 191 * DAY) == 2
    assert personal_data(petition.id) == [(None, None, None)] * 5


def test_the_hourly_job_erases_and_commits(app, make_petition):
    job = next(j for j in periodic.registered_jobs() if j.name == "erase-after-retention")
    assert job.every == timedelta(hours=1)
    petition = make_petition()
    petition_id = petition.id
    sign(petition, 2)
    close(petition, utcnow() - 365 * DAY)
    assert periodic.run_due(jobs=(job,)) == ["erase-after-retention"]
    db.session.remove()
    with app.app_context():
        assert personal_data(petition_id) == [(None, None, None)] * 2
        assert "ok: 2" in db.session.scalar(text("SELECT last_result FROM periodic_jobs"))


def test_existing_petitions_get_the_default_period(tmp_path: Path, rebind_worker_app):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = create_app({"TESTING": True}, settings=settings_for_tests(tmp_path, url))
    with old.app_context():
        upgrade(revision="31cc51689bab")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO campaigns (id, slug, name, description, languages, created_at) "
                "VALUES (1, 'c', '{}', '{}', '[]', '2026-01-01 00:00:00')"))
            conn.execute(text(
                "INSERT INTO petitions (id, campaign_id, slug, position, title, summary, body, status, goal, "
                "country_goals, postcode_required, created_at) VALUES (1, 1, 'p', 0, '{}', '{}', '{}', 'open', 0, "
                "'{}', 0, '2026-01-01 00:00:00')"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT retention_days FROM petitions")).scalar_one() == 180
        db.engine.dispose()
