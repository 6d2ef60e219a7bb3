"""Erase signers' personal data once a petition's retention period has passed; the counts stay.

A petition ends when it closes:
- at ``closes_at`` once that moment has passed, whatever its status (a petition closes by date);
- a petition closed by hand (status closed) with no ``closes_at``, or with one still in the future, has
  no recorded closing moment. It took no signature after it closed, so it ends at its last signature's
  ``created_at``: its data is kept ``retention_days`` after the last person gave it. (A petition closed
  by hand that nobody signed has nothing to erase.)
Open petitions without a past ``closes_at`` and drafts never end.

Once a run has erased everything, the petition records when (``personal_data_erased_at``) and later runs skip
it without reading its signatures, unless it ended again after that (reopened, signed and closed again).

``retention_days`` after the end, the name, email and postcode of every signature of the petition are set
to NULL, and so are its blind email index and its fraud signals (keyed hashes of address, network and email
domain, and the sealed domain). The rows, their state and country stay, so tallies and packets' counts do
not change; with no email they are never emailed again, and their petition is closed, so a pending one
can no longer be confirmed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update

from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.petitions.models import Petition, PetitionStatus
from advocacy.signatures.models import Signature

BATCH = 1000


def _not_erased() -> ColumnElement[bool]:
    return or_(
        Signature._full_name.is_not(None), Signature._email.is_not(None), Signature._postcode.is_not(None),
        Signature.email_index.is_not(None), Signature.domain_hash.is_not(None), Signature.ip_hash.is_not(None),
    )


def ended_at(petition: Petition, now: datetime, last_signed_at: datetime | None) -> datetime | None:
    """When the petition closed, as far as retention is concerned; None while it has not."""
    if petition.closes_at is not None and petition.closes_at <= now:
        return petition.closes_at
    if petition.status == PetitionStatus.CLOSED:
        return last_signed_at
    return None


def due_petitions(now: datetime | None = None) -> list[int]:
    """Ids of the petitions whose retention period is over (whether or not anything is left to erase)."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(Petition)
        .where(Petition.status != PetitionStatus.DRAFT,
               or_(Petition.closes_at <= now, Petition.status == PetitionStatus.CLOSED))
        .order_by(Petition.id)
    ).all()
    due = []
    for petition in candidates:
        last_signed_at = None
        if petition.closes_at is None or petition.closes_at > now:  # closed by hand: only then is it needed
            last_signed_at = db.session.scalar(
                select(func.max(Signature.created_at)).where(Signature.petition_id == petition.id))
        end = ended_at(petition, now, last_signed_at)
        if end is None or end + timedelta(days=petition.retention_days) > now:
            continue
        erased = petition.personal_data_erased_at
        if erased is not None and erased >= end:
            continue  # erased after it ended: nothing can have been added since
        due.append(petition.id)
    return due


def erase_after_retention(now: datetime | None = None, *, batch: int = BATCH) -> int:
    """The periodic job: erase what is due; returns how many signatures were erased. Flushes, never commits."""
    now = now or utcnow()
    erased = 0
    for petition_id in due_petitions(now):
        last = 0
        while True:
            # on from the last batch's id: without it each batch read again every row erased before it
            # (quadratic: a million signatures took hours)
            ids = list(db.session.scalars(
                select(Signature.id)
                .where(Signature.petition_id == petition_id, Signature.id > last, _not_erased())
                .order_by(Signature.id)
                .limit(batch)
            ))
            if not ids:
                break
            last = ids[-1]
            db.session.execute(
                update(Signature)
                .where(Signature.id.in_(ids))
                .values({Signature._full_name: None, Signature._email: None, Signature._postcode: None,
                         Signature.email_index: None, Signature.ip_hash: None, Signature.network_hash: None,
                         Signature.domain_hash: None, Signature._email_domain: None})
                .execution_options(synchronize_session=False)
            )
            erased += len(ids)
        # system bookkeeping, not an edit: the petition's version (and an organiser's open form) stay as they are
        db.session.execute(update(Petition.__table__).where(Petition.__table__.c.id == petition_id)
                           .values(personal_data_erased_at=now))
    db.session.flush()
    # objects this session already holds must not keep showing the erased values
    db.session.expire_all()
    return erased
