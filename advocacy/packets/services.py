"""Signature packets as a service: who may export one, and the export itself (the zip is written by build.py).

``export`` is what ``advocacy packets build`` runs; the worker's build calls the same ``build.write``.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

from flask_babel import lazy_gettext as _l

from advocacy.accounts.roles import Principal, require_organiser
from advocacy.audit import services as audit
from advocacy.dbtypes import utcnow
from advocacy.packets import build
from advocacy.packets.signing import packet_keys
from advocacy.petitions import services as petitions
from advocacy.petitions.models import PetitionStatus


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
