"""The mail actor re-checks the signature when it runs: a job that arrives late sends nothing stale."""

from __future__ import annotations

import logging

from sqlalchemy import select, text

from advocacy.extensions import db
from advocacy.outbox import services as outbox
from advocacy.outbox.models import OutboxMessage
from advocacy.queue import get_broker
from advocacy.signatures import services
from advocacy.signatures.models import Signature
from advocacy.signatures.services import Signer


def sign_without_sending(make_petition, monkeypatch) -> int:
    """Sign while the broker is away, so the confirmation job waits in the outbox."""
    petition = make_petition()
    with monkeypatch.context() as patch:
        patch.setattr(get_broker(), "enqueue", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("down")))
        services.sign(petition.id, Signer(full_name="Anna Nowak", email="anna@example.org", country="PL",
                                          locale="en"))
        db.session.commit()
        assert outbox.handed_over()  # refused while the broker is away, not sent once the patch is gone
    return int(db.session.scalar(select(Signature.id)))


def run_outbox(drain) -> None:
    from advocacy.dbtypes import utcnow

    outbox.relay_stale(older_than=utcnow())
    db.session.commit()
    drain()


def test_a_withdrawn_signature_gets_no_confirmation(make_petition, monkeypatch, drain, mailbox):
    signature_id = sign_without_sending(make_petition, monkeypatch)
    services.withdraw(signature_id)
    db.session.commit()
    run_outbox(drain)
    assert mailbox() == []
    # the job ran and found nothing to do: it is done, not left to be retried
    assert db.session.scalar(select(OutboxMessage.done_at)) is not None


def test_an_invalidated_signature_gets_no_confirmation(make_petition, monkeypatch, drain, mailbox):
    signature_id = sign_without_sending(make_petition, monkeypatch)
    services.invalidate(signature_id, "fraud")
    db.session.commit()
    run_outbox(drain)
    assert mailbox() == []


def test_a_confirmed_signature_gets_no_late_confirmation_request(make_petition, monkeypatch, drain, mailbox):
    signature_id = sign_without_sending(make_petition, monkeypatch)
    services.confirm(signature_id)  # e.g. confirmed from an earlier email
    db.session.commit()
    run_outbox(drain)
    subjects = [m.subject.split(":")[0] for m in mailbox()]
    assert subjects == ["Your signature is confirmed"]


def test_a_signature_with_a_moved_address_is_not_mailed_and_not_retried(make_petition, monkeypatch, drain, mailbox,
                                                                         caplog):
    signature_id = sign_without_sending(make_petition, monkeypatch)
    petition_id = db.session.get(Signature, signature_id).petition_id
    services.sign(petition_id, Signer(full_name="Mallory Stranger", email="mallory@example.org", country="PL",
                                      locale="en"))
    db.session.commit()
    # the other signer's sealed address is copied over Anna's: the confirmation must not go to it
    db.session.execute(text("UPDATE signatures SET email = (SELECT email FROM signatures WHERE id != :id)"
                            " WHERE id = :id"), {"id": signature_id})
    db.session.commit()
    with caplog.at_level(logging.ERROR):
        run_outbox(drain)
    assert [m.to for m in mailbox()] == ["mallory@example.org"]
    assert f"signatures.email of row {signature_id}" in caplog.text
    assert "mallory@example.org" not in caplog.text
    # logged once and finished: the actor does not loop on a value that can never open
    assert caplog.text.count(f"signatures.email of row {signature_id}") == 1
    assert all(row.done_at is not None for row in db.session.scalars(select(OutboxMessage)))
