"""The console's fraud pages: trending signals, the signatures behind them, and an admin's recorded reveal."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from advocacy.audit.models import AuditEvent
from advocacy.extensions import db
from tests.fraud.test_signals import BURST, from_address, limits, rows
from tests.signatures.test_views import sign

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def burst(app: Any, petition: Any) -> None:
    limits(petition, fraud_limit_address=2)
    bot = from_address(app.test_client(), BURST)
    for n in range(4):
        sign(bot, petition.slug, full_name=f"Bot Number {n}", email=f"bot{n}@spam.example")
    sign(from_address(app.test_client(), "192.0.2.1"), petition.slug, full_name="Olena Kovalenko",
         email="olena@example.org")


def test_the_trending_page_lists_the_burst_and_links_to_its_signatures(app, ctx, client, login_as, make_petition):
    petition = make_petition()
    burst(app, petition)
    login_as(client, organiser_of=[petition.campaign_id])
    page = client.get(f"/console/petitions/{petition.id}/fraud/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "spam.example" in text  # a domain is shown as itself
    assert BURST not in text
    burst_hash = rows(petition)[0].ip_hash
    assert burst_hash[:12] in text
    assert burst_hash[12:] not in text.replace(f"address={burst_hash}", "")  # only in the link
    link = re.search(rf'href="([^"]*address={burst_hash}[^"]*)"', text).group(1).replace("&amp;", "&")
    listed = client.get(link).get_data(as_text=True)
    assert listed.count("<time") == 4
    assert "same address" in listed
    assert "Bot Number" not in listed  # no names for an organiser
    assert "Reveal name" not in listed


def test_a_filter_the_page_cannot_read_is_a_400_with_its_message(app, ctx, client, login_as, make_petition):
    petition = make_petition()
    login_as(client, organiser_of=[petition.campaign_id])
    answer = client.get(f"/console/petitions/{petition.id}/fraud/signatures?since=yesterday")
    assert answer.status_code == 400
    assert "Please give the time as YYYY-MM-DD HH:MM (UTC)." in answer.get_data(as_text=True)


def test_only_an_admin_reveals_a_name_and_the_look_is_recorded(app, ctx, client, login_as, make_petition):
    petition = make_petition()
    burst(app, petition)
    target = rows(petition)[-1]
    path = f"/console/petitions/{petition.id}/fraud/signatures"

    organiser = app.test_client()
    login_as(organiser, organiser_of=[petition.campaign_id])
    token = CSRF.search(organiser.get(f"/console/petitions/{petition.id}/fraud/").get_data(as_text=True))
    assert token  # the console's log-out button carries the session's token
    refused = organiser.post(f"{path}/{target.id}/reveal", data={"csrf_token": token.group(1)})
    assert refused.status_code == 403  # refused for who it is, not for the token
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "signature.reveal")).first() is None

    login_as(client, admin=True)
    page = client.get(path).get_data(as_text=True)
    assert "Olena Kovalenko" not in page
    token = CSRF.search(page).group(1)
    shown = client.post(f"{path}/{target.id}/reveal", data={"csrf_token": token})
    assert shown.status_code == 200
    assert "Olena Kovalenko" in shown.get_data(as_text=True)
    (entry,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "signature.reveal")).all()
    assert entry.object_id == target.id
    assert "Olena" not in str(entry.detail)


def test_organisers_set_the_limits_and_bad_values_change_nothing(app, ctx, client, login_as, make_petition):
    from advocacy.petitions.models import Petition

    petition = make_petition()
    login_as(client, organiser_of=[petition.campaign_id])
    page = f"/console/petitions/{petition.id}/fraud/"
    token = CSRF.search(client.get(page).get_data(as_text=True)).group(1)
    bad = client.post(f"{page}limits", data={"csrf_token": token, "window": "0", "address": "5", "network": "5",
                                             "domain": "5"})
    assert bad.status_code == 400
    db.session.expire_all()
    assert db.session.get(Petition, petition.id).fraud_limit_address == 10
    good = client.post(f"{page}limits", data={"csrf_token": token, "window": "30", "address": "3", "network": "0",
                                              "domain": "100"})
    assert good.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Petition, petition.id)
    assert (saved.fraud_window_minutes, saved.fraud_limit_address, saved.fraud_limit_network,
            saved.fraud_limit_domain) == (30, 3, 0, 100)
    entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "petition.fraud_limits")).one()
    assert entry.detail["after"] == [30, 3, 0, 100]

    stranger = app.test_client()
    login_as(stranger, liaison_of=[petition.targets[0].id])
    token = CSRF.search(stranger.get("/console/").get_data(as_text=True)).group(1)
    assert stranger.post(f"{page}limits", data={"csrf_token": token, "window": "60", "address": "1",
                                                "network": "1", "domain": "1"}).status_code == 403
