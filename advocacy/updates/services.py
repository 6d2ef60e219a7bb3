"""Updates to signers: write, submit, approve by another person, send in batches, unsubscribe, milestones.

Services flush and never commit; the view, actor or job commits. Sending is at most once per recipient: the
actor claims a recipient (an ``update_deliveries`` row, unique per update and signature) and COMMITS the claim
before it hands the mail to the server. A worker that dies between the two leaves a claimed row without
``sent_at``: that person misses this update rather than ever getting it twice, and the page counts such rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from advocacy import mail
from advocacy.accounts.roles import Forbidden, Principal, require_organiser
from advocacy.audit.services import record
from advocacy.crypto import make_token
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.i18n import SUPPORTED_LOCALES, country_name, localized
from advocacy.outbox import services as outbox
from advocacy.petitions.markdown import render as render_markdown
from advocacy.petitions.models import Petition, PetitionStatus
from advocacy.signatures.models import Signature, SignatureState
from advocacy.updates.models import Update, UpdateDelivery, UpdateKind, UpdateStatus

log = logging.getLogger(__name__)

SEND_BATCH_ACTOR = "updates.send_batch"
SUBJECT_MAX = 200
BODY_MAX = 20_000
BATCH_EVERY = timedelta(minutes=1)
EDITABLE = (UpdateStatus.DRAFT, UpdateStatus.REJECTED)
SENDABLE = (UpdateStatus.APPROVED, UpdateStatus.SENDING)


class UpdateNotFound(LookupError):
    pass


class Rejected(ValueError):
    """What was given cannot be stored; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class StaleEdit(Exception):
    """Someone changed the update since the editor read it; nothing was changed."""

    def __init__(self, current_version: int) -> None:
        super().__init__(str(_("Someone changed this update since you opened it. Reload it and make your changes "
                               "again.")))
        self.current_version = current_version


class InvalidTransition(ValueError):
    """The update is not in a status this step starts from."""


_STATUS_LABELS = {
    UpdateStatus.DRAFT: _l("a draft"),
    UpdateStatus.SUBMITTED: _l("submitted for approval"),
    UpdateStatus.APPROVED: _l("approved, waiting to be sent"),
    UpdateStatus.SENDING: _l("being sent"),
    UpdateStatus.SENT: _l("sent"),
    UpdateStatus.REJECTED: _l("rejected"),
}


def status_label(status: UpdateStatus | str) -> str:
    return str(_STATUS_LABELS[UpdateStatus(status)])


# --- reading -----------------------------------------------------------------------------------------------

def _petition(petition_id: int) -> Petition:
    petition = db.session.get(Petition, petition_id)
    if petition is None:
        raise UpdateNotFound(f"no petition {petition_id}")
    return petition


def get_update(update_id: int, *, actor: Principal) -> Update:
    """An update of a petition the actor organises (Forbidden otherwise)."""
    found = db.session.get(Update, update_id)
    if found is None:
        raise UpdateNotFound(update_id)
    require_organiser(actor, _petition(found.petition_id).campaign_id)
    return found


def updates_of(petition_id: int, *, actor: Principal) -> list[Update]:
    require_organiser(actor, _petition(petition_id).campaign_id)
    return list(db.session.scalars(select(Update).where(Update.petition_id == petition_id)
                                   .order_by(Update.created_at.desc(), Update.id.desc())))


def update_locales(petition: Petition) -> list[str]:
    """The languages to write an update in: the campaign's that the site speaks, else all of them."""
    wanted = set(petition.campaign.languages or []) | set(petition.title)
    return [locale for locale in SUPPORTED_LOCALES if locale in wanted] or list(SUPPORTED_LOCALES)


def _recipients(petition_id: int) -> Any:
    """Who may get news of a petition: confirmed, opted in, not erased, not held back as suspect."""
    return (Signature.petition_id == petition_id, Signature.state == SignatureState.CONFIRMED,
            Signature.opt_in_news.is_(True), Signature._email.is_not(None), Signature.suspect.is_(False))


def count_recipients(petition_id: int) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Signature).where(*_recipients(petition_id))) or 0)


@dataclass(frozen=True)
class Progress:
    total: int | None
    sent: int
    failed: int
    unknown: int  # claimed by a worker that stopped before it knew the outcome: never sent again


def progress(update_ids: list[int]) -> dict[int, Progress]:
    totals = dict(db.session.execute(select(Update.id, Update.recipients_total)
                                     .where(Update.id.in_(update_ids))).all()) if update_ids else {}
    rows = db.session.execute(
        select(UpdateDelivery.update_id, func.count(UpdateDelivery.sent_at),
               func.count(UpdateDelivery.failure), func.count())
        .where(UpdateDelivery.update_id.in_(update_ids)).group_by(UpdateDelivery.update_id)
    ).all() if update_ids else []
    counts = {uid: (int(sent), int(failed), int(all_) - int(sent) - int(failed)) for uid, sent, failed, all_ in rows}
    return {uid: Progress(totals.get(uid), *counts.get(uid, (0, 0, 0))) for uid in update_ids}


# --- writing and moderation --------------------------------------------------------------------------------

def _texts(petition: Petition, subject: Mapping[str, str], body: Mapping[str, str]) -> tuple[dict[str, str],
                                                                                          dict[str, str]]:
    errors: dict[str, str] = {}
    subjects = {k: " ".join(v.split()) for k, v in (subject or {}).items() if v and v.strip()}
    bodies = {k: v.strip() for k, v in (body or {}).items() if v and v.strip()}
    allowed = set(update_locales(petition))
    for locale in sorted(set(subjects) | set(bodies)):
        if locale not in allowed:
            errors[f"subject_{locale}"] = _("This petition’s campaign does not write in this language.")
        elif locale not in subjects:
            errors[f"subject_{locale}"] = _("Give a subject for this language, or leave its text empty.")
        elif locale not in bodies:
            errors[f"body_{locale}"] = _("Write the text for this language, or leave its subject empty.")
        elif len(subjects[locale]) > SUBJECT_MAX:
            errors[f"subject_{locale}"] = _("A subject is at most %(max)s characters.", max=SUBJECT_MAX)
        elif len(bodies[locale]) > BODY_MAX:
            errors[f"body_{locale}"] = _("At most %(max)s characters per language.", max=BODY_MAX)
    if not subjects and not bodies:
        errors["subject"] = _("Write the update in at least one language.")
    if errors:
        raise Rejected(errors)
    return subjects, bodies


def create_update(petition_id: int, *, actor: Principal, subject: Mapping[str, str],
                  body: Mapping[str, str]) -> Update:
    """A draft update to the signers of a petition who opted in to news."""
    petition = _petition(petition_id)
    require_organiser(actor, petition.campaign_id)
    subjects, bodies = _texts(petition, subject, body)
    found = Update(petition_id=petition.id, kind=UpdateKind.MANUAL, subject=subjects, body=bodies,
                   status=UpdateStatus.DRAFT, author_user_id=actor.user_id, version=1, cursor=0)
    db.session.add(found)
    db.session.flush()
    record("update.created", actor=actor, object_type="update", object_id=found.id, petition_id=petition.id)
    return found


def _bump(found: Update, version: int, values: dict[str, Any]) -> None:
    """Apply ``values`` if the update is still at ``version`` (in this process and in any other)."""
    result = db.session.execute(
        update(Update).where(Update.id == found.id, Update.version == version)
        .values(version=version + 1, **values).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.expire(found)
        raise StaleEdit(found.version)
    db.session.expire(found)
    db.session.flush()


def edit_update(update_id: int, *, actor: Principal, version: int, subject: Mapping[str, str],
                body: Mapping[str, str]) -> Update:
    """Change the text of a draft or rejected update, made on ``version``."""
    found = get_update(update_id, actor=actor)
    if found.status not in EDITABLE:
        raise InvalidTransition(_("Only a draft or a rejected update can be changed; this one is %(status)s.",
                                  status=status_label(found.status)))
    subjects, bodies = _texts(_petition(found.petition_id), subject, body)
    _bump(found, version, {"subject": subjects, "body": bodies})
    record("update.edited", actor=actor, object_type="update", object_id=found.id)
    return found


def submit_update(update_id: int, *, actor: Principal, version: int) -> Update:
    """Ask another organiser to approve it: draft or rejected → submitted."""
    found = get_update(update_id, actor=actor)
    if found.status not in EDITABLE:
        raise InvalidTransition(_("Only a draft or a rejected update can be submitted; this one is %(status)s.",
                                  status=status_label(found.status)))
    _bump(found, version, {"status": UpdateStatus.SUBMITTED, "submitted_by_user_id": actor.user_id,
                           "submitted_at": utcnow(), "rejection_reason": None})
    record("update.submitted", actor=actor, object_type="update", object_id=found.id)
    return found


def _another_person(found: Update, actor: Principal, message: str) -> None:
    if actor.user_id is not None and actor.user_id in (found.author_user_id, found.submitted_by_user_id):
        raise Forbidden(message)


def approve_update(update_id: int, *, actor: Principal) -> Update:
    """Another organiser of the campaign (or an admin) approves: the worker starts sending it at once."""
    found = get_update(update_id, actor=actor)
    if found.status != UpdateStatus.SUBMITTED:
        raise InvalidTransition(_("Only a submitted update can be approved; this one is %(status)s.",
                                  status=status_label(found.status)))
    _another_person(found, actor, _("Another person must approve an update you wrote or submitted."))
    _bump(found, found.version, {"status": UpdateStatus.APPROVED, "approved_by_user_id": actor.user_id,
                                 "approved_at": utcnow()})
    record("update.approved", actor=actor, object_type="update", object_id=found.id)
    outbox.enqueue(SEND_BATCH_ACTOR, found.id)
    return found


def reject_update(update_id: int, *, actor: Principal, reason: str) -> Update:
    found = get_update(update_id, actor=actor)
    if found.status != UpdateStatus.SUBMITTED:
        raise InvalidTransition(_("Only a submitted update can be rejected; this one is %(status)s.",
                                  status=status_label(found.status)))
    _another_person(found, actor, _("Another person must review an update you wrote or submitted."))
    text = (reason or "").strip()
    if not text:
        raise Rejected({"reason": _("Say why it is rejected: its author will read it.")})
    _bump(found, found.version, {"status": UpdateStatus.REJECTED, "rejection_reason": text[:5000]})
    record("update.rejected", actor=actor, object_type="update", object_id=found.id)
    return found


def set_milestone_emails(petition_id: int, *, actor: Principal, enabled: bool) -> Petition:
    """Switch the automatic emails about reached goals on or off for one petition."""
    petition = _petition(petition_id)
    require_organiser(actor, petition.campaign_id)
    if petition.milestone_emails != enabled:
        petition.milestone_emails = enabled
        db.session.flush()
        record("petition.milestone_emails", actor=actor, object_type="petition", object_id=petition.id,
               enabled=enabled)
    return petition


# --- milestones --------------------------------------------------------------------------------------------

def _milestones(petition: Petition, total: int, by_country: Mapping[str, int]) -> list[str]:
    reached = []
    if petition.goal and total >= petition.goal:
        reached.append(f"goal:{petition.goal}")
    for code, goal in sorted((petition.country_goals or {}).items()):
        if goal and by_country.get(code, 0) >= goal:
            reached.append(f"country:{code}:{goal}")
    return reached


def detect_milestones() -> int:
    """The periodic job: a milestone update (approved by the system) for each goal newly reached by an open
    petition with milestone emails on; once per milestone. Returns how many were created."""
    from advocacy.tallies import services as tallies

    created = 0
    petitions = db.session.scalars(select(Petition).where(Petition.milestone_emails.is_(True),
                                                          Petition.status == PetitionStatus.OPEN))
    for petition in list(petitions):
        counted = tallies.tally(petition.id)
        reached = _milestones(petition, counted.total, counted.by_country)
        if not reached:
            continue
        known = set(db.session.scalars(select(Update.milestone).where(Update.petition_id == petition.id,
                                                                        Update.milestone.in_(reached))))
        for key in reached:
            if key in known:
                continue
            update_id = _insert_once(Update, {
                "petition_id": petition.id, "kind": UpdateKind.MILESTONE, "milestone": key, "subject": {}, "body": {},
                "status": UpdateStatus.APPROVED, "approved_at": utcnow(), "created_at": utcnow(), "version": 1,
                "cursor": 0}, ["petition_id", "milestone"])
            if update_id is None:
                continue  # another process made it first
            record("update.milestone", actor=None, object_type="update", object_id=update_id,
                   petition_id=petition.id, milestone=key)
            outbox.enqueue(SEND_BATCH_ACTOR, update_id)
            created += 1
    db.session.flush()
    return created


# --- rendering ---------------------------------------------------------------------------------------------

def recipient_locale(found: Update, petition: Petition, signer_locale: str | None) -> str:
    """The signer's language if the update has it; else the campaign's first language it has; else English;
    else its first language."""
    have = list(SUPPORTED_LOCALES) if found.kind == UpdateKind.MILESTONE else \
        [locale for locale in SUPPORTED_LOCALES if locale in found.subject]
    if signer_locale in have:
        return str(signer_locale)
    for locale in [*(petition.campaign.languages or []), "en"]:
        if locale in have:
            return locale
    return have[0] if have else "en"


def _milestone_context(found: Update, locale: str) -> dict[str, Any]:
    parts = (found.milestone or "").split(":")
    if parts[0] == "country" and len(parts) == 3:
        return {"milestone_kind": "country", "country": country_name(parts[1], locale), "goal": int(parts[2])}
    return {"milestone_kind": "goal", "country": None, "goal": int(parts[-1] or 0)}


def render_email(found: Update, locale: str, *, unsubscribe_url: str) -> mail.RenderedEmail:
    """The email of an update in one language, as a recipient gets it (the console's preview too)."""
    from advocacy import urls

    petition = _petition(found.petition_id)
    context: dict[str, Any] = {
        "petition_title": petition.display_title(locale),
        "petition_url": urls.external_url("petitions.show", slug=petition.slug, lang=locale),
        "campaign_name": petition.campaign.display_name(locale),
        "campaign_footer": localized(petition.campaign.email_footer, locale),
        "site_url": current_app.config["BASE_URL"],
        "unsubscribe_url": unsubscribe_url,
    }
    if found.kind == UpdateKind.MILESTONE:
        context.update(_milestone_context(found, locale))
        return mail.render("milestone", locale, **context)
    context.update(update_subject=found.subject.get(locale, ""), body_text=found.body.get(locale, ""),
                   body_html=render_markdown(found.body.get(locale, "")))
    return mail.render("update", locale, **context)


def unsubscribe_token(signature_id: int) -> str:
    return make_token("unsubscribe-news", signature_id)


def unsubscribe_url(signature_id: int, locale: str) -> str:
    from advocacy import urls

    return urls.external_url("updates.unsubscribe", token=unsubscribe_token(signature_id), lang=locale)


def unsubscribe(signature_id: int) -> bool:
    """No more news to this signature (its other choices stay); True if it was opted in."""
    result = db.session.execute(
        update(Signature).where(Signature.id == signature_id, Signature.opt_in_news.is_(True))
        .values(opt_in_news=False).execution_options(synchronize_session=False))
    db.session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- sending -----------------------------------------------------------------------------------------------

def due_updates(now: datetime | None = None) -> list[int]:
    """Updates whose next batch may start."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Update.id).where(Update.status.in_(SENDABLE),
                                or_(Update.next_batch_at.is_(None), Update.next_batch_at <= now))
        .order_by(Update.id)))


def enqueue_due(now: datetime | None = None) -> int:
    """The periodic job: a batch for every update that may send its next one (the actor re-checks)."""
    ids = due_updates(now)
    for update_id in ids:
        outbox.enqueue(SEND_BATCH_ACTOR, update_id)
    db.session.flush()
    return len(ids)


def open_batch(update_id: int, per_minute: int, now: datetime | None = None) -> int:
    """Take this minute's batch of an update: how many it may send now (0: not now, or nothing to do).

    One batch per update per minute, whoever asks (a conditional UPDATE lets one caller through); the rate is
    shared by all updates being sent. The first batch fixes the recipients (signatures up to the newest id).
    """
    now = now or utcnow()
    found = db.session.get(Update, update_id)
    if found is None or found.status not in SENDABLE:
        return 0
    result = db.session.execute(
        update(Update).where(Update.id == update_id, Update.status.in_(SENDABLE),
                             or_(Update.next_batch_at.is_(None), Update.next_batch_at <= now))
        .values(next_batch_at=now + BATCH_EVERY).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    db.session.refresh(found)
    if found.status == UpdateStatus.APPROVED:
        newest = db.session.scalar(select(func.max(Signature.id)).where(Signature.petition_id == found.petition_id))
        found.last_signature_id = int(newest or 0)
        found.recipients_total = count_recipients(found.petition_id)
        found.status = UpdateStatus.SENDING
        found.started_at = now
        record("update.sending", actor=None, object_type="update", object_id=found.id,
               recipients=found.recipients_total)
    db.session.flush()
    sending = int(db.session.scalar(select(func.count()).select_from(Update)
                                    .where(Update.status == UpdateStatus.SENDING)) or 1)
    return max(1, per_minute // max(sending, 1))


def next_recipients(update_id: int, limit: int) -> list[tuple[int, str]]:
    """The next recipients after the cursor (signature id, locale), keyset by id."""
    found = db.session.get(Update, update_id)
    if found is None or found.status != UpdateStatus.SENDING:
        return []
    rows = db.session.execute(
        select(Signature.id, Signature.locale).where(*_recipients(found.petition_id), Signature.id > found.cursor,
                                                     Signature.id <= (found.last_signature_id or 0))
        .order_by(Signature.id).limit(limit)).all()
    return [(int(sid), str(locale)) for sid, locale in rows]


def claim(update_id: int, signature_id: int, signer_locale: str) -> int | None:
    """Record that this recipient gets the update, before sending; None if somebody claimed it already."""
    found = db.session.get(Update, update_id)
    if found is None:
        return None
    locale = recipient_locale(found, _petition(found.petition_id), signer_locale)
    delivery_id = _insert_once(UpdateDelivery, {"update_id": update_id, "signature_id": signature_id,
                                                "locale": locale, "claimed_at": utcnow()},
                               ["update_id", "signature_id"])
    db.session.execute(update(Update).where(Update.id == update_id, Update.cursor < signature_id)
                       .values(cursor=signature_id).execution_options(synchronize_session=False))
    db.session.flush()
    return delivery_id


def _insert_once(model: Any, values: dict[str, Any], unique: list[str]) -> int | None:
    """INSERT unless the unique columns exist already (ON CONFLICT DO NOTHING); the new row's id, or None."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=unique).returning(model.id)
    return db.session.scalar(stmt)


def deliver(delivery_id: int) -> bool:
    """Send one claimed delivery if its signer still qualifies; raises the transport's DeliveryError."""
    delivery = db.session.get(UpdateDelivery, delivery_id)
    if delivery is None or delivery.sent_at is not None or delivery.failure is not None:
        return False
    found = db.session.get(Update, delivery.update_id)
    signature = db.session.get(Signature, delivery.signature_id)
    if found is None or signature is None:
        return False
    db.session.refresh(signature)  # re-check now: withdrawn, unsubscribed or erased a moment ago gets nothing
    if (signature.state != SignatureState.CONFIRMED or not signature.opt_in_news or signature._email is None
            or signature.suspect):
        delivery.failure = "no longer a recipient"
        db.session.flush()
        return False
    petition = _petition(found.petition_id)
    link = unsubscribe_url(signature.id, delivery.locale)
    rendered = render_email(found, delivery.locale, unsubscribe_url=link)
    address = signature.email
    if address is None:
        return False
    message = mail.build_message(
        address, rendered, locale=delivery.locale, message_key=f"update-{found.id}-{signature.id}",
        list_unsubscribe=link, one_click_unsubscribe=True,
        sender_name=petition.campaign.sender_name or petition.campaign.display_name(delivery.locale))
    message["Precedence"] = "bulk"
    mail.send(message)
    delivery.sent_at = utcnow()
    db.session.flush()
    return True


def mark_failed(delivery_id: int, failure: str) -> None:
    db.session.execute(update(UpdateDelivery).where(UpdateDelivery.id == delivery_id)
                       .values(failure=failure[:40]).execution_options(synchronize_session=False))
    db.session.flush()


def finish_if_done(update_id: int) -> bool:
    """Sent once no recipient is left after the cursor."""
    found = db.session.get(Update, update_id)
    if found is None or found.status != UpdateStatus.SENDING:
        return False
    if next_recipients(update_id, 1):
        return False
    found.status = UpdateStatus.SENT
    found.finished_at = utcnow()
    counts = progress([found.id])[found.id]
    record("update.sent", actor=None, object_type="update", object_id=found.id, sent=counts.sent,
           failed=counts.failed, unknown=counts.unknown)
    db.session.flush()
    return True
