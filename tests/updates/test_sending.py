"""An update reaches the confirmed signers who opted in to news, once each, in their language; nobody else,
and never twice, even when the worker is restarted in the middle of a batch."""

from __future__ import annotations

from sqlalchemy import select, update

from advocacy.extensions import db
from advocacy.outbox import services as outbox
from advocacy.queue import get_broker
from advocacy.signatures.models import SignatureState
from advocacy.updates import actors, services
from advocacy.updates.models import Update, UpdateDelivery, UpdateStatus
from tests.updates.conftest import organiser

TEXTS = {
    "subject": {"en": "We handed it in", "uk": "Ми її передали", "ru": "Мы её передали"},
    "body": {"en": "The petition is **delivered**.", "uk": "Петицію **передано**.", "ru": "Петиция **передана**."},
}


def _approved(petition, subject=None, body=None) -> int:
    author, approver = organiser(1, petition.campaign_id), organiser(2, petition.campaign_id)
    found = services.create_update(petition.id, actor=author, subject=subject or TEXTS["subject"],
                                   body=body or TEXTS["body"])
    services.submit_update(found.id, actor=author, version=1)
    db.session.commit()
    services.approve_update(found.id, actor=approver)
    db.session.commit()
    return int(found.id)


def _approved_while_the_broker_is_away(petition, monkeypatch) -> int:
    """Approved, its first batch waiting in the outbox: the test plays the worker itself."""
    with monkeypatch.context() as patch:
        patch.setattr(get_broker(), "enqueue", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("down")))
        approved = _approved(petition)
        assert outbox.handed_over()  # refused while the broker is away, not sent once the test's patch is gone
        return approved


def _population(petition, signer) -> None:
    signer(petition.id, "en@example.org", locale="en")
    signer(petition.id, "uk@example.org", locale="uk")
    signer(petition.id, "ru@example.org", locale="ru")
    signer(petition.id, "pending@example.org", state=SignatureState.PENDING)
    signer(petition.id, "withdrawn@example.org", state=SignatureState.WITHDRAWN, erased=True)
    signer(petition.id, "invalid@example.org", state=SignatureState.INVALIDATED)
    signer(petition.id, "suspect@example.org", suspect=True)
    signer(petition.id, "nonews@example.org", opt_in=False)
    signer(petition.id, "erased@example.org", erased=True)
    unsubscribed = signer(petition.id, "unsubscribed@example.org")
    services.unsubscribe(unsubscribed)
    db.session.commit()


def test_sent_once_to_the_right_people_in_their_language(make_petition, signer, drain, mailbox):
    petition = make_petition()
    _population(petition, signer)
    update_id = _approved(petition)
    drain()
    mails = mailbox()
    got = {mail.to: mail for mail in mails}
    assert sorted(got) == ["en@example.org", "ru@example.org", "uk@example.org"]
    assert len(mails) == 3
    assert got["en@example.org"].subject == "We handed it in"
    assert got["uk@example.org"].subject == "Ми її передали"
    assert got["ru@example.org"].subject == "Мы её передали"
    assert "<strong>передано</strong>" in got["uk@example.org"].html
    assert got["uk@example.org"].message["Content-Language"] == "uk"
    db.session.expire_all()
    assert db.session.get(Update, update_id).status == UpdateStatus.SENT

    # a restart, and the periodic job queueing it again: nobody gets a second copy
    db.session.execute(update(Update).values(next_batch_at=None, status=UpdateStatus.SENDING))
    db.session.commit()
    actors.send_batch(update_id)
    services.enqueue_due()
    db.session.commit()
    drain()
    assert len(mailbox()) == 3


def test_a_missing_language_falls_back_to_the_campaigns_first(make_petition, signer, drain, mailbox):
    petition = make_petition()
    signer(petition.id, "ru@example.org", locale="ru")
    _approved(petition, subject={"en": "News", "uk": "Новини"}, body={"en": "Text.", "uk": "Текст."})
    drain()
    [mail] = mailbox()
    assert mail.subject == "News"  # People First writes en, uk, ru: English comes first


def test_a_crash_after_the_claim_never_sends_that_mail_twice(make_petition, signer, mailbox, monkeypatch):
    petition = make_petition()
    first = signer(petition.id, "first@example.org")
    signer(petition.id, "second@example.org", locale="uk")
    signer(petition.id, "third@example.org", locale="ru")
    update_id = _approved_while_the_broker_is_away(petition, monkeypatch)

    # the worker opens a batch, claims the first recipient, commits, and dies before sending
    assert services.open_batch(update_id, 100)
    db.session.commit()
    assert services.next_recipients(update_id, 1) == [(first, "en")]
    assert services.claim(update_id, first, "en") is not None
    db.session.commit()
    assert mailbox() == []

    # a minute later the restarted worker goes on: the others get it, the claimed one is not sent again
    actors.send_batch(update_id)
    assert mailbox() == []  # still inside the minute: no second batch
    db.session.execute(update(Update).values(next_batch_at=None))
    db.session.commit()
    actors.send_batch(update_id)
    assert sorted(mail.to for mail in mailbox()) == ["second@example.org", "third@example.org"]
    db.session.execute(update(Update).values(next_batch_at=None, status=UpdateStatus.SENDING, cursor=0))
    db.session.commit()
    actors.send_batch(update_id)  # even from the start again, the claims hold
    assert len(mailbox()) == 2
    counts = services.progress([update_id])[update_id]
    assert (counts.total, counts.sent, counts.unknown) == (3, 2, 1)
    assert db.session.scalar(select(db.func.count()).select_from(UpdateDelivery)) == 3


def test_batches_follow_the_rate(make_petition, signer, monkeypatch):
    petition = make_petition()
    for n in range(5):
        signer(petition.id, f"s{n}@example.org")
    update_id = _approved_while_the_broker_is_away(petition, monkeypatch)
    assert services.open_batch(update_id, 2) == 2
    db.session.commit()
    assert services.open_batch(update_id, 2) == 0  # one batch a minute
    assert services.due_updates() == []
