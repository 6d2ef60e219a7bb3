"""The mail actor re-checks the signature when it runs: a job that arrives late sends nothing stale."""

from __future__ import annotations

from sqlalchemy import select

from advocacy.extensions import db
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
    return int(db.session.scalar(select(Signature.id)))


def run_outbox(drain) -> None:
    from advocacy.dbtypes import utcnow
    from advocacy.outbox import services as outbox

    outbox.relay_stale(older_than=utcnow())
    db.session.commit()
    drain()


def test_a_withdrawn_signature_gets_no_confirmation(make_petition, monkeypatch, drain, mailbox):
    signature_id = sign_without_sending(make_petition, monkeypatch)
    services.withdraw(signature_id)
    run_outbox(drain)
    assert mailbox() == []
    # the job ran and found nothing to do: it is done, not left to be retried
    assert db.session.scalar(select(OutboxMessage.done_at)) is not None


def test_an_invalidated_signature_gets_no_confirmation(make_petition, monkeypatch, drain, mailbox):
    signature_id = sign_without_sending(make_petition, monkeypatch)
    services.invalidate(signature_id, "fraud")
    run_outbox(drain)
    assert mailbox() == []


def test_a_confirmed_signature_gets_no_late_confirmation_request(make_petition, monkeypatch, drain, mailbox):
    signature_id = sign_without_sending(make_petition, monkeypatch)
    services.confirm(signature_id)  # e.g. confirmed from an earlier email
    run_outbox(drain)
    subjects = [m.subject.split(":")[0] for m in mailbox()]
    assert subjects == ["Your signature is confirmed"]
