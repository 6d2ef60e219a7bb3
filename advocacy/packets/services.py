"""Signature packets as a service: who may export one, and the export itself (the zip is written by build.py).

``export`` is what ``advocacy packets build`` runs; the worker's build calls the same ``build.write``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, update

from advocacy.accounts.roles import SYSTEM, Forbidden, Principal, require_liaison, require_organiser
from advocacy.audit import services as audit
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.i18n import SUPPORTED_LOCALES
from advocacy.outbox import services as outbox
from advocacy.packets import build
from advocacy.packets.models import Packet, PacketChunk, PacketStatus, TargetResponse
from advocacy.packets.signing import packet_keys
from advocacy.petitions import services as petitions
from advocacy.petitions.models import Petition, PetitionStatus


class PacketError(ValueError):
    """The packet cannot be made; the message says why."""


def export(petition_slug: str, target_slug: str, cutoff: datetime, out: Path, *, actor: Principal) -> build.Built:
    """Write the packet to ``out`` (atomically: a reader never sees half a zip) and audit-log the export.

    Organisers of the petition's campaign (and admins, and the command line) may export. Flushes nothing but
    the audit entry; the caller commits.
    """
    try:
        petition = petitions.get_petition(petition_slug, include_drafts=True)
    except petitions.PetitionNotFound:
        raise PacketError(str(_l("There is no petition %(slug)s.", slug=petition_slug))) from None
    require_organiser(actor, petition.campaign_id)
    target = next((t for t in petition.targets if t.slug == target_slug), None)
    if target is None:
        raise PacketError(str(_l("The petition %(petition)s is not addressed to %(target)s.",
                                 petition=petition_slug, target=target_slug)))
    if petition.status not in (PetitionStatus.OPEN, PetitionStatus.CLOSED):
        raise PacketError(str(_l("The petition %(slug)s has not been published.", slug=petition_slug)))
    if cutoff > utcnow():
        raise PacketError(str(_l("The cut-off cannot be in the future.")))
    folder = out.resolve().parent
    if not folder.is_dir():
        raise PacketError(str(_l("The folder %(folder)s does not exist.", folder=str(folder))))
    fd, partial = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as stream:
            built = build.write(petition, target, cutoff, stream, packet_keys())
        os.chmod(partial, 0o600)  # it lists names: readable by the operator alone
        os.replace(partial, out)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    audit.record("packet.export", actor=actor, object_type="petition", object_id=petition.id,
                 target=target.slug, packet_id=built.packet_id, cutoff=build.cutoff_text(cutoff),
                 signatures=built.total, listed=built.listed)
    return built


# --- stored packets: asked for by organisers, built by the worker, downloaded by the target's liaison -----

CHUNK_BYTES = 1 << 20
MAX_RETENTION_DAYS = 3650
BUILD_ACTOR = "packets.build"


def request_packet(petition_id: int, target_id: int, *, actor: Principal, cutoff: datetime | None = None) -> Packet:
    """Ask the worker for a packet (cut-off: now). The same petition, target and cut-off is one packet: asking
    again returns it. Flushes; the caller commits, and the outbox then hands the build to the worker."""
    petition = db.session.get(Petition, petition_id)
    if petition is None:
        raise PacketNotFound(petition_id)
    require_organiser(actor, petition.campaign_id)
    target = next((t for t in petition.targets if t.id == target_id), None)
    if target is None:
        raise PacketError(str(_l("The petition %(petition)s is not addressed to %(target)s.",
                                 petition=petition.slug, target=str(target_id))))
    if petition.status not in (PetitionStatus.OPEN, PetitionStatus.CLOSED):
        raise PacketError(str(_l("The petition %(slug)s has not been published.", slug=petition.slug)))
    moment = (cutoff or utcnow()).replace(microsecond=0)
    if moment > utcnow():
        raise PacketError(str(_l("The cut-off cannot be in the future.")))
    existing = db.session.scalar(select(Packet).where(Packet.petition_id == petition_id,
                                                      Packet.target_id == target_id, Packet.cutoff == moment))
    if existing is not None:
        return existing
    packet = Packet(public_id=build.packet_id(petition, target, moment), petition_id=petition_id,
                    target_id=target_id, cutoff=moment, status=PacketStatus.QUEUED, requested_by=actor.user_id)
    db.session.add(packet)
    db.session.flush()
    outbox.enqueue(BUILD_ACTOR, packet.id)
    audit.record("packet.request", actor=actor, object_type="packet", object_id=packet.id,
                 petition=petition.slug, target=target.slug, cutoff=build.cutoff_text(moment))
    return packet


class PacketNotFound(LookupError):
    pass


def build_stored(packet_id: int, *, keep_alive: Callable[[], Any] | None = None) -> bool:
    """The worker's build: write the zip to a temporary file, batch by batch (calling ``keep_alive`` after each,
    so the outbox lease is extended), then store it in chunks and mark the packet ready. Idempotent: a packet
    that is not queued is left alone. Flushes; the caller commits."""
    packet = db.session.get(Packet, packet_id)
    if packet is None or packet.status != PacketStatus.QUEUED:
        return False
    with tempfile.TemporaryFile() as spool:
        built = build.write(packet.petition, packet.target, packet.cutoff, spool, packet_keys(),
                            on_batch=(lambda _done: keep_alive()) if keep_alive else None)
        spool.seek(0)
        digest, size = hashlib.sha256(), 0
        db.session.execute(delete(PacketChunk).where(PacketChunk.packet_id == packet_id))
        for seq, chunk in enumerate(iter(lambda: spool.read(CHUNK_BYTES), b"")):
            digest.update(chunk)
            size += len(chunk)
            # Core, not the ORM: the session keeps no copy of the chunks it has written
            db.session.execute(insert(PacketChunk), {"packet_id": packet_id, "seq": seq, "data": chunk})
    packet.status, packet.built_at = PacketStatus.READY, utcnow()
    packet.total, packet.listed, packet.manifest = built.total, built.listed, built.manifest
    packet.size, packet.sha256 = size, digest.hexdigest()
    audit.record("packet.build", actor=SYSTEM, object_type="packet", object_id=packet.id,
                 packet_id=packet.public_id, signatures=built.total, listed=built.listed)
    db.session.flush()
    return True


def _may_download(actor: Principal, packet: Packet) -> bool:
    # names are in it: the target's liaison and admins, not the campaign's organisers
    return actor.can_liaise(packet.target_id)


def packets_for(actor: Principal) -> list[Packet]:
    """The packets the actor may download: those of their targets (every packet for an admin), newest first."""
    query = select(Packet).order_by(Packet.created_at.desc(), Packet.id.desc())
    if not actor.is_admin:
        if not actor.target_ids:
            raise Forbidden()
        query = query.where(Packet.target_id.in_(actor.target_ids))
    return list(db.session.scalars(query.limit(500)))


def packet_for(public_id: str, *, actor: Principal) -> Packet:
    """A packet by its id, for someone who may download it; anyone else gets PacketNotFound, as if it did not
    exist (another target's packet id is never confirmed, however it is guessed)."""
    packet = db.session.scalar(select(Packet).where(Packet.public_id == public_id))
    if packet is None or not _may_download(actor, packet):
        raise PacketNotFound(public_id)
    return packet


def download(public_id: str, *, actor: Principal) -> tuple[Packet, Iterator[bytes]]:
    """The packet and its zip's bytes, chunk by chunk; audit-logged (the caller commits before streaming)."""
    packet = packet_for(public_id, actor=actor)
    if packet.status != PacketStatus.READY:
        raise PacketNotFound(public_id)
    audit.record("packet.download", actor=actor, object_type="packet", object_id=packet.id,
                 packet_id=packet.public_id, target_id=packet.target_id)
    return packet, _chunks(packet.id)


def _chunks(packet_id: int) -> Iterator[bytes]:
    seq = 0
    while True:
        data = db.session.scalar(select(PacketChunk.data).where(PacketChunk.packet_id == packet_id,
                                                                 PacketChunk.seq == seq))
        if data is None:
            return
        yield bytes(data)
        seq += 1


def mark_received(public_id: str, *, actor: Principal) -> Packet:
    packet = packet_for(public_id, actor=actor)
    if packet.received_at is None:
        packet.received_at, packet.received_by = utcnow(), actor.user_id
        audit.record("packet.received", actor=actor, object_type="packet", object_id=packet.id,
                     packet_id=packet.public_id)
        db.session.flush()
    return packet


RESPONSE_MAX = 20_000


def publish_response(petition_id: int, target_id: int, text: dict[str, str], *, actor: Principal) -> TargetResponse:
    """The institution's answer, per locale, shown on the petition's page and in the API. The liaison of the
    target publishes (and may correct) it; at least one language must have text."""
    require_liaison(actor, target_id)
    petition = db.session.get(Petition, petition_id)
    if petition is None or target_id not in {t.id for t in petition.targets}:
        raise PacketNotFound(petition_id)
    cleaned = {locale: value.strip() for locale, value in text.items()
               if locale in SUPPORTED_LOCALES and value and value.strip()}
    if not cleaned:
        raise PacketError(str(_l("Please write the response in at least one language.")))
    if any(len(value) > RESPONSE_MAX for value in cleaned.values()):
        raise PacketError(str(_l("A response can be at most %(max)d characters long.", max=RESPONSE_MAX)))
    response = db.session.scalar(select(TargetResponse).where(TargetResponse.petition_id == petition_id,
                                                              TargetResponse.target_id == target_id))
    if response is None:
        response = TargetResponse(petition_id=petition_id, target_id=target_id, published_by=actor.user_id)
        db.session.add(response)
    response.text, response.updated_at, response.published_by = cleaned, utcnow(), actor.user_id
    db.session.flush()
    audit.record("response.publish", actor=actor, object_type="petition", object_id=petition_id,
                 target_id=target_id, locales=sorted(cleaned))
    return response


def responses(petition_id: int) -> list[TargetResponse]:
    """The published responses to a petition, oldest first (public)."""
    return list(db.session.scalars(select(TargetResponse).where(TargetResponse.petition_id == petition_id)
                                   .order_by(TargetResponse.published_at, TargetResponse.id)))


def packets_of_petition(petition_id: int, *, actor: Principal) -> list[Packet]:
    """What the campaign's organisers see of a petition's packets: status, counts, receipt; never the zip."""
    petition = db.session.get(Petition, petition_id)
    if petition is None:
        raise PacketNotFound(petition_id)
    require_organiser(actor, petition.campaign_id)
    return list(db.session.scalars(select(Packet).where(Packet.petition_id == petition_id)
                                   .order_by(Packet.created_at.desc(), Packet.id.desc())))


def expire_packet_files(now: datetime | None = None) -> int:
    """The periodic job: delete the zips of packets whose petition's ``packet_retention_days`` have passed since
    their last delivery (or their build, if never delivered); the manifest, counts, receipts and delivery
    records stay. Returns how many packets lost their files. Flushes."""
    from advocacy.packets.models import Delivery, DeliveryStatus

    now = now or utcnow()
    last_delivery = (select(Delivery.packet_id, func.max(Delivery.delivered_at).label("at"))
                     .where(Delivery.status == DeliveryStatus.DELIVERED).group_by(Delivery.packet_id).subquery())
    rows = db.session.execute(
        select(Packet.id, Packet.built_at, last_delivery.c.at, Petition.packet_retention_days)
        .join(Petition, Petition.id == Packet.petition_id)
        .outerjoin(last_delivery, last_delivery.c.packet_id == Packet.id)
        .where(Packet.status == PacketStatus.READY)
    ).all()
    ids = [packet_id for packet_id, built_at, delivered_at, days in rows
           if (delivered_at or built_at) is not None and (delivered_at or built_at) + timedelta(days=days) < now]
    for packet_id in ids:
        db.session.execute(delete(PacketChunk).where(PacketChunk.packet_id == packet_id))
    if ids:
        db.session.execute(update(Packet).where(Packet.id.in_(ids))
                           .values(status=PacketStatus.EXPIRED, files_deleted_at=utcnow())
                           .execution_options(synchronize_session=False))
        db.session.flush()
    return len(ids)


def set_packet_retention(petition_id: int, days: int, *, actor: Principal) -> None:
    petition = db.session.get(Petition, petition_id)
    if petition is None:
        raise PacketNotFound(petition_id)
    require_organiser(actor, petition.campaign_id)
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise PacketError(str(_l("Keep packet files between 1 and %(max)d days.", max=MAX_RETENTION_DAYS)))
    if petition.packet_retention_days != days:
        audit.record("petition.packet_retention", actor=actor, object_type="petition", object_id=petition_id,
                     before=petition.packet_retention_days, after=days)
        # a setting, not the petition's text: no new version (the optimistic lock guards edits of the text)
        db.session.execute(update(Petition).where(Petition.id == petition_id).values(packet_retention_days=days)
                           .execution_options(synchronize_session=False))
        db.session.flush()
