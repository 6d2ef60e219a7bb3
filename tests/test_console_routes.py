"""Every console route requires its role: a walk over ``app.url_map`` (issue 8).

Each route under /console and /account is tried, with every method it takes and a valid CSRF token, as:
- an anonymous reader and an account that has passed the password but not the second factor: 302 to /login;
- an organiser of another campaign and the liaison of another target: 403 or 404 on anything about campaign
  Alpha (its campaign, petition, target, event, organiser and packet). Pages without an object in their path
  (the overview, the lists, the forms for something new, one's own account) may answer them, but show
  nothing of Alpha, and no post changes anything stored.

A route added later is walked too; one whose path names an object this test does not know fails it, so the
walk keeps covering everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from advocacy.accounts import services as accounts
from advocacy.accounts.models import Grant, User
from advocacy.accounts.roles import SYSTEM, Role
from advocacy.crypto import make_token
from advocacy.dbtypes import utcnow
from advocacy.events import services as events
from advocacy.events.models import Event
from advocacy.extensions import db
from advocacy.fraud.bulk_models import BulkAction, BulkKind, BulkStatus
from advocacy.outbox.models import OutboxMessage
from advocacy.packets.models import (
    Delivery,
    DeliveryChannelUsed,
    DeliverySchedule,
    DeliveryStatus,
    Packet,
    PacketStatus,
    TargetResponse,
    WebhookSecret,
)
from advocacy.petitions import services as petitions
from advocacy.petitions.models import Campaign, Petition, PetitionTransition, Target
from advocacy.signatures.models import Signature
from advocacy.updates import services as updates
from advocacy.updates.models import Update

CONSOLE_PREFIXES = ("/console", "/account")
# what Alpha's people may see and nobody else: names that appear nowhere but on Alpha's own pages
ALPHA_MARKERS = ("Campaign Alpha", "Petition Alpha", "Event Alpha", "alpha-organiser@example.org")
PASSWORD = "a long enough password"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
STORED = (Campaign, Petition, PetitionTransition, Target, Event, User, Grant, OutboxMessage, Packet, TargetResponse,
          Delivery, DeliverySchedule, WebhookSecret, Update, BulkAction)


@dataclass(frozen=True)
class Alpha:
    campaign_id: int
    petition_id: int
    target_id: int
    event_id: int
    user_id: int
    grant_id: int
    other_campaign_id: int
    packet_public_id: str
    other_target_id: int
    schedule_id: int
    delivery_id: int
    link_token: str
    update_id: int
    signature_id: int
    bulk_id: int

    def path_values(self) -> dict[str, int | str]:
        return {"campaign_id": self.campaign_id, "petition_id": self.petition_id, "target_id": self.target_id,
                "event_id": self.event_id, "user_id": self.user_id, "grant_id": self.grant_id,
                "public_id": self.packet_public_id, "schedule_id": self.schedule_id, "delivery_id": self.delivery_id,
                "token": self.link_token, "update_id": self.update_id,
                "signature_id": self.signature_id, "bulk_id": self.bulk_id,
                # public pages (tests/share walks every GET route): Alpha's petition and campaign by slug
                "slug": "alpha-petition", "campaign_slug": "alpha", "code": "uk", "year": 2030, "month": 3,
                "number": 1, "filename": "site.css"}


@pytest.fixture
def alpha(app: Flask) -> Alpha:
    """Campaign Alpha with a petition addressed to a target, an event and an organiser; campaign Beta."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from advocacy.events.models import EventDetails, EventKind

    with app.app_context():
        # published first: the site is named after it (the site name is on every page)
        beta = petitions.create_campaign("beta", actor=SYSTEM, name={"en": "Campaign Beta"}, languages=["en"])
        petitions.publish_campaign(beta.id, actor=SYSTEM)
        campaign = petitions.create_campaign("alpha", actor=SYSTEM, name={"en": "Campaign Alpha"},
                                             languages=["en"])
        petitions.publish_campaign(campaign.id, actor=SYSTEM)
        target = petitions.create_target("alpha-parliament", actor=SYSTEM, name={"en": "Alpha parliament"},
                                         country="DE", languages=["de"])
        petitions.publish_target(target.id, actor=SYSTEM)
        petition = petitions.create_petition("alpha-petition", actor=SYSTEM, campaign_id=campaign.id,
                                             title={"en": "Petition Alpha"}, target_ids=[target.id])
        start = datetime(2030, 3, 10, 13, 0, tzinfo=ZoneInfo("Europe/Zurich"))
        event = events.create_event(EventDetails(
            title={"en": "Event Alpha"}, starts_at=start, ends_at=start.replace(hour=14),
            timezone="Europe/Zurich", kind=EventKind.SIDE_EVENT, venue="Palais des Nations", city="Geneva",
            country="CH", campaign_slug="alpha"), actor=SYSTEM)
        organiser = User(email="alpha-organiser@example.org",
                         email_index=accounts.email_index("alpha-organiser@example.org"), enrolled_at=utcnow())
        db.session.add(organiser)
        db.session.flush()
        grant = accounts.add_grant(organiser, Role.ORGANISER, campaign_id=campaign.id)
        beta_target = petitions.create_target("beta-parliament", actor=SYSTEM, name={"en": "Beta parliament"},
                                              country="PL", languages=["pl"])
        packet = Packet(public_id="a1a1a1a1-0000-5000-8000-00000000a1a1", petition_id=petition.id,
                        target_id=target.id, cutoff=utcnow(), status=PacketStatus.READY, total=0, listed=0, size=0)
        db.session.add(packet)
        db.session.flush()
        plan = DeliverySchedule(petition_id=petition.id, target_id=target.id, next_at=utcnow())
        sent = Delivery(packet_id=packet.id, channel=DeliveryChannelUsed.EMAIL, webhook_id="msg_alpha",
                        status=DeliveryStatus.FAILED)
        bulk_action = BulkAction(petition_id=petition.id, action=BulkKind.INVALIDATE, filter={"country": "DE"},
                                 reason="Alpha bots", status=BulkStatus.DONE, matched=0, processed=0)
        db.session.add_all([plan, sent, bulk_action])
        news = updates.create_update(petition.id, actor=SYSTEM, subject={"en": "News"}, body={"en": "Text."})
        signer = Signature(petition_id=petition.id, full_name="Alpha Signer", email="alpha-signer@example.org",
                           email_index="alpha-signer", country="DE", locale="en")
        db.session.add(signer)
        db.session.commit()
        found = Alpha(campaign.id, petition.id, target.id, event.id, organiser.id, grant.id, beta.id,
                      packet.public_id, beta_target.id, plan.id, sent.id,
                      make_token("packet-link", [packet.public_id, sent.id]), news.id, signer.id, bulk_action.id)
        db.session.remove()
    return found


def console_rules(app: Flask) -> list[tuple[str, str, list[str]]]:
    return sorted(
        (rule.endpoint, rule.rule, sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"}))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(CONSOLE_PREFIXES)
    )


def fill(rule: str, values: dict[str, int | str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"{rule}: the walk does not know what <{name}> is; add an object for it"
        return str(values[name])

    return re.sub(r"<(?:\w+:)?(\w+)>", value, rule)


def token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def snapshot(app: Flask) -> dict[str, Any]:
    """Everything a post could have changed: row counts and versions of what the console edits."""
    with app.app_context():
        counts = {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in STORED}
        versions = {model.__name__: sorted(db.session.execute(select(model.id, model.version)).all())
                    for model in (Campaign, Petition, Target, Event)}
        accounts_state = sorted(db.session.execute(select(User.id, User.disabled_at, User.session_epoch)).all())
        db.session.remove()
    return {"counts": counts, "versions": versions, "accounts": accounts_state}


@pytest.fixture
def halfway(app: Flask) -> FlaskClient:
    """An enrolled account that has given its password and not yet its second factor."""
    with app.app_context():
        address = "halfway@example.org"
        user = User(email=address, email_index=accounts.email_index(address), enrolled_at=utcnow(),
                    password_hash=accounts.hash_password(PASSWORD), totp_secret=pyotp.random_base32())
        db.session.add(user)
        db.session.flush()
        accounts.add_grant(user, Role.ADMIN)  # even an admin sees nothing before the second factor
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    answer = client.post("/login", data={"email": address, "password": PASSWORD,
                                         "csrf_token": token(client, "/login")})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login/code"
    return client


def test_every_console_route_refuses_whoever_may_not_use_it(app: Flask, alpha: Alpha, halfway: FlaskClient,
                                                           login_as: Any) -> None:
    rules = console_rules(app)
    assert len(rules) >= 30, rules  # the walk sees the console
    values = alpha.path_values()

    anonymous = app.test_client()
    outsider, liaison = app.test_client(), app.test_client()
    login_as(outsider, organiser_of=[alpha.other_campaign_id])
    login_as(liaison, liaison_of=[alpha.other_target_id])  # of another institution than Alpha's
    visitors = {
        "anonymous": (anonymous, token(anonymous, "/login")),
        "password only": (halfway, token(halfway, "/login/code")),
        "organiser of another campaign": (outsider, token(outsider, "/console/")),
        "liaison": (liaison, token(liaison, "/console/")),
    }
    before = snapshot(app)
    walked = 0
    for endpoint, rule, methods in rules:
        path = fill(rule, values)
        names_an_object = "<" in rule
        for method in methods:
            for who, (client, csrf) in visitors.items():
                where = f"{who}: {method} {path} ({endpoint})"
                if method == "GET":
                    response = client.get(path)
                else:  # a real form post with the session's token: refused for who it is, not for the token
                    response = client.open(path, method=method, data={
                        "csrf_token": csrf, "version": "1", "reason": "walk", "role": "organiser",
                        "campaign": str(alpha.campaign_id), "email": "someone@example.org"})
                status = response.status_code
                walked += 1
                if who in ("anonymous", "password only"):
                    assert status == 302, where
                    assert response.headers["Location"].startswith("/login"), where
                elif names_an_object:
                    assert status in (403, 404), f"{where} answered {status}"
                else:
                    assert status in (200, 400, 403, 404), f"{where} answered {status}"
                    page = response.get_data(as_text=True)
                    shown = [marker for marker in ALPHA_MARKERS if marker in page]
                    assert not shown, f"{where} shows {shown}"
    assert walked >= 4 * 40
    assert snapshot(app) == before, "a refused post changed something"


def test_the_walk_would_notice_a_page_without_a_check(app: Flask, alpha: Alpha, login_as: Any) -> None:
    """The organiser of Alpha gets the pages the walk refuses to the others: it is the roles that differ."""
    organiser = app.test_client()
    login_as(organiser, organiser_of=[alpha.campaign_id])
    for path in (f"/console/campaigns/{alpha.campaign_id}", f"/console/petitions/{alpha.petition_id}",
                 f"/console/targets/{alpha.target_id}/edit", f"/console/events/{alpha.event_id}"):
        response = organiser.get(path)
        assert response.status_code == 200, path
    assert "Petition Alpha" in organiser.get(f"/console/campaigns/{alpha.campaign_id}").get_data(as_text=True)
