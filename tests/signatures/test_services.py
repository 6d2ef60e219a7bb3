"""The signing rules and flows, called the way views, the CLI and actors call them."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from advocacy.crypto import canonical_email
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.outbox.models import OutboxMessage
from advocacy.petitions.models import PetitionStatus
from advocacy.signatures import services
from advocacy.signatures.models import Signature
from advocacy.signatures.services import ConfirmOutcome, SignatureRejected, Signer, SignOutcome, WithdrawOutcome
from advocacy.tallies import services as tallies


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
        services.sign(petition.id, signer(**{field: value}))
    assert set(rejected.value.errors) == {field}
    assert rejected.value.errors[field][0]
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_closed_petition_takes_no_signature(make_petition):
    petition = make_petition(status=PetitionStatus.CLOSED)
    with pytest.raises(SignatureRejected) as rejected:
        services.sign(petition.id, signer())
    assert "petition" in rejected.value.errors


def test_petition_past_its_closing_date_takes_no_signature(make_petition):
    petition = make_petition(closes_at=utcnow() - timedelta(minutes=1))
    with pytest.raises(SignatureRejected):
        services.sign(petition.id, signer())


def test_names_are_tidied_but_kept(make_petition):
    petition = make_petition()
    services.sign(petition.id, signer(full_name="  Ольга   Петрівна  Д'Арк-Шевченко "))
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
    assert services.sign(petition.id, signer()) == SignOutcome.NEW
    assert services.sign(petition.id, signer(email="TARAS@example.org")) == SignOutcome.RESENT
    signature = db.session.scalar(select(Signature))
    assert services.confirm(signature.id) == ConfirmOutcome.CONFIRMED
    assert services.sign(petition.id, signer()) == SignOutcome.ALREADY_SIGNED
    # three emails caused by sign-ups today: a fourth is not sent (the "confirmed" email does not count)
    assert services.sign(petition.id, signer()) == SignOutcome.CAPPED
    assert services.invalidate(signature.id, "bulk sign-ups from one script")
    assert services.sign(petition.id, signer()) == SignOutcome.SUPPRESSED


def test_repeat_after_confirmation_sends_already_signed(make_petition):
    petition = make_petition()
    services.sign(petition.id, signer())
    signature_id = db.session.scalar(select(Signature.id))
    services.confirm(signature_id)
    assert services.sign(petition.id, signer()) == SignOutcome.ALREADY_SIGNED
    kinds = [row.args[1] for row in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds == ["confirm", "confirmed", "already_signed"]


def test_email_cap_resets_after_a_day(make_petition):
    petition = make_petition()
    for _ in range(3):
        services.sign(petition.id, signer())
    assert services.sign(petition.id, signer()) == SignOutcome.CAPPED
    signature = db.session.scalar(select(Signature))
    signature.email_window_started_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    assert services.sign(petition.id, signer()) == SignOutcome.RESENT


def test_only_confirmed_signatures_count(make_petition):
    petition = make_petition()
    ids = []
    for n, country in enumerate(["UA", "UA", "PL", "DE", "DE"]):
        services.sign(petition.id, signer(email=f"s{n}@example.org", country=country))
        ids.append(db.session.scalar(select(Signature.id).order_by(Signature.id.desc())))
    for signature_id in ids[:4]:
        services.confirm(signature_id)
    # ids[4] stays pending; withdraw one UA, invalidate the PL one
    services.withdraw(ids[0])
    services.invalidate(ids[2], "duplicate person")
    tally = tallies.tally(petition.id)
    assert tally.by_country == {"UA": 1, "DE": 1}
    assert tally.total == 2
    assert tallies.reconcile(petition.id) is False


def test_withdrawn_signer_can_sign_again(make_petition):
    petition = make_petition()
    services.sign(petition.id, signer())
    signature_id = db.session.scalar(select(Signature.id))
    services.confirm(signature_id)
    assert services.withdraw(signature_id) == WithdrawOutcome.WITHDRAWN
    assert services.withdraw(signature_id) == WithdrawOutcome.ALREADY_WITHDRAWN
    assert services.confirm(signature_id) == ConfirmOutcome.NOT_PENDING
    assert services.sign(petition.id, signer(full_name="Taras B.")) == SignOutcome.RESENT
    assert services.confirm(signature_id) == ConfirmOutcome.CONFIRMED
    assert tallies.tally(petition.id).total == 1
    assert db.session.get(Signature, signature_id).full_name == "Taras B."


def test_confirm_after_closing_is_refused(make_petition):
    petition = make_petition()
    services.sign(petition.id, signer())
    signature_id = db.session.scalar(select(Signature.id))
    petition.status = PetitionStatus.CLOSED
    db.session.commit()
    assert services.confirm(signature_id) == ConfirmOutcome.PETITION_CLOSED
    assert tallies.tally(petition.id).total == 0


def test_parallel_confirmations_count_once(app: Flask, make_petition):
    petition_id = make_petition().id
    services.sign(petition_id, signer())
    signature_id = db.session.scalar(select(Signature.id))
    db.session.remove()
    results: list[ConfirmOutcome] = []
    barrier = threading.Barrier(8)

    def press_button() -> None:
        with app.app_context():
            barrier.wait()
            results.append(services.confirm(signature_id))
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
            results.append(services.sign(petition_id, signer()))
            db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 6
    assert results.count(SignOutcome.NEW) == 1
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1

