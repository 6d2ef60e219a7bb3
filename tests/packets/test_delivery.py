"""Delivering packets to a real local HTTP receiver and by email: retries, failures, duplicates and refusals."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from standardwebhooks import Webhook
from werkzeug import Request, Response

from advocacy.accounts.roles import SYSTEM, Principal
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.packets import delivery, webhooks
from advocacy.packets.models import Delivery, DeliveryAttempt, DeliverySchedule, DeliveryStatus, Packet
from advocacy.petitions import services as petitions
from advocacy.petitions.models import DeliveryChannel
from tests.conftest import wait_for
from tests.packets.test_packets import add


@pytest.fixture
def loopback(app: Any) -> Any:
    """Tests post to a receiver on 127.0.0.1 over http: allowed here only."""
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = True
    yield
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False


@pytest.fixture
def petition(make_petition: Any) -> Any:
    petition = make_petition()
    add(petition, "Olena Kovalenko")
    add(petition, "Anna Schmidt", country="DE")
    db.session.commit()
    return petition


def by_webhook(url: str) -> str:
    target = petitions.find_target("bundestag")
    target.delivery_channel, target.webhook_url = DeliveryChannel.WEBHOOK, url
    secret = delivery.new_webhook_secret(target.id, actor=SYSTEM)
    db.session.commit()
    return secret


def only_delivery() -> Delivery:
    db.session.expire_all()
    return db.session.scalars(select(Delivery)).one()


def outcomes(delivery_id: int) -> list[str]:
    return list(db.session.scalars(select(DeliveryAttempt.outcome).where(DeliveryAttempt.delivery_id == delivery_id)
                                   .order_by(DeliveryAttempt.id)))


def test_a_webhook_delivery_is_signed_and_carries_the_manifest_and_a_link(app, ctx, loopback, petition, httpserver,
                                                                          drain):
    httpserver.expect_request("/hook", method="POST").respond_with_data("thanks", status=202)
    secret = by_webhook(httpserver.url_for("/hook"))
    delivery.schedule(petition.id, petitions.find_target("bundestag").id, actor=SYSTEM)
    db.session.commit()
    drain()

    found = only_delivery()
    assert found.status == DeliveryStatus.DELIVERED
    assert outcomes(found.id) == ["HTTP 202"]
    (request, _response), = httpserver.log
    body = request.get_data(as_text=True)
    payload = Webhook(secret).verify(body, dict(request.headers))  # raises unless the signature holds
    packet = db.session.get(Packet, found.packet_id)
    assert request.headers["webhook-id"] == f"msg_{packet.public_id}"
    assert payload["manifest"]["counts"]["signatures"] == 2
    assert payload["download_url"].startswith(app.config["BASE_URL"] + "/console/packets/link/")
    assert "Olena" not in body  # the names stay in the packet, behind the liaison's login


def test_a_failing_receiver_is_retried_recorded_and_finally_reported_to_organisers(app, ctx, loopback, petition,
                                                                                   httpserver, drain, mailbox,
                                                                                   login_as, client):
    httpserver.expect_request("/hook").respond_with_data("no", status=500)
    by_webhook(httpserver.url_for("/hook"))
    login_as(client, organiser_of=[petition.campaign_id], email="organiser@coalition.test")
    waiting = pending(petitions_packet(petition))
    with pytest.raises(delivery.DeliveryFailed, match="HTTP 500"):
        delivery.attempt(waiting.id, final=False)
    db.session.commit()
    assert delivery.attempt(waiting.id, final=True) is False
    db.session.commit()
    drain()
    found = only_delivery()
    assert found.status == DeliveryStatus.FAILED
    assert outcomes(found.id) == ["HTTP 500", "HTTP 500"]
    alerts = [m for m in mailbox() if m.to == "organiser@coalition.test"]
    assert len(alerts) == 1
    assert "could not be delivered" in alerts[0].text
    page = client.get(f"/console/petitions/{petition.id}/packets").get_data(as_text=True)
    assert "Deliveries that failed" in page
    dashboard = client.get(f"/console/petitions/{petition.id}/dashboard").get_data(as_text=True)
    assert "Deliveries that failed" in dashboard
    assert "HTTP 500" in dashboard


def petitions_packet(petition: Any) -> Packet:
    """A built packet made without the outbox, so no worker thread races the attempts a test makes itself."""
    from advocacy.packets import build, services
    from advocacy.packets.models import PacketStatus

    target = petitions.find_target("bundestag")
    cutoff = utcnow().replace(microsecond=0)
    packet = Packet(public_id=build.packet_id(petition, target, cutoff), petition_id=petition.id,
                    target_id=target.id, cutoff=cutoff, status=PacketStatus.QUEUED)
    db.session.add(packet)
    db.session.commit()
    services.build_stored(packet.id)
    db.session.commit()
    return packet


def pending(packet: Packet) -> Delivery:
    """A delivery waiting to be tried, with no message queued for it (the test tries it itself)."""
    from advocacy.packets.models import DeliveryChannelUsed

    found = Delivery(packet_id=packet.id, channel=DeliveryChannelUsed.WEBHOOK, webhook_id=f"msg_{packet.public_id}")
    db.session.add(found)
    db.session.commit()
    return found


def test_a_slow_receiver_within_the_timeout_succeeds_and_one_beyond_it_times_out(app, ctx, loopback, petition,
                                                                                  httpserver, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT", 1.0)

    def slow(seconds: float) -> Any:
        def handler(request: Request) -> Response:
            time.sleep(seconds)
            return Response("late", status=200)
        return handler

    httpserver.expect_ordered_request("/hook").respond_with_handler(slow(0.3))
    httpserver.expect_ordered_request("/hook").respond_with_handler(slow(2.0))
    by_webhook(httpserver.url_for("/hook"))
    packet = petitions_packet(petition)
    assert delivery.attempt(pending(packet).id, final=False) is True
    second = pending(packet)
    with pytest.raises(delivery.DeliveryFailed, match="timed out"):
        delivery.attempt(second.id, final=False)
    wait_for(lambda: len(httpserver.log) == 2)  # the receiver finishes its late answer before the next test


def test_a_redelivery_of_the_same_packet_carries_the_same_webhook_id(app, ctx, loopback, petition, httpserver,
                                                                    drain):
    httpserver.expect_request("/hook").respond_with_data("", status=204)
    by_webhook(httpserver.url_for("/hook"))
    delivery.schedule(petition.id, petitions.find_target("bundestag").id, actor=SYSTEM)
    db.session.commit()
    drain()
    first = only_delivery()
    packet = db.session.get(Packet, first.packet_id)
    delivery.redeliver(first.id, actor=SYSTEM)
    db.session.commit()
    drain()
    db.session.expire_all()
    assert [d.status for d in db.session.scalars(select(Delivery))] == [DeliveryStatus.DELIVERED] * 2
    ids = [request.headers["webhook-id"] for request, _ in httpserver.log]
    assert len(ids) == 2
    assert ids[0] == ids[1] == f"msg_{packet.public_id}"


def test_redirects_are_not_followed(app, ctx, loopback, petition, httpserver):
    httpserver.expect_request("/hook").respond_with_data("", status=302, headers={"Location": "http://10.0.0.1/"})
    by_webhook(httpserver.url_for("/hook"))
    waiting = pending(petitions_packet(petition))
    with pytest.raises(delivery.DeliveryFailed, match="redirects are not followed"):
        delivery.attempt(waiting.id, final=False)
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("url", ["https://10.0.0.7/hook", "https://169.254.169.254/latest", "https://[::1]/hook",
                                 "https://127.0.0.1/hook", "https://localhost/hook", "http://127.0.0.1/hook",
                                 "https://[::ffff:192.168.1.1]/hook", "http://example.org/hook"])
def test_a_private_or_local_address_is_refused_before_anything_is_sent(app, ctx, petition, url):
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = False
    by_webhook(url)
    waiting = pending(petitions_packet(petition))
    with pytest.raises(delivery.DeliveryFailed, match="refused"):
        delivery.attempt(waiting.id, final=False)


def test_the_address_checks_name_every_private_range():
    for address in ("10.1.2.3", "172.16.0.1", "192.168.0.1", "127.0.0.1", "169.254.1.1", "100.64.0.1", "::1",
                    "fe80::1", "fc00::1", "::ffff:10.0.0.1", "0.0.0.0", "224.0.0.1"):  # noqa: S104
        assert webhooks._blocked(address, allow_loopback=False), address
    assert not webhooks._blocked("93.184.215.14", allow_loopback=False)
    assert not webhooks._blocked("127.0.0.1", allow_loopback=True)
    assert webhooks._blocked("10.0.0.1", allow_loopback=True)


def test_an_email_delivery_links_to_the_packet_behind_the_liaisons_login(app, ctx, petition, drain, mailbox,
                                                                       login_as):
    target = petitions.find_target("bundestag")
    target.contact_email = "petitions@bundestag.example"
    db.session.commit()
    delivery.schedule(petition.id, target.id, actor=SYSTEM)
    db.session.commit()
    drain()
    assert only_delivery().status == DeliveryStatus.DELIVERED
    (sent,) = [m for m in mailbox() if m.to == "petitions@bundestag.example"]
    assert "Olena" not in sent.text
    assert not [part for part in sent.message.walk() if part.get_filename()]  # never an attachment
    link = sent.link("/console/packets/link/")
    path = link.removeprefix(app.config["BASE_URL"])

    anonymous = app.test_client()
    assert anonymous.get(path).headers["Location"].startswith("/login")
    liaison = app.test_client()
    login_as(liaison, liaison_of=[target.id])
    opened = liaison.get(path)
    assert opened.status_code == 303
    assert opened.headers["Location"].startswith("/console/packets/#packet-")
    other = app.test_client()
    other_target = petitions.create_target("sejm", name={"en": "Sejm"}, country="PL", languages=["pl"], actor=SYSTEM)
    db.session.commit()
    login_as(other, liaison_of=[other_target.id])
    assert other.get(path).status_code == 404
    with time_machine.travel(utcnow() + timedelta(days=15)):
        login_as(liaison, liaison_of=[target.id])  # a new session: the old one ended after 12 hours
        assert liaison.get(path).status_code == 410


def test_schedules_deliver_at_their_time_and_repeat_while_the_petition_is_open(app, ctx, petition):
    target = petitions.find_target("bundestag")
    target.contact_email = "petitions@bundestag.example"
    db.session.commit()
    organiser = Principal(user_id=None, campaign_ids=frozenset({petition.campaign_id}))
    start = utcnow() + timedelta(hours=1)
    plan = delivery.schedule(petition.id, target.id, actor=organiser, at=start, every_days=7)
    db.session.commit()
    assert delivery.run_due_schedules() == 0
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert delivery.run_due_schedules() == 1
        db.session.commit()
    db.session.refresh(plan)
    assert plan.next_at == start + timedelta(minutes=1, days=7)
    assert db.session.scalar(select(Delivery.id)) is not None
    delivery.cancel(plan.id, actor=organiser)
    db.session.commit()
    with time_machine.travel(start + timedelta(days=30), tick=False):
        assert delivery.run_due_schedules() == 0
    assert db.session.get(DeliverySchedule, plan.id).next_at is None


def test_a_schedule_is_refused_for_what_cannot_be_delivered(app, ctx, petition):
    target = petitions.find_target("bundestag")
    target.contact_email = None
    db.session.commit()
    with pytest.raises(delivery.ScheduleError, match="no contact address"):
        delivery.schedule(petition.id, target.id, actor=SYSTEM)
    target.delivery_channel, target.webhook_url = DeliveryChannel.WEBHOOK, "https://hook.example/"
    db.session.commit()
    with pytest.raises(delivery.ScheduleError, match="no secret"):
        delivery.schedule(petition.id, target.id, actor=SYSTEM)
    target.delivery_channel = DeliveryChannel.EMAIL
    target.contact_email = "a@b.example"
    db.session.commit()
    with pytest.raises(delivery.ScheduleError, match="has passed"):
        delivery.schedule(petition.id, target.id, actor=SYSTEM, at=utcnow() - timedelta(days=1))
    assert db.session.scalar(select(DeliverySchedule.id)) is None


def test_the_webhook_secret_is_sealed_and_shown_once(app, ctx, client, login_as, petition):
    target = petitions.find_target("bundestag")
    login_as(client, organiser_of=[petition.campaign_id])
    page = client.get(f"/console/targets/{target.id}/webhook-secret")
    assert page.status_code == 200
    import re
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    made = client.post(f"/console/targets/{target.id}/webhook-secret", data={"csrf_token": token})
    secret = re.search(r"<code>(whsec_[^<]+)</code>", made.get_data(as_text=True)).group(1)
    assert delivery.webhook_secret(target.id) == secret
    again = client.get(f"/console/targets/{target.id}/webhook-secret").get_data(as_text=True)
    assert secret not in again
    from advocacy.packets.models import WebhookSecret
    stored = db.session.get(WebhookSecret, target.id).sealed
    assert secret.encode() not in stored
    assert json.dumps(secret) not in str(stored)
