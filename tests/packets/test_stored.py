"""Packets in the console: asked for by an organiser, built by the worker, downloaded and answered by the liaison."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from advocacy.accounts.roles import SYSTEM
from advocacy.audit.models import AuditEvent
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.outbox import services as outbox
from advocacy.outbox.models import OutboxMessage
from advocacy.packets import services
from advocacy.packets.models import Packet, PacketChunk, PacketStatus
from advocacy.packets.signing import packet_keys
from advocacy.packets.verify import verify
from advocacy.petitions import services as petitions
from tests.packets.test_packets import add

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf(client: Any, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    found = CSRF.search(page.get_data(as_text=True))
    assert found
    return found.group(1)


@pytest.fixture
def signed(make_petition: Any) -> dict[str, int]:
    petition = make_petition()
    add(petition, "Olena Kovalenko")
    add(petition, "Anna Schmidt", country="DE")
    add(petition, "Ivan Petrenko", consent=False)
    db.session.commit()
    other = petitions.create_target("sejm", name={"en": "Sejm"}, country="PL", languages=["pl"], actor=SYSTEM)
    db.session.commit()
    return {"petition": petition.id, "campaign": petition.campaign_id,
            "target": petitions.find_target("bundestag").id, "other_target": other.id}


def ask(client: Any, ids: dict[str, int]) -> Any:
    path = f"/console/petitions/{ids['petition']}/packets"
    return client.post(path, data={"build-target": ids["target"], "csrf_token": csrf(client, path)})


def the_packet(app: Any) -> Packet:
    with app.app_context():
        packet = db.session.scalars(select(Packet)).one()
        db.session.expunge(packet)
        return packet


def test_an_organiser_asks_the_worker_builds_and_only_the_liaison_downloads(app, client, login_as, signed, drain):
    login_as(client, organiser_of=[signed["campaign"]])
    answer = ask(client, signed)
    assert answer.status_code == 303
    drain()
    packet = the_packet(app)
    assert packet.status == PacketStatus.READY
    assert (packet.total, packet.listed) == (3, 2)
    listing = client.get(f"/console/petitions/{signed['petition']}/packets").get_data(as_text=True)
    assert packet.public_id in listing
    # the organiser sees counts, not the names: no download for them
    assert client.get(f"/console/packets/{packet.public_id}/packet.zip").status_code == 404

    liaison = app.test_client()
    login_as(liaison, liaison_of=[signed["target"]])
    page = liaison.get("/console/packets/")
    assert page.status_code == 200
    assert f"/console/packets/{packet.public_id}/packet.zip" in page.get_data(as_text=True)
    download = liaison.get(f"/console/packets/{packet.public_id}/packet.zip")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment; filename=")
    assert download.headers["Cache-Control"] == "no-store"
    body = download.get_data()
    assert len(body) == packet.size
    with app.app_context():
        report = verify(io.BytesIO(body), packet_keys().public_keys)
        assert report.ok, report.problems
        logged = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "packet.download"))
        assert logged == 1
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert "Olena Kovalenko" in archive.read("signatures.csv").decode("utf-8-sig")


def test_another_targets_liaison_gets_404_however_the_id_is_known(app, client, login_as, signed, drain):
    login_as(client, organiser_of=[signed["campaign"]])
    ask(client, signed)
    drain()
    packet = the_packet(app)
    stranger = app.test_client()
    login_as(stranger, liaison_of=[signed["other_target"]])
    assert stranger.get(f"/console/packets/{packet.public_id}/packet.zip").status_code == 404
    token = csrf(stranger, "/console/packets/")
    assert stranger.post(f"/console/packets/{packet.public_id}/received",
                         data={"csrf_token": token}).status_code == 404
    assert packet.public_id not in stranger.get("/console/packets/").get_data(as_text=True)
    assert stranger.get(f"/console/petitions/{signed['petition']}/targets/{signed['target']}/response"
                        ).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Packet.received_at)) is None


def test_an_organiser_of_another_campaign_cannot_ask_for_a_packet(app, client, login_as, signed):
    with app.app_context():
        other = petitions.create_campaign("other", name={"en": "Other"}, languages=["en"], actor=SYSTEM).id
        db.session.commit()
    login_as(client, organiser_of=[other])
    assert client.get(f"/console/petitions/{signed['petition']}/packets").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Packet)) == 0


def test_the_liaison_marks_it_received_and_publishes_a_response_shown_on_the_petition(app, client, login_as, signed,
                                                                                      drain):
    login_as(client, organiser_of=[signed["campaign"]])
    ask(client, signed)
    drain()
    packet = the_packet(app)
    liaison = app.test_client()
    login_as(liaison, liaison_of=[signed["target"]])
    token = csrf(liaison, "/console/packets/")
    assert liaison.post(f"/console/packets/{packet.public_id}/received",
                        data={"csrf_token": token}).status_code == 303
    assert "Not yet" not in client.get(f"/console/petitions/{signed['petition']}/packets").get_data(as_text=True)

    path = f"/console/petitions/{signed['petition']}/targets/{signed['target']}/response"
    empty = liaison.post(path, data={"csrf_token": csrf(liaison, path)})
    assert empty.status_code == 400
    assert "Please write the response in at least one language." in empty.get_data(as_text=True)
    sent = liaison.post(path, data={"csrf_token": csrf(liaison, path), "text_en": "",
                                    "text_uk": "Комітет розгляне петицію.\n\nДякуємо."})
    assert sent.status_code == 303
    with app.app_context():
        slug = db.session.get(Packet, packet.id).petition.slug
    page = app.test_client().get(f"/p/{slug}?lang=en").get_data(as_text=True)
    assert "Responses from the addressees" in page
    assert '<div lang="uk"><p>Комітет розгляне петицію.</p><p>Дякуємо.</p></div>' in page
    api = app.test_client().get(f"/api/v1/petitions/{slug}?lang=ru").get_json()
    assert api["responses"][0]["target"] == "bundestag"
    assert api["responses"][0]["lang"] == "uk"
    assert api["responses"][0]["text"].startswith("Комітет")


def test_a_build_runs_once_and_gives_the_bytes_a_direct_build_gives(app, ctx, signed, drain):
    from advocacy.packets import build

    packet = services.request_packet(signed["petition"], signed["target"], actor=SYSTEM)
    again = services.request_packet(signed["petition"], signed["target"], actor=SYSTEM, cutoff=packet.cutoff)
    assert again.id == packet.id
    db.session.commit()
    drain()  # the worker builds it
    db.session.expire_all()
    assert db.session.get(Packet, packet.id).status == PacketStatus.READY
    assert services.build_stored(packet.id) is False  # a second delivery of the job finds it built
    db.session.commit()
    stored = b"".join(services._chunks(packet.id))
    direct = io.BytesIO()
    build.write(packet.petition, packet.target, packet.cutoff, direct, packet_keys())
    assert stored == direct.getvalue()


def test_a_long_build_keeps_its_lease_and_a_stranger_cannot_take_it(app, ctx):
    # a row written past the ORM, so it is never handed to the broker: no worker claims it meanwhile
    row_id = db.session.execute(insert(OutboxMessage).values(actor_name="packets.build", args=[1])
                                .returning(OutboxMessage.id)).scalar_one()
    db.session.commit()
    row = db.session.get(OutboxMessage, row_id)
    assert outbox.claim(row.id, "message-a")
    db.session.commit()
    db.session.refresh(row)
    first = row.lease_until
    assert outbox.extend_lease(row.id, "message-a") is True
    assert outbox.extend_lease(row.id, "message-b") is False
    db.session.refresh(row)
    assert row.lease_until >= first
    assert row.lease_owner == "message-a"


def test_packet_files_are_deleted_after_the_retention_period_and_the_counts_stay(app, ctx, signed, drain):
    packet = services.request_packet(signed["petition"], signed["target"], actor=SYSTEM)
    db.session.commit()
    drain()  # the worker builds it
    db.session.expire_all()
    assert services.expire_packet_files(utcnow()) == 0
    assert services.expire_packet_files(utcnow() + timedelta(days=89)) == 0  # 90 days by default
    assert services.expire_packet_files(utcnow() + timedelta(days=91)) == 1
    db.session.commit()
    db.session.refresh(packet)
    assert packet.status == PacketStatus.EXPIRED
    assert packet.total == 3
    assert packet.manifest["counts"]["signatures"] == 3
    assert db.session.scalar(select(func.count()).select_from(PacketChunk)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) >= 1


def test_the_organisers_period_counts_from_the_last_delivery(app, ctx, signed, drain):
    from advocacy.packets.models import Delivery, DeliveryChannelUsed, DeliveryStatus

    services.set_packet_retention(signed["petition"], 10, actor=SYSTEM)
    with pytest.raises(services.PacketError, match="between 1 and 3650 days"):
        services.set_packet_retention(signed["petition"], 0, actor=SYSTEM)
    packet = services.request_packet(signed["petition"], signed["target"], actor=SYSTEM)
    db.session.commit()
    drain()  # the worker builds it
    db.session.add(Delivery(packet_id=packet.id, channel=DeliveryChannelUsed.EMAIL, webhook_id="msg_x",
                            status=DeliveryStatus.DELIVERED, delivered_at=utcnow() + timedelta(days=5)))
    db.session.commit()
    assert services.expire_packet_files(utcnow() + timedelta(days=12)) == 0  # built 12 days ago, delivered 7
    assert services.expire_packet_files(utcnow() + timedelta(days=16)) == 1


def test_organisers_set_the_retention_on_the_packets_page(app, client, login_as, signed):
    login_as(client, organiser_of=[signed["campaign"]])
    page = f"/console/petitions/{signed['petition']}/packets"
    path = f"/console/petitions/{signed['petition']}/packets/retention"
    refused = client.post(path, data={"keep-days": "0", "csrf_token": csrf(client, page)})
    assert refused.status_code == 400
    assert "Number must be between 1 and 3650." in refused.get_data(as_text=True)
    saved = client.post(path, data={"keep-days": "30", "csrf_token": csrf(client, page)})
    assert saved.status_code == 303
    with app.app_context():
        from advocacy.petitions.models import Petition

        assert db.session.get(Petition, signed["petition"]).packet_retention_days == 30
