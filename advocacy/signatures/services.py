"""Signing with double opt-in, confirmation, withdrawal and invalidation.

A repeat signer gets the same answer as a new one; what differs is the email that follows, so the page
never tells anybody whether an address has signed.
"""

from __future__ import annotations

import dataclasses
import enum
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, bindparam, delete, literal, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import SessionTransaction

from advocacy import mail
from advocacy.cache import TTLCache
from advocacy.crypto import TOKEN_PURPOSES, Sealed, canonical_email, keyring, make_token, new_seal_id, seal_context
from advocacy.dbtypes import utcnow
from advocacy.extensions import autocommit_connection, db, reading_connection
from advocacy.fraud import services as fraud
from advocacy.i18n import SUPPORTED_LOCALES, is_country, localized
from advocacy.outbox import services as outbox
from advocacy.petitions.models import PUBLIC_STATUSES, Petition, PetitionStatus
from advocacy.signatures.models import Signature, SignatureState
from advocacy.tallies import services as tallies

NAME_MAX = 100
POSTCODE_MAX = 12
EMAIL_MAX = 254
# emails one signature may cause in a day: the first confirmation and two re-sends
EMAILS_PER_WINDOW = 3
EMAIL_WINDOW = timedelta(hours=24)
SEND_EMAIL_ACTOR = "send_signature_email"

# A leading =, +, - or @ turns a cell into a formula when a packet is opened in a spreadsheet.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "|", "%")


class EmailKind(enum.StrEnum):
    CONFIRM = "confirm"
    ALREADY_SIGNED = "already_signed"
    CONFIRMED = "confirmed"
    WITHDRAW_LINK = "withdraw_link"


class SignOutcome(enum.StrEnum):
    NEW = "new"                        # stored as pending, confirmation on its way
    RESENT = "resent"                  # still pending: the confirmation is sent again
    ALREADY_SIGNED = "already_signed"  # confirmed before: an "already signed" email goes out
    CAPPED = "capped"                  # too many emails for this signature today: nothing is sent
    SUPPRESSED = "suppressed"          # invalidated signature: nothing is sent


class NewLinkOutcome(enum.StrEnum):
    CONFIRM_SENT = "confirm_sent"      # still pending: the confirmation link is sent again
    WITHDRAW_SENT = "withdraw_sent"    # confirmed: a link to take the signature back is sent
    CAPPED = "capped"                  # too many emails for this signature today: nothing is sent
    NOTHING = "nothing"                # no signature to send a link for (never signed, withdrawn, invalidated)


class ConfirmOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    NOT_PENDING = "not_pending"        # withdrawn or invalidated: it cannot be confirmed any more
    PETITION_CLOSED = "petition_closed"


class WithdrawOutcome(enum.StrEnum):
    WITHDRAWN = "withdrawn"
    ALREADY_WITHDRAWN = "already_withdrawn"
    NOT_WITHDRAWABLE = "not_withdrawable"


class SignatureRejected(ValueError):
    """The input cannot be signed; ``errors`` maps field names to translated messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("signature rejected")
        self.errors = errors


# withdrawal and the retention period erase the fraud signals with the personal data
FRAUD_SIGNALS_ERASED: dict[Any, None] = {Signature.ip_hash: None, Signature.network_hash: None,
                                         Signature.domain_hash: None, Signature._email_domain: None}


class SignatureNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Signer:
    full_name: str
    email: str
    country: str
    locale: str
    postcode: str | None = None
    consent_share_name: bool = False
    opt_in_news: bool = False


# --- validation: one set of rules, used by the form and enforced again here -----------------------

def clean_full_name(value: str | None) -> str:
    name = unicodedata.normalize("NFC", (value or "").strip())
    if not name:
        raise ValueError(_l("Please enter your full name."))
    if len(name) > NAME_MAX:
        raise ValueError(_l("Your name can be at most %(max)d characters long.", max=NAME_MAX))
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in name):
        raise ValueError(_l("Your name must be on one line, without control characters."))
    if name.startswith(_FORMULA_PREFIXES):
        raise ValueError(_l("Your name cannot start with =, +, -, @, | or %."))
    if not any(ch.isalpha() for ch in name):
        raise ValueError(_l("Please enter your name in letters."))
    return " ".join(name.split())


def clean_email(value: str | None) -> str:
    address = (value or "").strip()
    if not address:
        raise ValueError(_l("Please enter your email address."))
    if len(address) > EMAIL_MAX:
        raise ValueError(_l("This email address is too long."))
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(_l("Please enter a valid email address, like name@example.org.")) from exc
    return str(result.normalized)


def clean_country(value: str | None) -> str:
    code = (value or "").strip().upper()
    if not code:
        raise ValueError(_l("Please choose your country."))
    if not is_country(code):
        raise ValueError(_l("Please choose a country from the list."))
    return code


def clean_postcode(value: str | None, *, required: bool) -> str | None:
    postcode = " ".join((value or "").split()).upper()
    if not postcode:
        if required:
            raise ValueError(_l("Please enter your postcode."))
        return None
    if len(postcode) > POSTCODE_MAX or not all(ch.isalnum() or ch in " -" for ch in postcode):
        raise ValueError(_l("A postcode has at most %(max)d letters, digits, spaces or hyphens.", max=POSTCODE_MAX))
    return postcode


def validate_signer(petition: Petition | SigningPetition, signer: Signer) -> Signer:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, object] = {}
    checks = {
        "full_name": lambda: clean_full_name(signer.full_name),
        "email": lambda: clean_email(signer.email),
        "country": lambda: clean_country(signer.country),
        "postcode": lambda: clean_postcode(signer.postcode, required=petition.postcode_required),
    }
    for field, check in checks.items():
        try:
            cleaned[field] = check()
        except ValueError as exc:
            errors[field] = [str(exc)]
    if not petition.is_open():
        errors.setdefault("petition", []).append(str(_l("This petition is closed and no longer takes signatures.")))
    if errors:
        raise SignatureRejected(errors)
    locale = signer.locale if signer.locale in SUPPORTED_LOCALES else "en"
    return Signer(
        full_name=str(cleaned["full_name"]), email=str(cleaned["email"]), country=str(cleaned["country"]),
        postcode=cleaned["postcode"] if cleaned["postcode"] else None,  # type: ignore[arg-type]
        locale=locale, consent_share_name=bool(signer.consent_share_name), opt_in_news=bool(signer.opt_in_news),
    )


def email_index(petition_id: int, address: str) -> str:
    """Keyed per petition, so the same person cannot be linked across petitions from the database alone."""
    return keyring().blind_index(canonical_email(address), purpose=f"signature-email:{petition_id}")


# --- flows ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SigningPetition:
    """What signing and confirming need of a petition, read with one small statement (not the whole
    petition): its id, slug and title, whether it takes signatures, whether it asks for a postcode, and its
    fraud thresholds."""

    id: int
    slug: str
    title: dict[str, str]
    status: PetitionStatus
    closes_at: datetime | None
    postcode_required: bool
    fraud_window_minutes: int
    fraud_limit_address: int
    fraud_limit_network: int
    fraud_limit_domain: int

    def is_open(self, now: datetime | None = None) -> bool:
        """As ``Petition.is_open``."""
        if self.status != PetitionStatus.OPEN:
            return False
        return self.closes_at is None or (now or utcnow()) < self.closes_at


_FACTS: dict[str, Any] = {}
_PETITION_FIELDS = dataclasses.fields(SigningPetition)


def signing_petition(*, slug: str | None = None, petition_id: int | None = None) -> SigningPetition | None:
    """The public (open or closed) petition with this slug, or the petition with this id (any status), as
    signing needs it; None if there is none."""
    by = "slug" if slug is not None else "id"
    statement = _FACTS.get(by)
    if statement is None:
        table = Petition.__table__
        columns = [table.c[field.name] for field in _PETITION_FIELDS]
        condition = table.c.slug == bindparam("slug") if by == "slug" else table.c.id == bindparam("petition_id")
        statement = _FACTS[by] = select(*columns).where(condition)
    params = {"slug": slug} if by == "slug" else {"petition_id": petition_id}
    row = db.session.connection().execute(statement, params).first()  # Core on the session's transaction
    if row is None:
        return None
    found = SigningPetition(**row._mapping)
    if slug is not None and found.status not in PUBLIC_STATUSES:
        return None
    return found


_shared_facts: TTLCache[SigningPetition | None] = TTLCache(maxsize=1024)


def signing_petition_shared(slug: str) -> SigningPetition | None:
    """``signing_petition(slug=…)`` shared by the sign POSTs of the page cache's few seconds, as the page
    they were sent from is: a burst of signatures reads the petition once. A petition that opens, closes or
    is edited empties it in this process at once (advocacy.petitions.services), other processes within
    those seconds; a signature taken in them still needs confirming, which reads the petition afresh."""
    return _shared_facts.get_or_make(slug, float(current_app.config["PAGE_CACHE_SECONDS"]),
                                     lambda: signing_petition(slug=slug))


def sign(petition_id: int, signer: Signer, *, client_address: str | None = None,
         petition: SigningPetition | None = None, standalone: bool = False) -> SignOutcome:
    """Store a pending signature or answer a repeat; flushes, the caller commits.

    ``client_address`` (the request's, after the trusted proxies) is only turned into keyed fraud signals
    (advocacy.fraud.services): it is never stored, logged or queued as it is.

    A new signer, by far the most frequent case, costs one INSERT of the sealed row (SQLAlchemy Core, ``ON
    CONFLICT DO NOTHING`` on the petition's email index) with its outbox row: on PostgreSQL both in one
    statement, on SQLite one after the other, in the caller's transaction. Only when the address has signed
    before (the insert gave no row) is the stored signature loaded and answered as a repeat.

    ``standalone``: the caller's unit of work is this signature and nothing else (the sign POST). On
    PostgreSQL that one statement then commits by itself, outside the session, without the round trips of
    ``BEGIN`` and ``COMMIT``; the caller still commits the session, which hands the outbox row to the broker.
    A repeat, and every signature on SQLite, is written in the caller's transaction either way.
    """
    if petition is None or petition.id != petition_id:
        petition = signing_petition(petition_id=petition_id)
    if petition is None:
        raise SignatureNotFound(petition_id)
    clean = validate_signer(petition, signer)
    index = email_index(petition_id, clean.email)
    if _insert_pending(petition, clean, index, client_address, standalone=standalone):
        return SignOutcome.NEW
    for _attempt in range(2):
        try:
            with _savepoint():
                outcome, signature_id, email = _sign_once(petition, clean, index, client_address)
            break
        except IntegrityError:
            # a parallel request with the same address won the insert: only the savepoint is undone,
            # and this one is treated as the repeat
            continue
    else:
        raise RuntimeError("could not store the signature")  # pragma: no cover
    # The email is queued after the savepoint: SQLAlchemy reports a released savepoint to after_commit
    # listeners, and the outbox must only hand its rows to the broker once the caller really commits.
    if email is not None:
        outbox.enqueue(SEND_EMAIL_ACTOR, signature_id, email.value)
    return outcome


_INSERTS: dict[str, Any] = {}
# the columns of a new pending signature that the request gives; suspect and suspect_reason are worked out by
# the INSERT itself (advocacy.fraud.services.suspicion_reason)
_PENDING_COLUMNS = (
    "petition_id", "email_index", "state", "seal_id", "full_name", "email", "postcode", "country", "locale",
    "consent_share_name", "opt_in_news", "created_at", "emails_sent", "email_window_started_at",
    "ip_hash", "network_hash", "domain_hash", "email_domain",
)


def _insert_statement(dialect: str) -> Any:
    """INSERT … SELECT <the values>, <suspect?> ON CONFLICT (petition_id, email_index) DO NOTHING RETURNING
    id, built once per dialect: the quiet fraud marking is counted inside the INSERT, so a new signature
    costs one statement, not a count and then an insert.

    On PostgreSQL the INSERT is a ``WITH`` whose row, if any, also gets its confirmation mail's outbox row
    (``outbox.insert_for_each``): the statement returns the signature's id and the outbox row's, or nothing
    for a repeat. SQLite has no data-modifying ``WITH``: there the outbox row is a second INSERT."""
    statement = _INSERTS.get(dialect)
    if statement is None:
        table = Signature.__table__
        reason = select(fraud.suspicion_reason().label("reason")).subquery("fraud")
        values = [bindparam(name, type_=table.c[name].type) for name in _PENDING_COLUMNS]
        # "WHERE true": SQLite reads INSERT … SELECT … ON CONFLICT only with a WHERE in the SELECT
        source = select(*values, reason.c.reason.is_not(None), reason.c.reason).where(true())
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(table).from_select([*_PENDING_COLUMNS, "suspect", "suspect_reason"], source) \
            .on_conflict_do_nothing(index_elements=["petition_id", "email_index"]).returning(table.c.id)
        if dialect == "postgresql":
            signature = statement.cte("new_signature")
            queued = outbox.insert_for_each(signature, SEND_EMAIL_ACTOR, signature.c.id,
                                            literal(EmailKind.CONFIRM.value, String)).cte("confirm_mail")
            statement = select(signature.c.id, queued.c.id).select_from(signature.join(queued, true()))
        _INSERTS[dialect] = statement
    return statement


def _insert_pending(petition: SigningPetition, signer: Signer, index: str, client_address: str | None, *,
                    standalone: bool) -> bool:
    """Insert a new pending signature, sealed as the model seals it and quietly marked as the fraud rules say,
    with the outbox row of its confirmation mail; False if the address has signed already (its row is then
    left as it is)."""
    found = fraud.signals(petition.id, client_address, signer.email)
    ring = keyring()
    seal_id = new_seal_id()

    def seal(field: Sealed, value: str | None) -> bytes | None:
        # what the Sealed attributes of the model do: bound to table, column and the row's seal id
        return None if value is None else ring.encrypt(value, context=seal_context(field.table, field.column,
                                                                                  seal_id))

    now = utcnow()
    values = {
        "petition_id": petition.id, "email_index": index, "state": SignatureState.PENDING, "seal_id": seal_id,
        "full_name": seal(Signature.full_name, signer.full_name), "email": seal(Signature.email, signer.email),
        "postcode": seal(Signature.postcode, signer.postcode), "country": signer.country, "locale": signer.locale,
        "consent_share_name": signer.consent_share_name, "opt_in_news": signer.opt_in_news, "created_at": now,
        "emails_sent": 1, "email_window_started_at": now,
        "ip_hash": found.ip_hash, "network_hash": found.network_hash, "domain_hash": found.domain_hash,
        "email_domain": seal(Signature.email_domain, found.domain),
        **fraud.suspicion_params(petition, found),  # quiet: the signer sees and gets the same either way
    }
    dialect = db.session.get_bind().dialect.name
    statement = _insert_statement(dialect)
    if dialect != "postgresql":
        new_id = db.session.connection().execute(statement, values).scalar()
        if new_id is None:
            return False
        # written with the row, in the same transaction: handed to the broker after the caller's commit
        outbox.enqueue_row(SEND_EMAIL_ACTOR, int(new_id), EmailKind.CONFIRM.value)
        return True
    values["outbox_created_at"] = now
    return _write_with_email(statement, values, EmailKind.CONFIRM, standalone=standalone)


def _write_with_email(statement: Any, values: dict[str, Any], kind: EmailKind, *, standalone: bool) -> bool:
    """Run a statement (PostgreSQL) that changes a signature and writes the outbox row of its ``kind`` of
    email, returning both ids, and have the row handed to the broker after the session's commit; False if it
    changed nothing. ``standalone``: the statement is all its caller's unit of work writes, and runs on an
    autocommit connection as its own transaction; else in the session's."""
    if standalone:
        with autocommit_connection() as connection:
            row = connection.execute(statement, values).first()
    else:
        row = db.session.connection().execute(statement, values).first()
    if row is None:
        return False
    signature_id, outbox_id = int(row[0]), int(row[1])
    outbox.note_enqueued(outbox_id, SEND_EMAIL_ACTOR, [signature_id, kind.value])
    return True


def _savepoint() -> SessionTransaction:
    """A savepoint inside the caller's transaction.

    pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so a SAVEPOINT issued first would itself
    start the transaction and its RELEASE would commit everything: open the transaction explicitly first
    (IMMEDIATE, so the read that follows cannot go stale before the write; SQLite has one writer anyway).
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")
    return db.session.begin_nested()


def _sign_once(petition: SigningPetition, signer: Signer, index: str,
               client_address: str | None) -> tuple[SignOutcome, int, EmailKind | None]:
    """Store or find the signature; returns the outcome, its id and the email it calls for."""
    petition_id = petition.id
    existing = db.session.scalar(
        select(Signature).where(Signature.petition_id == petition_id, Signature.email_index == index)
    )
    if existing is None:
        found = fraud.signals(petition_id, client_address, signer.email)
        reason = fraud.suspicion(petition, found)  # quiet: the signer sees and gets the same either way
        signature = Signature(
            petition_id=petition_id, email_index=index, state=SignatureState.PENDING,
            emails_sent=1, email_window_started_at=utcnow(),
            full_name=signer.full_name, email=signer.email, country=signer.country, postcode=signer.postcode,
            locale=signer.locale, consent_share_name=signer.consent_share_name, opt_in_news=signer.opt_in_news,
            ip_hash=found.ip_hash, network_hash=found.network_hash, domain_hash=found.domain_hash,
            email_domain=found.domain, suspect=reason is not None, suspect_reason=reason,
        )
        db.session.add(signature)
        db.session.flush()
        return SignOutcome.NEW, signature.id, EmailKind.CONFIRM

    # A repeat changes nothing stored: what the mailbox owner confirms is exactly what they submitted, not
    # what someone else typed with another spelling of their address. (A withdrawn signature has no
    # email index any more, so signing again after withdrawing is a new signature.)
    if existing.state == SignatureState.INVALIDATED:
        return SignOutcome.SUPPRESSED, existing.id, None
    if not _reserve_email(existing):
        return SignOutcome.CAPPED, existing.id, None
    if existing.state == SignatureState.CONFIRMED:
        return SignOutcome.ALREADY_SIGNED, existing.id, EmailKind.ALREADY_SIGNED
    return SignOutcome.RESENT, existing.id, EmailKind.CONFIRM


def _reserve_email(signature: Signature) -> bool:
    now = utcnow()
    window_start = signature.email_window_started_at
    if window_start is None or now - window_start >= EMAIL_WINDOW:
        signature.email_window_started_at = now
        signature.emails_sent = 0
    if signature.emails_sent >= EMAILS_PER_WINDOW:
        return False
    signature.emails_sent += 1
    return True


def request_new_link(petition_id: int, address: str) -> NewLinkOutcome:
    """A signer lost an email: send the link they need, if there is a signature to send it for.

    The caller answers the same whatever the outcome, so nobody learns whether an address signed; the emails
    share the cap of signing again. Flushes; the caller commits.
    """
    try:
        clean = clean_email(address)
    except ValueError as exc:
        raise SignatureRejected({"email": [str(exc)]}) from exc
    petition = db.session.get(Petition, petition_id)
    if petition is None:
        raise SignatureNotFound(petition_id)
    signature = db.session.scalar(
        select(Signature).where(Signature.petition_id == petition_id,
                                Signature.email_index == email_index(petition_id, clean))
    )
    if signature is None or signature.state not in (SignatureState.PENDING, SignatureState.CONFIRMED):
        return NewLinkOutcome.NOTHING
    if signature.state == SignatureState.PENDING and not petition.is_open():
        return NewLinkOutcome.NOTHING  # a closed petition counts no new confirmation
    if not _reserve_email(signature):
        return NewLinkOutcome.CAPPED
    if signature.state == SignatureState.PENDING:
        outbox.enqueue(SEND_EMAIL_ACTOR, signature.id, EmailKind.CONFIRM.value)
        db.session.flush()
        return NewLinkOutcome.CONFIRM_SENT
    outbox.enqueue(SEND_EMAIL_ACTOR, signature.id, EmailKind.WITHDRAW_LINK.value)
    db.session.flush()
    return NewLinkOutcome.WITHDRAW_SENT


def get_signature(signature_id: int) -> Signature:
    signature = db.session.get(Signature, signature_id)
    if signature is None:
        raise SignatureNotFound(signature_id)
    return signature


@dataclass(frozen=True)
class SignatureDetails:
    """Everything stored about a signer, opened; raises ``SealBroken`` if any sealed value fails its check."""

    full_name: str | None
    email: str | None
    postcode: str | None
    country: str
    consent_share_name: bool
    opt_in_news: bool


def details(signature: Signature | SignatureRecord) -> SignatureDetails:
    """Open every sealed value of a signature (the model, or a ``SignatureRecord``) in its place."""
    return SignatureDetails(
        full_name=Signature.full_name.__get__(signature, Signature), email=Signature.email.__get__(signature,
                                                                                                   Signature),
        postcode=Signature.postcode.__get__(signature, Signature), country=signature.country,
        consent_share_name=signature.consent_share_name, opt_in_news=signature.opt_in_news,
    )


@dataclass(frozen=True)
class SignatureRecord:
    """One signature's row as confirming and mailing read it: one statement built once, no ORM object (a
    burst of confirmations and their mails read one each). The sealed values stay sealed (the ``_<name>``
    attributes, as on the model) until ``details`` or the model's ``Sealed`` attributes open them in place."""

    id: int
    petition_id: int
    state: SignatureState
    locale: str
    country: str
    suspect: bool
    consent_share_name: bool
    opt_in_news: bool
    seal_id: str | None
    _full_name: bytes | None
    _email: bytes | None
    _postcode: bytes | None


_RECORD: dict[str, Any] = {}
_RECORD_FIELDS = dataclasses.fields(SignatureRecord)


def _record_columns(signatures: Any) -> list[Any]:
    """The columns of the signatures table that make a ``SignatureRecord``, labelled as its fields."""
    return [signatures.c[field.name.lstrip("_")].label(field.name) for field in _RECORD_FIELDS]


def signature_record(signature_id: int, *, connection: Connection | None = None) -> SignatureRecord:
    """The signature with this id as a ``SignatureRecord``; raises ``SignatureNotFound``. Read in the session's
    transaction, or on ``connection``."""
    statement = _RECORD.get("select")
    if statement is None:
        table = Signature.__table__
        statement = _RECORD["select"] = select(*_record_columns(table)).where(table.c.id == bindparam("signature_id"))
    row = (connection or db.session.connection()).execute(statement, {"signature_id": signature_id}).first()
    if row is None:
        raise SignatureNotFound(signature_id)
    return SignatureRecord(**row._mapping)


def confirming(signature_id: int) -> tuple[SignatureRecord, SigningPetition]:
    """What the confirm page and ``confirm`` read: the signature and its petition, in one statement (a join),
    on the ``reading_connection`` (outside the session when nothing is under way: one round trip, no BEGIN
    and COMMIT). Raises ``SignatureNotFound``."""
    statement = _RECORD.get("confirming")
    if statement is None:
        signatures, petitions = Signature.__table__, Petition.__table__
        statement = _RECORD["confirming"] = select(
            *_record_columns(signatures),
            *(petitions.c[field.name].label(f"p_{field.name}") for field in _PETITION_FIELDS),
        ).select_from(signatures.join(petitions, petitions.c.id == signatures.c.petition_id)) \
            .where(signatures.c.id == bindparam("signature_id"))
    with reading_connection() as connection:
        row = connection.execute(statement, {"signature_id": signature_id}).first()
    if row is None:
        raise SignatureNotFound(signature_id)
    values = row._mapping
    return (SignatureRecord(**{field.name: values[field.name] for field in _RECORD_FIELDS}),
            SigningPetition(**{field.name: values[f"p_{field.name}"] for field in _PETITION_FIELDS}))


def confirm(signature_id: int, *, read: tuple[SignatureRecord, SigningPetition] | None = None,
            standalone: bool = False) -> ConfirmOutcome:
    """Count a pending signature once, however many requests confirm it at the same moment; the caller commits.

    In Core (a burst of confirmations follows a burst of signatures): the row and its petition are read
    (or taken from ``read``, what ``confirming`` gave the caller in this request), then the row is moved from
    pending to confirmed by one conditional UPDATE, counted in the tally and its "confirmed" email written to
    the outbox. On PostgreSQL those three writes are one statement (a data-modifying ``WITH``), on SQLite three.

    ``standalone``: the confirmation is all the caller's unit of work writes (the confirm POST): on PostgreSQL
    the statement then commits by itself, outside the session, as ``sign``'s does. Otherwise it runs in the
    caller's transaction."""
    record, petition = read if read is not None and read[0].id == signature_id else confirming(signature_id)
    if record.state == SignatureState.CONFIRMED:
        return ConfirmOutcome.ALREADY_CONFIRMED
    if record.state != SignatureState.PENDING:
        return ConfirmOutcome.NOT_PENDING
    if not petition.is_open():
        return ConfirmOutcome.PETITION_CLOSED
    params = {"signature_id": signature_id, "now": utcnow()}
    if db.session.get_bind().dialect.name == "postgresql":
        return _confirm_in_one_statement(params, standalone=standalone)
    statement = _RECORD.get("confirm")
    if statement is None:
        table = Signature.__table__
        statement = _RECORD["confirm"] = update(table).where(
            table.c.id == bindparam("signature_id"), table.c.state == SignatureState.PENDING,
        ).values(state=SignatureState.CONFIRMED, confirmed_at=bindparam("now"))
    result = db.session.connection().execute(statement, params)
    _expire_loaded(signature_id)
    if result.rowcount != 1:
        return ConfirmOutcome.ALREADY_CONFIRMED  # a parallel request confirmed it first; nothing changed here
    if not record.suspect:  # a suspect one counts once an organiser clears it
        tallies.add(record.petition_id, record.country, +1)
    outbox.enqueue_row(SEND_EMAIL_ACTOR, signature_id, EmailKind.CONFIRMED.value)
    return ConfirmOutcome.CONFIRMED


def _expire_loaded(signature_id: int) -> None:
    loaded = db.session.identity_map.get(db.session.identity_key(Signature, signature_id))
    if loaded is not None:
        db.session.expire(loaded)  # a model of this row in the session reads the new state


def _confirm_in_one_statement(params: dict[str, Any], *, standalone: bool) -> ConfirmOutcome:
    """PostgreSQL: ``WITH moved AS (UPDATE … WHERE state = 'pending' RETURNING …), <tally +1 unless suspect>,
    <outbox row> SELECT``: the row moves, counts and queues its email at once, or nothing happens (a
    parallel request confirmed it first)."""
    statement = _RECORD.get("confirm-with")
    if statement is None:
        table = Signature.__table__
        moved = update(table).where(
            table.c.id == bindparam("signature_id"), table.c.state == SignatureState.PENDING,
        ).values(state=SignatureState.CONFIRMED, confirmed_at=bindparam("now")) \
            .returning(table.c.id, table.c.petition_id, table.c.country, table.c.suspect).cte("confirmed_signature")
        # a suspect one counts once an organiser clears it
        counted = tallies.add_for_each(moved, moved.c.petition_id, moved.c.country, moved.c.suspect.is_(False)) \
            .cte("counted")
        queued = outbox.insert_for_each(moved, SEND_EMAIL_ACTOR, moved.c.id,
                                        literal(EmailKind.CONFIRMED.value, String)).cte("confirmed_mail")
        statement = _RECORD["confirm-with"] = select(moved.c.id, queued.c.id) \
            .select_from(moved.join(queued, true())).add_cte(counted)
    values = {**params, **tallies.shard_param(), "outbox_created_at": params["now"]}
    confirmed = _write_with_email(statement, values, EmailKind.CONFIRMED, standalone=standalone)
    _expire_loaded(params["signature_id"])
    if not confirmed:
        return ConfirmOutcome.ALREADY_CONFIRMED  # a parallel request confirmed it first; nothing changed here
    return ConfirmOutcome.CONFIRMED


def _leave(signature_id: int, new_state: SignatureState, values: dict[Any, object]) -> bool:
    """Move a signature out of pending or confirmed; a confirmed one leaves the tally. True if it moved."""
    signature = get_signature(signature_id)
    previous, suspect = signature.state, signature.suspect
    counted = previous == SignatureState.CONFIRMED and not suspect
    if previous not in (SignatureState.PENDING, SignatureState.CONFIRMED):
        return False
    petition_id, country = signature.petition_id, signature.country
    result = db.session.execute(
        update(Signature)
        # the flag too: a bulk "clear suspect" meanwhile would change whether it counted
        .where(Signature.id == signature_id, Signature.state == previous, Signature.suspect == suspect)
        .values({Signature.state: new_state, **values})
        .execution_options(synchronize_session=False)
    )
    db.session.expire(signature)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    if counted:
        tallies.add(petition_id, country, -1)
    db.session.flush()
    return True


def withdraw(signature_id: int) -> WithdrawOutcome:
    """Take a signature back: it leaves the tally; its name, email, postcode and email index are erased."""
    signature = get_signature(signature_id)
    if signature.state == SignatureState.WITHDRAWN:
        return WithdrawOutcome.ALREADY_WITHDRAWN
    moved = _leave(signature_id, SignatureState.WITHDRAWN, {
        Signature.withdrawn_at: utcnow(), Signature._full_name: None, Signature._email: None,
        Signature._postcode: None, Signature.email_index: None, **FRAUD_SIGNALS_ERASED,
    })
    if moved:
        return WithdrawOutcome.WITHDRAWN
    if signature.state == SignatureState.WITHDRAWN:
        return WithdrawOutcome.ALREADY_WITHDRAWN
    return WithdrawOutcome.NOT_WITHDRAWABLE


def invalidate(signature_id: int, reason: str) -> bool:
    """An organiser's verdict of fraud: the signature stops counting and is never emailed again."""
    return _leave(signature_id, SignatureState.INVALIDATED, {
        Signature.invalidated_at: utcnow(), Signature.invalidation_reason: reason[:200],
    })


def purge_expired_pending(now: datetime | None = None) -> int:
    """Delete pending signatures whose confirmation link has expired: nobody confirmed, nothing is kept."""
    cutoff = (now or utcnow()) - timedelta(seconds=TOKEN_PURPOSES["confirm-signature"] or 0)
    result = db.session.execute(
        delete(Signature).where(Signature.state == SignatureState.PENDING, Signature.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def confirm_token(signature_id: int) -> str:
    return make_token("confirm-signature", signature_id)


def withdraw_token(signature_id: int) -> str:
    return make_token("withdraw-signature", signature_id)


@dataclass(frozen=True)
class _PetitionMail:
    """What a signer's email says about the petition and its campaign, in one language."""

    slug: str
    title: str
    campaign_name: str
    campaign_footer: str
    sender_name: str


_petition_mail: TTLCache[_PetitionMail] = TTLCache(maxsize=1024)


def _petition_mail_facts(petition_id: int, locale: str) -> _PetitionMail:
    """Shared by a petition's mails for the page cache's few seconds: a burst of confirmations reads the
    petition and its campaign once, not twice a mail."""

    def load() -> _PetitionMail:
        petition = db.session.get(Petition, petition_id)
        if petition is None:
            raise SignatureNotFound(petition_id)
        campaign = petition.campaign
        name = campaign.display_name(locale)
        return _PetitionMail(slug=petition.slug, title=petition.display_title(locale), campaign_name=name,
                             campaign_footer=localized(campaign.email_footer, locale),
                             sender_name=campaign.sender_name or name)

    return _petition_mail.get_or_make((petition_id, locale), float(current_app.config["PAGE_CACHE_SECONDS"]), load)


def _record_for_mail(signature_id: int) -> SignatureRecord:
    """``signature_record`` for a mail, on the ``reading_connection`` (the mail's actor only reads: one round
    trip instead of BEGIN, SELECT and COMMIT)."""
    with reading_connection() as connection:
        return signature_record(signature_id, connection=connection)


def deliver_email(signature_id: int, kind: EmailKind, *, message_key: str | None = None) -> bool:
    """Send one signature email if the signature is still in the state the email is about."""
    try:
        signature = _record_for_mail(signature_id)
    except SignatureNotFound:
        return False
    # opened (and checked in their place) exactly as the model's attributes open them
    address, full_name = Signature.email.__get__(signature, Signature), Signature.full_name.__get__(signature,
                                                                                                    Signature)
    if address is None:
        return False
    wanted = SignatureState.PENDING if kind == EmailKind.CONFIRM else SignatureState.CONFIRMED
    if signature.state != wanted:
        return False
    from advocacy import urls

    locale = signature.locale
    facts = _petition_mail_facts(signature.petition_id, locale)
    shared = {
        "petition_title": facts.title,
        "petition_url": urls.external_url("petitions.show", slug=facts.slug, lang=locale),
        "campaign_name": facts.campaign_name,
        # the campaign's own words under every email it sends (an address, who to write to), plain text
        "campaign_footer": facts.campaign_footer,
        "site_url": current_app.config["BASE_URL"],
    }
    if kind == EmailKind.CONFIRM:
        personal = {"confirm_url": urls.external_url("signatures.confirm", token=confirm_token(signature.id),
                                                     lang=locale)}
    else:
        personal = {"withdraw_url": urls.external_url("signatures.withdraw", token=withdraw_token(signature.id),
                                                      lang=locale)}
    personal["full_name"] = full_name or ""
    # rendered once per petition, language and kind for the page cache's few seconds; each mail fills in
    # its signer's name and link
    rendered = mail.render_personal(kind.value, locale, shared=shared, personal=personal,
                                    key=(signature.petition_id, facts),
                                    seconds=float(current_app.config["PAGE_CACHE_SECONDS"]))
    mail.send(mail.build_message(address, rendered, locale=locale, message_key=message_key,
                                 sender_name=facts.sender_name))
    return True
