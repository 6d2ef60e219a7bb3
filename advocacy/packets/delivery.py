"""Delivering packets: organisers' schedules, the deliveries they cause, and each attempt by email or webhook.

A schedule comes due (at once for "now"): the packet of its petition and target with the cut-off "now" is
asked for, and a Delivery by the target's channel waits for it. When the worker has built the packet it sends
each waiting delivery through the outbox. The delivery actor tries once per message; dramatiq retries with
backoff; each try is a DeliveryAttempt. After the last try the delivery is failed and the campaign's
organisers get an email, and the console shows it.

- By email: a message to the target's contact address with a link to the packet in the console, where the
  target's liaison logs in with two factors to download it. The link is valid 14 days; the data is never
  attached.
- By webhook: a JSON POST of the manifest and the same link, signed as in Standard Webhooks with the target's
  secret. The message id is the packet's, so a receiver sees a redelivery of the same packet as the same
  message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from advocacy import mail, urls
from advocacy.accounts.models import Grant, User
from advocacy.accounts.roles import SYSTEM, Principal, Role, require_organiser
from advocacy.audit import services as audit
from advocacy.crypto import keyring, make_token, read_token
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.i18n import SUPPORTED_LOCALES
from advocacy.outbox import services as outbox
from advocacy.packets import services as packets
from advocacy.packets import webhooks
from advocacy.packets.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryChannelUsed,
    DeliverySchedule,
    DeliveryStatus,
    Packet,
    PacketStatus,
    WebhookSecret,
)
from advocacy.petitions.models import DeliveryChannel, Petition, PetitionStatus, Target

DELIVER_ACTOR = "packets.deliver"
ALERT_ACTOR = "packets.alert_organisers"
LINK_PURPOSE = "packet-link"
MAX_EVERY_DAYS = 365


class ScheduleError(ValueError):
    """The schedule cannot be made; the message says why."""


# --- schedules ------------------------------------------------------------------------------------------

def schedule(petition_id: int, target_id: int, *, actor: Principal, at: datetime | None = None,
             every_days: int | None = None) -> DeliverySchedule:
    """Deliver the petition to the target now (``at`` None), at a moment, or every N days from then while the
    petition is open. A schedule due now runs at once, in this transaction. Flushes; the caller commits."""
    petition = db.session.get(Petition, petition_id)
    if petition is None:
        raise packets.PacketNotFound(petition_id)
    require_organiser(actor, petition.campaign_id)
    target = next((t for t in petition.targets if t.id == target_id), None)
    if target is None:
        raise ScheduleError(str(_l("The petition is not addressed to this institution.")))
    if petition.status not in (PetitionStatus.OPEN, PetitionStatus.CLOSED):
        raise ScheduleError(str(_l("Only a published petition can be delivered.")))
    problem = channel_problem(target)
    if problem:
        raise ScheduleError(problem)
    now = utcnow()
    if at is not None and at < now - timedelta(minutes=1):
        raise ScheduleError(str(_l("The delivery time has passed: choose a time to come, or deliver now.")))
    if every_days is not None:
        if not 1 <= every_days <= MAX_EVERY_DAYS:
            raise ScheduleError(str(_l("Deliver every 1 to %(max)d days.", max=MAX_EVERY_DAYS)))
        if petition.status != PetitionStatus.OPEN:
            raise ScheduleError(str(_l("Repeated deliveries are for open petitions.")))
    plan = DeliverySchedule(petition_id=petition_id, target_id=target_id, next_at=at or now,
                            every_days=every_days, created_by=actor.user_id)
    db.session.add(plan)
    db.session.flush()
    audit.record("delivery.schedule", actor=actor, object_type="petition", object_id=petition_id,
                 target=target.slug, at=(at or now).isoformat(timespec="minutes"), every_days=every_days)
    if plan.next_at is not None and plan.next_at <= now:
        _run(plan, now)
    return plan


def cancel(schedule_id: int, *, actor: Principal) -> None:
    plan = db.session.get(DeliverySchedule, schedule_id)
    if plan is None:
        raise packets.PacketNotFound(schedule_id)
    petition = db.session.get(Petition, plan.petition_id)
    require_organiser(actor, petition.campaign_id if petition else None)
    if plan.cancelled_at is None:
        plan.cancelled_at, plan.next_at = utcnow(), None
        audit.record("delivery.cancel", actor=actor, object_type="petition", object_id=plan.petition_id,
                     schedule_id=plan.id)
        db.session.flush()


def run_due_schedules(now: datetime | None = None) -> int:
    """The periodic job: every schedule that has come due asks for its packet and a delivery. Flushes."""
    now = now or utcnow()
    due = list(db.session.scalars(select(DeliverySchedule).where(DeliverySchedule.next_at <= now,
                                                                 DeliverySchedule.cancelled_at.is_(None))
                                  .order_by(DeliverySchedule.next_at).limit(100)))
    for plan in due:
        _run(plan, now)
    return len(due)


def _run(plan: DeliverySchedule, now: datetime) -> None:
    petition = db.session.get(Petition, plan.petition_id)
    if petition is None or petition.status not in (PetitionStatus.OPEN, PetitionStatus.CLOSED):
        plan.next_at = None
        return
    packet = packets.request_packet(plan.petition_id, plan.target_id, actor=SYSTEM, cutoff=now)
    start(packet, schedule_id=plan.id)
    if plan.every_days and petition.status == PetitionStatus.OPEN:
        plan.next_at = now + timedelta(days=plan.every_days)
    else:
        plan.next_at = None
    db.session.flush()


# --- deliveries -----------------------------------------------------------------------------------------

def channel_problem(target: Target) -> str | None:
    """Why the target cannot receive packets yet, or None."""
    if target.delivery_channel == DeliveryChannel.WEBHOOK:
        if not target.webhook_url:
            return str(_l("This institution has no webhook address yet."))
        if db.session.get(WebhookSecret, target.id) is None:
            return str(_l("This institution’s webhook has no secret yet: make one on its page."))
        return None
    if not target.contact_email:
        return str(_l("This institution has no contact address yet."))
    return None


def start(packet: Packet, *, schedule_id: int | None = None) -> Delivery:
    """A delivery of this packet by its target's channel; sent at once if the packet is built, else when it is."""
    channel = (DeliveryChannelUsed.WEBHOOK if packet.target.delivery_channel == DeliveryChannel.WEBHOOK
               else DeliveryChannelUsed.EMAIL)
    delivery = Delivery(packet_id=packet.id, schedule_id=schedule_id, channel=channel,
                        webhook_id=f"msg_{packet.public_id}")
    db.session.add(delivery)
    db.session.flush()
    if packet.status == PacketStatus.READY:
        outbox.enqueue(DELIVER_ACTOR, delivery.id)
    return delivery


def redeliver(delivery_id: int, *, actor: Principal) -> Delivery:
    """Send a packet again (the same webhook id): an organiser's answer to a failed or lost delivery."""
    old = db.session.get(Delivery, delivery_id)
    if old is None:
        raise packets.PacketNotFound(delivery_id)
    require_organiser(actor, old.packet.petition.campaign_id)
    if old.packet.status != PacketStatus.READY:
        raise ScheduleError(str(_l("This packet’s files were deleted: ask for a new packet.")))
    delivery = start(old.packet, schedule_id=old.schedule_id)
    audit.record("delivery.redeliver", actor=actor, object_type="packet", object_id=old.packet_id,
                 delivery_id=delivery.id)
    return delivery


def packet_built(packet_id: int) -> int:
    """The build is done: send the deliveries that waited for it. Returns how many. Flushes."""
    waiting = list(db.session.scalars(select(Delivery.id).where(Delivery.packet_id == packet_id,
                                                                Delivery.status == DeliveryStatus.PENDING)))
    for delivery_id in waiting:
        outbox.enqueue(DELIVER_ACTOR, delivery_id)
    db.session.flush()
    return len(waiting)


def link(delivery: Delivery) -> str:
    """The packet in the console; the liaison logs in to download it. Valid for 14 days."""
    token = make_token(LINK_PURPOSE, [delivery.packet.public_id, delivery.id])
    return urls.external_url("packets_console.from_link", token=token)


def packet_from_link(token: str) -> str:
    """The packet id a link names (raises crypto's TokenExpired or TokenInvalid)."""
    public_id, _delivery_id = read_token(LINK_PURPOSE, token)
    return str(public_id)


def webhook_secret(target_id: int) -> str | None:
    row = db.session.get(WebhookSecret, target_id)
    if row is None:
        return None
    return keyring().decrypt(row.sealed, context=f"webhook_secrets\0sealed\0{target_id}".encode())


def new_webhook_secret(target_id: int, *, actor: Principal) -> str:
    """Make (or replace) the target's webhook secret and return it, to be shown once. Organisers of a campaign
    that addresses the target may do it, as they may edit the target. Flushes."""
    from advocacy.petitions import services as petitions

    petitions.require_target_editor(actor, target_id)
    secret = webhooks.new_secret()
    sealed = keyring().encrypt(secret, context=f"webhook_secrets\0sealed\0{target_id}".encode())
    row = db.session.get(WebhookSecret, target_id)
    if row is None:
        db.session.add(WebhookSecret(target_id=target_id, sealed=sealed))
    else:
        row.sealed, row.created_at = sealed, utcnow()
    audit.record("target.webhook_secret", actor=actor, object_type="target", object_id=target_id)
    db.session.flush()
    return secret


class DeliveryFailed(Exception):
    """This attempt failed; dramatiq tries again later. The message holds no personal data."""


def attempt(delivery_id: int, *, final: bool) -> bool:
    """Try a delivery once and record the attempt (committed by the caller even when this raises).

    True if delivered now, False if there was nothing to do (already delivered or failed). Raises
    DeliveryFailed when the attempt failed and it is not the last; the last failure marks the delivery failed
    and queues the organisers' alert instead.
    """
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return False
    packet = delivery.packet
    if packet.status != PacketStatus.READY:
        return False
    target = packet.target
    if delivery.channel == DeliveryChannelUsed.WEBHOOK:
        answer = _by_webhook(delivery, target)
    else:
        answer = _by_email(delivery, target)
    delivery.attempts += 1
    db.session.add(DeliveryAttempt(delivery_id=delivery.id, ok=answer.ok, outcome=answer.outcome[:200],
                                   duration_ms=answer.duration_ms))
    if answer.ok:
        delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.DELIVERED, utcnow(), None
        audit.record("packet.deliver", actor=SYSTEM, object_type="packet", object_id=packet.id,
                     delivery_id=delivery.id, channel=delivery.channel.value, outcome=answer.outcome)
        db.session.flush()
        return True
    delivery.last_error = answer.outcome[:300]
    if final:
        delivery.status = DeliveryStatus.FAILED
        audit.record("packet.deliver_failed", actor=SYSTEM, object_type="packet", object_id=packet.id,
                     delivery_id=delivery.id, channel=delivery.channel.value, outcome=answer.outcome,
                     attempts=delivery.attempts)
        outbox.enqueue(ALERT_ACTOR, delivery.id)
        db.session.flush()
        return False
    db.session.flush()
    raise DeliveryFailed(answer.outcome)


def _payload(delivery: Delivery) -> dict[str, Any]:
    packet = delivery.packet
    return {"type": "packet.delivered", "packet_id": packet.public_id, "manifest": packet.manifest,
            "download_url": link(delivery), "link_expires_in_days": 14}


def _by_webhook(delivery: Delivery, target: Target) -> webhooks.Answer:
    secret = webhook_secret(target.id)
    if secret is None or not target.webhook_url:
        return webhooks.Answer(False, "no webhook address or secret", 0)
    return webhooks.post(target.webhook_url, _payload(delivery), secret=secret, message_id=delivery.webhook_id,
                         allow_loopback=bool(current_app.config.get("WEBHOOK_ALLOW_LOOPBACK")))


def _by_email(delivery: Delivery, target: Target) -> webhooks.Answer:
    if not target.contact_email:
        return webhooks.Answer(False, "no contact address", 0)
    packet = delivery.packet
    locale = packets.build.target_locale(target)
    rendered = mail.render("packet_delivery", locale, target_name=target.display_name(locale),
                           petition_title=packet.petition.display_title(locale),
                           campaign_name=packet.petition.campaign.display_name(locale),
                           total=packet.total, listed=packet.listed, cutoff=packet.cutoff, link=link(delivery),
                           packet_id=packet.public_id)
    try:
        mail.send(mail.build_message(target.contact_email, rendered, locale=locale,
                                     message_key=f"delivery-{delivery.id}-{delivery.attempts}",
                                     sender_name=packet.petition.campaign.sender_name))
    except mail.DeliveryError as exc:
        return webhooks.Answer(False, f"email: {exc}", 0)
    return webhooks.Answer(True, "email sent", 0)


def alert_organisers(delivery_id: int) -> int:
    """Tell the campaign's organisers that a delivery failed for good; returns how many were told."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        return 0
    petition = delivery.packet.petition
    people = db.session.scalars(
        select(User).join(Grant, Grant.user_id == User.id)
        .where(Grant.role == Role.ORGANISER, Grant.campaign_id == petition.campaign_id, User.disabled_at.is_(None))
        .distinct()
    ).all()
    sent = 0
    for person in people:
        if not person.email:
            continue
        locale = next((code for code in petition.campaign.languages or () if code in SUPPORTED_LOCALES), "en")
        rendered = mail.render("delivery_failed", locale, petition_title=petition.display_title(locale),
                               target_name=delivery.packet.target.display_name(locale),
                               outcome=delivery.last_error or "", attempts=delivery.attempts,
                               link=urls.external_url("packets_console.petition_packets", petition_id=petition.id))
        mail.send(mail.build_message(person.email, rendered, locale=locale,
                                     message_key=f"delivery-failed-{delivery.id}-{person.id}"))
        sent += 1
    return sent


def deliveries_of_petition(petition_id: int) -> list[Delivery]:
    return list(db.session.scalars(select(Delivery).join(Packet, Packet.id == Delivery.packet_id)
                                   .where(Packet.petition_id == petition_id)
                                   .order_by(Delivery.created_at.desc(), Delivery.id.desc())))


def attempts_of(delivery_ids: list[int]) -> dict[int, list[DeliveryAttempt]]:
    found: dict[int, list[DeliveryAttempt]] = {}
    if delivery_ids:
        for row in db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(delivery_ids))
                                      .order_by(DeliveryAttempt.at, DeliveryAttempt.id)):
            found.setdefault(row.delivery_id, []).append(row)
    return found


def schedules_of_petition(petition_id: int) -> list[DeliverySchedule]:
    return list(db.session.scalars(select(DeliverySchedule).where(DeliverySchedule.petition_id == petition_id)
                                   .order_by(DeliverySchedule.created_at.desc(), DeliverySchedule.id.desc())))
