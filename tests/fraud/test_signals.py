"""Fraud signals: keyed per petition, never raw; quiet marking above a petition's thresholds; suspect
signatures held back from the tally until cleared."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import time_machine
from sqlalchemy import select, text, update

from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.fraud import services as fraud
from advocacy.petitions.models import Petition
from advocacy.signatures import services as signatures
from advocacy.signatures.models import Signature, SignatureState
from advocacy.signatures.retention import erase_after_retention
from advocacy.tallies import services as tallies
from tests.signatures.test_views import sign

BURST = "203.0.113.7"


def limits(petition: Any, **values: int) -> None:
    db.session.execute(update(Petition).where(Petition.id == petition.id).values(**values))
    db.session.commit()


def from_address(client: Any, address: str) -> Any:
    client.environ_base["REMOTE_ADDR"] = address
    return client


def rows(petition: Any) -> list[Signature]:
    db.session.expire_all()
    return list(db.session.scalars(select(Signature).where(Signature.petition_id == petition.id)
                                   .order_by(Signature.id)))


def test_a_burst_from_one_address_is_held_back_quietly_while_other_signers_count(app, ctx, client, make_petition,
                                                                                 drain, mailbox):
    petition = make_petition()
    limits(petition, fraud_limit_address=3)
    bot = from_address(app.test_client(), BURST)
    answers = [sign(bot, petition.slug, full_name=f"Bot {n}", email=f"bot{n}@example.org") for n in range(5)]
    assert {answer.status_code for answer in answers} == {303}  # the same answer for every one
    for n, address in enumerate(("198.51.100.20", "192.0.2.44")):
        assert sign(from_address(app.test_client(), address), petition.slug, full_name=f"Person {n}",
                    email=f"person{n}@example.org").status_code == 303
    drain()

    found = rows(petition)
    assert [row.suspect for row in found] == [False, False, False, True, True, False, False]
    assert {row.suspect_reason for row in found if row.suspect} == {"address"}
    # everybody got the usual confirmation email, suspect or not
    assert len([mail for mail in mailbox() if "/confirm/" in mail.text]) == 7
    for row in found:
        assert signatures.confirm(row.id) == signatures.ConfirmOutcome.CONFIRMED
    db.session.commit()
    assert tallies.tally(petition.id).total == 5
    assert not tallies.reconcile(petition.id)  # the counters agree with the rule: no drift
    page = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert "2 signatures are held back for checking." in page
    assert client.get(f"/api/v1/petitions/{petition.slug}").get_json()["held_back"] == 2


def test_network_and_domain_limits_and_a_limit_of_zero(app, ctx, make_petition):
    petition = make_petition()
    limits(petition, fraud_limit_address=0, fraud_limit_network=2, fraud_limit_domain=0)
    for n in range(3):
        sign(from_address(app.test_client(), f"198.51.100.{n + 1}"), petition.slug, email=f"n{n}@example.org")
    assert [row.suspect_reason for row in rows(petition)] == [None, None, "network"]

    other = make_petition()
    limits(other, fraud_limit_address=0, fraud_limit_network=0, fraud_limit_domain=2)
    for n in range(3):
        sign(from_address(app.test_client(), f"192.0.{n}.9"), other.slug, email=f"d{n}@spam.example")
    sign(from_address(app.test_client(), "192.0.9.9"), other.slug, email="someone@example.org")
    assert [row.suspect_reason for row in rows(other)] == [None, None, "domain", None]

    off = make_petition()
    limits(off, fraud_limit_address=0, fraud_limit_network=0, fraud_limit_domain=0)
    for n in range(4):
        sign(from_address(app.test_client(), BURST), off.slug, email=f"o{n}@example.org")
    assert not any(row.suspect for row in rows(off))


def test_the_window_forgets_old_signatures(app, ctx, make_petition):
    petition = make_petition()
    limits(petition, fraud_limit_address=1, fraud_window_minutes=60)
    bot = from_address(app.test_client(), BURST)
    sign(bot, petition.slug, email="early@example.org")
    with time_machine.travel(utcnow() + timedelta(minutes=61)):
        sign(bot, petition.slug, email="later@example.org")
        sign(bot, petition.slug, email="again@example.org")
    assert [row.suspect for row in rows(petition)] == [False, False, True]


def test_no_raw_address_reaches_the_database_or_the_logs(app, ctx, make_petition, caplog):
    petition = make_petition()
    caplog.set_level(logging.DEBUG)
    sign(from_address(app.test_client(), BURST), petition.slug, email="olena@example.org")
    (row,) = rows(petition)
    assert row.ip_hash == fraud.signals(petition.id, BURST, "olena@example.org").ip_hash
    assert row.network_hash is not None
    assert row.email_domain == "example.org"
    stored = db.session.execute(text("SELECT * FROM signatures")).all()
    assert BURST not in repr(stored)
    assert "203.0.113" not in repr(stored)
    assert BURST not in caplog.text
    # keyed per petition: the same address gives another hash on another petition
    other = make_petition()
    assert fraud.signals(other.id, BURST, "olena@example.org").ip_hash != row.ip_hash


def test_ipv6_networks_are_48s_and_mapped_ipv4_is_ipv4():
    assert fraud.network_of("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert fraud.network_of("::ffff:203.0.113.7") == "203.0.113.0/24"
    assert fraud.network_of("not an address") is None


def test_withdrawal_and_retention_erase_the_signals(app, ctx, make_petition):
    petition = make_petition()
    sign(from_address(app.test_client(), BURST), petition.slug, email="a@example.org")
    sign(from_address(app.test_client(), BURST), petition.slug, email="b@example.org")
    first, second = rows(petition)
    signatures.confirm(first.id)
    signatures.withdraw(first.id)
    db.session.commit()
    (gone,) = [row for row in rows(petition) if row.id == first.id]
    assert (gone.ip_hash, gone.network_hash, gone.domain_hash, gone._email_domain) == (None, None, None, None)

    db.session.execute(update(Petition).where(Petition.id == petition.id)
                       .values(closes_at=utcnow() - timedelta(days=400), retention_days=1))
    db.session.commit()
    assert erase_after_retention() >= 1
    db.session.commit()
    (kept,) = [row for row in rows(petition) if row.id == second.id]
    assert (kept.ip_hash, kept.network_hash, kept.domain_hash, kept._email_domain) == (None, None, None, None)


def test_withdrawing_a_suspect_signature_leaves_the_tally_alone(app, ctx, make_petition):
    petition = make_petition()
    limits(petition, fraud_limit_address=1)
    bot = from_address(app.test_client(), BURST)
    sign(bot, petition.slug, email="one@example.org")
    sign(bot, petition.slug, email="two@example.org")
    first, second = rows(petition)
    assert second.suspect
    signatures.confirm(first.id)
    signatures.confirm(second.id)
    db.session.commit()
    assert tallies.tally(petition.id).total == 1
    signatures.withdraw(second.id)
    db.session.commit()
    assert tallies.tally(petition.id).total == 1
    assert not tallies.reconcile(petition.id)
    assert db.session.get(Signature, second.id).state == SignatureState.WITHDRAWN


def test_the_held_back_count_reads_the_partial_index(make_petition):
    """Counting what is held back must not read every signature of a petition (it runs on every page refresh)."""
    from sqlalchemy import func, insert, select, text

    from advocacy.dbtypes import utcnow
    from advocacy.extensions import db
    from advocacy.fraud.services import SUSPECT
    from advocacy.signatures.models import Signature, SignatureState

    petition = make_petition()
    now = utcnow()
    db.session.execute(insert(Signature.__table__), [
        {"petition_id": petition.id, "state": "confirmed", "seal_id": f"s{n}", "country": "UA", "locale": "en",
         "created_at": now, "emails_sent": 1, "suspect": n % 500 == 0, "consent_share_name": False,
         "opt_in_news": False} for n in range(3000)])
    db.session.commit()
    dialect = db.engine.dialect.name
    db.session.execute(text("ANALYZE" if dialect == "sqlite" else "ANALYZE signatures"))
    query = select(func.count()).select_from(Signature).where(
        Signature.petition_id == petition.id, SUSPECT,
        Signature.state.in_((SignatureState.PENDING, SignatureState.CONFIRMED)))
    compiled = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = " ".join(str(row) for row in db.session.execute(
        text(("EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN ") + compiled)))
    assert "ix_signatures_petition_suspect" in plan, (plan, compiled)
    assert db.session.scalar(query) == 6
