"""The signing rules and flows, called the way views, the CLI and actors call them."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update

from advocacy.crypto import SealBroken, canonical_email
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.outbox.models import OutboxMessage
from advocacy.petitions.models import PetitionStatus
from advocacy.signatures import services
from advocacy.signatures.models import Signature, SignatureState
from advocacy.signatures.services import ConfirmOutcome, SignatureRejected, Signer, SignOutcome, WithdrawOutcome
from advocacy.tallies import services as tallies
from tests.conftest import statements_of_this_thread


class _OneUnitOfWork:
    """The services as a view, actor or command calls them: the caller commits once after each call."""

    def __getattr__(self, name: str) -> Any:
        service = getattr(services, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = service(*args, **kwargs)
            db.session.commit()
            return result

        return call


unit = _OneUnitOfWork()


def signer(**overrides: object) -> Signer:
    values: dict[str, object] = {"full_name": "Taras Bondarenko", "email": "taras@example.org", "country": "UA",
                                 "locale": "uk"}
    values.update(overrides)
    return Signer(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("field", "value"), [
    ("full_name", ""),
    ("full_name", "   "),
    ("full_name", "x" * 101),
    ("full_name", "Taras\nBondarenko"),
    ("full_name", "Taras\rBondarenko"),
    ("full_name", "Taras\u2028Bondarenko"),
    ("full_name", "Taras\x00Bondarenko"),
    ("full_name", "Taras\u202eBondarenko"),
    ("full_name", "=HYPERLINK(\"http://evil\")"),
    ("full_name", "+380501234567"),
    ("full_name", "-2+3"),
    ("full_name", "@SUM(A1)"),
    ("full_name", "12345"),
    ("email", ""),
    ("email", "not-an-email"),
    ("email", "taras@"),
    ("email", "taras@example"),
    ("email", "a" * 250 + "@example.org"),
    ("email", "taras @example.org"),
    ("country", ""),
    ("country", "XX"),
    ("country", "SU"),
    ("country", "Ukraine"),
    ("postcode", "<script>"),
    ("postcode", "1" * 13),
])
def test_invalid_input_is_rejected_on_its_field(make_petition, field, value):
    petition = make_petition()
    with pytest.raises(SignatureRejected) as rejected:
        unit.sign(petition.id, signer(**{field: value}))
    assert set(rejected.value.errors) == {field}
    assert rejected.value.errors[field][0]
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_closed_petition_takes_no_signature(make_petition):
    petition = make_petition(status=PetitionStatus.CLOSED)
    with pytest.raises(SignatureRejected) as rejected:
        unit.sign(petition.id, signer())
    assert "petition" in rejected.value.errors


def test_petition_past_its_closing_date_takes_no_signature(make_petition):
    petition = make_petition(closes_at=utcnow() - timedelta(minutes=1))
    with pytest.raises(SignatureRejected):
        unit.sign(petition.id, signer())


def test_names_are_tidied_but_kept(make_petition):
    petition = make_petition()
    unit.sign(petition.id, signer(full_name="  Ольга   Петрівна  Д'Арк-Шевченко "))
    stored = db.session.scalar(select(Signature))
    assert stored.full_name == "Ольга Петрівна Д'Арк-Шевченко"


@pytest.mark.parametrize(("a", "b"), [
    ("Olena@Example.org", "olena@example.org"),
    ("olena.k@gmail.com", "olenak@gmail.com"),
    ("olena.k+petition@gmail.com", "olenak@googlemail.com"),
    ("olena+x@outlook.com", "olena@outlook.com"),
    ("olena+x@ukr.net", "OLENA@ukr.net"),
])
def test_canonical_email_folds_one_mailbox(a, b):
    assert canonical_email(a) == canonical_email(b)


@pytest.mark.parametrize(("a", "b"), [
    ("olena.k@example.org", "olenak@example.org"),  # dots matter outside Gmail
    ("olena+x@example.org", "olena@example.org"),   # and so do +tags at unknown providers
])
def test_canonical_email_keeps_distinct_mailboxes(a, b):
    assert canonical_email(a) != canonical_email(b)


def test_sign_outcomes(make_petition):
    petition = make_petition()
    assert unit.sign(petition.id, signer()) == SignOutcome.NEW
    assert unit.sign(petition.id, signer(email="TARAS@example.org")) == SignOutcome.RESENT
    signature = db.session.scalar(select(Signature))
    assert unit.confirm(signature.id) == ConfirmOutcome.CONFIRMED
    assert unit.sign(petition.id, signer()) == SignOutcome.ALREADY_SIGNED
    # three emails caused by sign-ups today: a fourth is not sent (the "confirmed" email does not count)
    assert unit.sign(petition.id, signer()) == SignOutcome.CAPPED
    assert unit.invalidate(signature.id, "bulk sign-ups from one script")
    assert unit.sign(petition.id, signer()) == SignOutcome.SUPPRESSED


def test_repeat_after_confirmation_sends_already_signed(make_petition):
    petition = make_petition()
    unit.sign(petition.id, signer())
    signature_id = db.session.scalar(select(Signature.id))
    unit.confirm(signature_id)
    assert unit.sign(petition.id, signer()) == SignOutcome.ALREADY_SIGNED
    kinds = [row.args[1] for row in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds == ["confirm", "confirmed", "already_signed"]


def test_email_cap_resets_after_a_day(make_petition):
    petition = make_petition()
    for _ in range(3):
        unit.sign(petition.id, signer())
    assert unit.sign(petition.id, signer()) == SignOutcome.CAPPED
    signature = db.session.scalar(select(Signature))
    signature.email_window_started_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    assert unit.sign(petition.id, signer()) == SignOutcome.RESENT


def test_only_confirmed_signatures_count(make_petition):
    petition = make_petition()
    ids = []
    for n, country in enumerate(["UA", "UA", "PL", "DE", "DE"]):
        unit.sign(petition.id, signer(email=f"s{n}@example.org", country=country))
        ids.append(db.session.scalar(select(Signature.id).order_by(Signature.id.desc())))
    for signature_id in ids[:4]:
        unit.confirm(signature_id)
    # ids[4] stays pending; withdraw one UA, invalidate the PL one
    unit.withdraw(ids[0])
    unit.invalidate(ids[2], "duplicate person")
    tally = tallies.tally(petition.id)
    assert tally.by_country == {"UA": 1, "DE": 1}
    assert tally.total == 2
    assert tallies.reconcile(petition.id) is False


def test_withdrawn_signer_can_sign_again(make_petition):
    petition = make_petition()
    unit.sign(petition.id, signer())
    signature_id = db.session.scalar(select(Signature.id))
    unit.confirm(signature_id)
    assert unit.withdraw(signature_id) == WithdrawOutcome.WITHDRAWN
    assert unit.withdraw(signature_id) == WithdrawOutcome.ALREADY_WITHDRAWN
    assert unit.confirm(signature_id) == ConfirmOutcome.NOT_PENDING
    # withdrawing erased the email index too: signing again starts a new signature from scratch
    assert unit.sign(petition.id, signer(full_name="Taras B.")) == SignOutcome.NEW
    new_id = db.session.scalar(select(Signature.id).where(Signature.id != signature_id))
    assert unit.confirm(new_id) == ConfirmOutcome.CONFIRMED
    assert tallies.tally(petition.id).total == 1
    assert db.session.get(Signature, new_id).full_name == "Taras B."


def test_withdrawal_erases_every_trace_of_the_address(make_petition):
    petition = make_petition()
    unit.sign(petition.id, signer(postcode="01001"))
    signature = db.session.scalar(select(Signature))
    assert unit.withdraw(signature.id) == WithdrawOutcome.WITHDRAWN
    row = db.session.execute(
        text("SELECT full_name, email, postcode, email_index FROM signatures WHERE id = :id"), {"id": signature.id}
    ).one()
    assert tuple(row) == (None, None, None, None)
    # two withdrawn signatures on one petition do not collide on the (petition, email index) constraint
    unit.sign(petition.id, signer(email="other@example.org"))
    other_id = db.session.scalar(select(Signature.id).where(Signature.id != signature.id))
    assert unit.withdraw(other_id) == WithdrawOutcome.WITHDRAWN


def test_a_repeat_with_another_spelling_changes_nothing_stored(make_petition):
    petition = make_petition(postcode_required=False)
    unit.sign(petition.id, signer(full_name="Olena Kovalenko", email="olena.k@gmail.com", country="UA",
                                  postcode="01001", consent_share_name=False, opt_in_news=False))
    # a stranger types the same mailbox another way, with details of their own
    assert unit.sign(petition.id, signer(full_name="Mallory Stranger", email="olenak+x@googlemail.com",
                                         country="RU", postcode="101000", consent_share_name=True,
                                         opt_in_news=True, locale="ru")) == SignOutcome.RESENT
    db.session.expire_all()
    stored = db.session.scalar(select(Signature))
    assert (stored.full_name, stored.email, stored.country, stored.postcode, stored.locale,
            stored.consent_share_name, stored.opt_in_news) == (
        "Olena Kovalenko", "olena.k@gmail.com", "UA", "01001", "uk", False, False)
    # the link goes again to the owner's mailbox, for the same signature
    kinds = [row.args for row in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds == [[stored.id, "confirm"], [stored.id, "confirm"]]


def test_services_leave_the_commit_to_the_caller(make_petition):
    petition = make_petition()
    assert services.sign(petition.id, signer()) == SignOutcome.NEW
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    unit.sign(petition.id, signer())
    signature_id = db.session.scalar(select(Signature.id))
    assert services.confirm(signature_id) == ConfirmOutcome.CONFIRMED
    db.session.rollback()
    assert db.session.get(Signature, signature_id).state == SignatureState.PENDING
    assert tallies.tally(petition.id).total == 0
    assert services.withdraw(signature_id) == WithdrawOutcome.WITHDRAWN
    db.session.rollback()
    assert db.session.get(Signature, signature_id).full_name == "Taras Bondarenko"


def test_a_standalone_signature_is_written_with_its_mail_by_one_statement_that_commits_by_itself(
        make_petition, drain, mailbox):
    """The sign POST's unit of work is the signature alone (``standalone``). On PostgreSQL the signature and
    its confirmation mail's outbox row are then one statement, committed by itself: no BEGIN and COMMIT round
    trips, and a rollback of the session after it keeps both. SQLite writes them in the caller's transaction
    as ever. Either way the mail goes out once the caller commits."""
    facts = services.signing_petition(petition_id=make_petition().id)  # as the sign POST has them, cached
    postgres = db.engine.dialect.name == "postgresql"
    with statements_of_this_thread(db.engine) as statements:
        assert services.sign(facts.id, signer(email="olena@example.org"), petition=facts,
                             standalone=True) == SignOutcome.NEW
    writes = [s for s in statements if "INSERT" in s]
    if postgres:
        assert len(statements) == 1
        assert "INSERT INTO signatures" in statements[0]
        assert "INSERT INTO outbox" in statements[0]
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
    else:
        assert len(writes) == 2
    signature_id = db.session.scalar(select(Signature.id))
    assert [row.args for row in db.session.scalars(select(OutboxMessage))] == [[signature_id, "confirm"]]
    if postgres:  # the rollback forgot the row's hand-over: the relay sends it, as after any lost message
        from advocacy.outbox import services as outbox

        outbox.relay_stale(older_than=utcnow() + timedelta(seconds=1))
    db.session.commit()
    drain()
    assert [mail.to for mail in mailbox()] == ["olena@example.org"]
    # a repeat of the same address is answered in the caller's transaction, as every repeat is
    assert services.sign(facts.id, signer(email="olena@example.org"), petition=facts,
                         standalone=True) == SignOutcome.RESENT
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_standalone_confirmation_is_moved_counted_and_mailed_by_one_statement_that_commits_by_itself(
        make_petition, drain, mailbox):
    """The confirm POST's unit of work is the confirmation alone. On PostgreSQL the move to confirmed, the
    tally's +1 and the "confirmed" mail's outbox row are then one statement, committed by itself; a suspect
    signature is confirmed and mailed but not counted. SQLite writes them in the caller's transaction."""
    petition = make_petition()
    unit.sign(petition.id, signer(email="olena@example.org", country="UA"))
    unit.sign(petition.id, signer(email="held@example.org", country="PL"))
    olena, held = (db.session.scalar(select(Signature.id).where(Signature.country == code)) for code in ("UA", "PL"))
    db.session.execute(update(Signature).where(Signature.id == held).values(suspect=True, suspect_reason="address"))
    db.session.commit()
    drain()
    links = len(mailbox())  # the confirmation links: not this test's subject
    postgres = db.engine.dialect.name == "postgresql"
    reads = {}
    for signature_id in (olena, held):
        with statements_of_this_thread(db.engine) as statements:
            reads[signature_id] = services.confirming(signature_id)
        # the signature and its petition, read by one statement (the confirm page's and POST's one read)
        assert [s.split()[0] for s in statements] == ["SELECT"]
        record, read_petition = reads[signature_id]
        assert (record.id, read_petition.id, read_petition.slug) == (signature_id, petition.id, petition.slug)
        with statements_of_this_thread(db.engine) as statements:
            assert services.confirm(signature_id, read=reads[signature_id],
                                    standalone=True) == ConfirmOutcome.CONFIRMED
        if postgres:
            assert len(statements) == 1
            assert "UPDATE signatures" in statements[0]
            assert "INSERT INTO tally_shards" in statements[0]
            assert "INSERT INTO outbox" in statements[0]
            db.session.rollback()  # committed by itself: nothing to undo
        else:
            assert len([s for s in statements if s.startswith(("UPDATE", "INSERT"))]) == (3 if signature_id == olena
                                                                                          else 2)
        db.session.commit()
    assert db.session.scalars(select(Signature.state).order_by(Signature.id)).all() == [SignatureState.CONFIRMED] * 2
    assert tallies.tally(petition.id).by_country == {"UA": 1}
    if postgres:  # the rollbacks forgot the rows' hand-over: the relay sends them, as after any lost message
        from advocacy.outbox import services as outbox

        outbox.relay_stale(older_than=utcnow() + timedelta(seconds=1))
        db.session.commit()
    drain()
    assert sorted(mail.to for mail in mailbox()[links:]) == ["held@example.org", "olena@example.org"]
    # confirming again changes nothing, even with what was read before the first confirmation
    assert services.confirm(olena, read=reads[olena], standalone=True) == ConfirmOutcome.ALREADY_CONFIRMED
    assert services.confirm(olena, standalone=True) == ConfirmOutcome.ALREADY_CONFIRMED
    db.session.commit()
    assert tallies.tally(petition.id).by_country == {"UA": 1}


def test_a_value_copied_to_another_row_does_not_open(make_petition, caplog):
    petition = make_petition()
    unit.sign(petition.id, signer(full_name="Olena Kovalenko", email="olena@example.org"))
    unit.sign(petition.id, signer(full_name="Mallory Stranger", email="mallory@example.org"))
    olena_id, mallory_id = db.session.scalars(select(Signature.id).order_by(Signature.id)).all()
    # someone with write access to the database moves Olena's sealed name and email onto their own row
    db.session.execute(text(
        "UPDATE signatures SET full_name = (SELECT full_name FROM signatures WHERE id = :a),"
        " email = (SELECT email FROM signatures WHERE id = :a) WHERE id = :b"), {"a": olena_id, "b": mallory_id})
    # and her email into her own name column
    db.session.execute(text("UPDATE signatures SET full_name = email WHERE id = :a"), {"a": olena_id})
    db.session.commit()
    db.session.expire_all()
    mallory, olena = db.session.get(Signature, mallory_id), db.session.get(Signature, olena_id)
    with caplog.at_level(logging.ERROR, logger="advocacy.crypto"):
        with pytest.raises(SealBroken):
            _ = mallory.full_name
        with pytest.raises(SealBroken):
            _ = mallory.email
        with pytest.raises(SealBroken):
            _ = olena.full_name
    assert olena.email == "olena@example.org"  # untouched values still open
    # (a worker may log too, if it tries to mail the tampered row meanwhile)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    for place in (f"signatures.full_name of row {mallory_id}", f"signatures.email of row {mallory_id}",
                  f"signatures.full_name of row {olena_id}"):
        assert any(place in m for m in messages), place
    assert all("olena" not in m.lower() and "Kovalenko" not in m for m in messages)


def test_confirm_after_closing_is_refused(make_petition):
    petition = make_petition()
    unit.sign(petition.id, signer())
    signature_id = db.session.scalar(select(Signature.id))
    petition.status = PetitionStatus.CLOSED
    db.session.commit()
    assert unit.confirm(signature_id) == ConfirmOutcome.PETITION_CLOSED
    assert tallies.tally(petition.id).total == 0


def test_parallel_confirmations_count_once(app: Flask, make_petition):
    petition_id = make_petition().id
    unit.sign(petition_id, signer())
    signature_id = db.session.scalar(select(Signature.id))
    db.session.remove()
    results: list[ConfirmOutcome] = []
    barrier = threading.Barrier(8)

    def press_button() -> None:
        with app.app_context():
            barrier.wait()
            results.append(unit.confirm(signature_id))
            db.session.remove()

    threads = [threading.Thread(target=press_button) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count(ConfirmOutcome.CONFIRMED) == 1
    assert set(results) <= {ConfirmOutcome.CONFIRMED, ConfirmOutcome.ALREADY_CONFIRMED}
    assert tallies.tally(petition_id).total == 1
    assert tallies.reconcile(petition_id) is False
    confirmed_mails = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.args[1].as_string() == "confirmed")
    )
    assert confirmed_mails == 1


def test_parallel_first_signatures_store_one(app: Flask, make_petition):
    petition = make_petition()
    petition_id = petition.id
    db.session.remove()
    barrier = threading.Barrier(6)
    results: list[SignOutcome] = []

    def submit() -> None:
        with app.app_context():
            barrier.wait()
            results.append(unit.sign(petition_id, signer()))
            db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 6
    assert results.count(SignOutcome.NEW) == 1
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1



def test_a_new_signature_is_sealed_indexed_and_queued_like_the_model_does(make_petition):
    """The hot path writes the row with Core: the same seals (bound to their place), blind index, fraud signals,
    and the outbox row in the same transaction, as the model and ``outbox.enqueue`` would."""
    petition = make_petition()
    assert unit.sign(petition.id, signer(postcode="01001"), client_address="203.0.113.7") == SignOutcome.NEW
    raw = db.session.execute(text("SELECT full_name, email, postcode, email_domain, email_index, ip_hash, "
                                  "network_hash, domain_hash, state, suspect FROM signatures")).one()
    for sealed in raw[:4]:
        assert isinstance(sealed, bytes | memoryview)
        assert b"Taras" not in bytes(sealed)
        assert b"example.org" not in bytes(sealed)
    assert raw.email_index == services.email_index(petition.id, "taras@example.org")
    assert raw.ip_hash
    assert raw.network_hash
    assert raw.domain_hash
    assert "203.0.113" not in f"{raw.ip_hash}{raw.network_hash}"
    assert raw.state == "pending"
    assert not raw.suspect
    stored = db.session.scalar(select(Signature))
    assert (stored.full_name, stored.email, stored.postcode, stored.email_domain) == (
        "Taras Bondarenko", "taras@example.org", "01001", "example.org")
    queued = db.session.scalar(select(OutboxMessage))
    assert (queued.actor_name, queued.args) == (services.SEND_EMAIL_ACTOR, [stored.id, "confirm"])
    # the repeat goes the ORM way and writes a second outbox row, nothing else
    assert unit.sign(petition.id, signer(email="Taras@Example.org")) == SignOutcome.RESENT
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
