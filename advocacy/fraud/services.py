"""Fraud signals, kept keyed and never raw, and the quiet marking of signatures above a petition's thresholds.

Each new signature stores three HMACs under the blind-index key, with a purpose that names the petition (so
the hashes of two petitions cannot be joined): of the client address, of its network (/24 for IPv4, /48 for
IPv6) and of the email's domain. The domain itself is also sealed, to be shown to organisers (a domain is
not personal). The raw address is never stored, logged or queued.

Quiet marking (as the UK Parliament's petitions site does): when a petition already holds, within its
``fraud_window_minutes``, at least ``fraud_limit_address`` signatures from the same address (or
``fraud_limit_network`` from the network, or ``fraud_limit_domain`` with the domain; 0 switches a signal
off), the new signature is accepted as usual, emailed as usual, and marked ``suspect``. A suspect signature
does not count in the tally until an organiser clears it (see advocacy.tallies.services).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnClause, Integer, and_, bindparam, case, func, literal_column, null, select, update

from advocacy.accounts.roles import Principal, require_admin, require_organiser
from advocacy.audit import services as audit
from advocacy.cache import TTLCache
from advocacy.crypto import keyring
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.fraud.filters import SignatureFilter
from advocacy.petitions.models import Petition
from advocacy.signatures.models import Signature, SignatureState


@dataclass(frozen=True)
class Signals:
    ip_hash: str | None
    network_hash: str | None
    domain_hash: str
    domain: str


def _hash(kind: str, petition_id: int, value: str) -> str:
    return keyring().blind_index(value, purpose=f"fraud-{kind}:{petition_id}")


def network_of(address: str) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to, as text; None for something that is no address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def signals(petition_id: int, client_address: str | None, email: str) -> Signals:
    """The keyed signals of a signature; ``email`` is the cleaned address (its domain is lower-cased)."""
    domain = email.rpartition("@")[2].lower()
    ip_hash = network_hash = None
    if client_address:
        network = network_of(client_address)
        if network is not None:
            ip = ipaddress.ip_address(client_address.strip())
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            ip_hash = _hash("ip", petition_id, str(ip))
            network_hash = _hash("network", petition_id, network)
    return Signals(ip_hash, network_hash, _hash("domain", petition_id, domain), domain)


class Thresholds(Protocol):
    """What ``suspicion`` reads of a petition (a ``Petition``, or signing's smaller view of one)."""

    @property
    def id(self) -> int: ...
    @property
    def fraud_window_minutes(self) -> int: ...
    @property
    def fraud_limit_address(self) -> int: ...
    @property
    def fraud_limit_network(self) -> int: ...
    @property
    def fraud_limit_domain(self) -> int: ...


def suspicion(petition: Thresholds, found: Signals) -> str | None:
    """Which signal a new signature trips ("address", "network", "domain"), or None: counts the petition's
    signatures with the same signal within its window (each count one index range, stopped at its limit),
    the three in one statement built once. Signing a new address does not call this: its INSERT carries the
    same expression (``suspicion_reason``) and so costs no statement of its own."""
    statement = _statements.get("suspicion")
    if statement is None:
        statement = _statements["suspicion"] = select(suspicion_reason())
    reason = db.session.connection().execute(statement, suspicion_params(petition, found)).scalar()
    return None if reason is None else str(reason)


def suspicion_params(petition: Thresholds, found: Signals) -> dict[str, Any]:
    """The bound values ``suspicion_reason()`` reads: the petition, the start of its window, and for each
    signal its keyed hash and limit (0 when the signal is off or missing: then its count reads nothing)."""
    params: dict[str, Any] = {
        "fraud_petition_id": petition.id,
        "fraud_since": utcnow() - timedelta(minutes=max(petition.fraud_window_minutes, 1)),
    }
    for reason, value, limit in (("address", found.ip_hash, petition.fraud_limit_address),
                                 ("network", found.network_hash, petition.fraud_limit_network),
                                 ("domain", found.domain_hash, petition.fraud_limit_domain)):
        params[f"fraud_{reason}"] = value
        params[f"fraud_{reason}_limit"] = limit if value is not None and limit > 0 else 0
    return params


_statements: dict[str, Any] = {}


def suspicion_reason() -> Any:
    """The rule of quiet marking as one SQL expression: the first signal ("address", "network", "domain")
    whose recent signatures in the petition reach its limit, else NULL. Each count is one index range
    stopped at the limit (a LIMIT 0 reads nothing)."""
    expression = _statements.get("reason")
    if expression is None:
        table = Signature.__table__

        def tripped(column: Any, reason: str) -> tuple[Any, str]:
            limit = bindparam(f"fraud_{reason}_limit", type_=Integer)
            matching = (select(table.c.id)
                        .where(table.c.petition_id == bindparam("fraud_petition_id"),
                               column == bindparam(f"fraud_{reason}"),
                               table.c.created_at >= bindparam("fraud_since", type_=table.c.created_at.type))
                        .limit(limit).subquery())
            recent = select(func.count()).select_from(matching).scalar_subquery()
            return and_(limit > 0, recent >= limit), reason

        expression = _statements["reason"] = case(
            tripped(table.c.ip_hash, "address"), tripped(table.c.network_hash, "network"),
            tripped(table.c.domain_hash, "domain"), else_=null(),
        )
    return expression


_held_back: TTLCache[int] = TTLCache(maxsize=1024)
# "suspect" written as the partial index ix_signatures_petition_suspect says it, so both databases use it:
# "suspect IS true" (PostgreSQL) and "suspect = 1" (SQLite) are not matched to it, and the count read every
# signature of the petition (54 ms at 100,000 on PostgreSQL, each time the few-second cache ran out)
# (untyped: a Boolean would be written "= 1" for SQLite)
SUSPECT: ColumnClause[Any] = literal_column("signatures.suspect")


def held_back(petition_id: int) -> int:
    """How many of a petition's signatures are held back for checking (suspect, pending or confirmed);
    shared by all readers as long as the tally is (ADVOCACY_CACHE_SECONDS)."""
    seconds = float(current_app.config["TALLY_CACHE_SECONDS"])

    def count() -> int:
        return int(db.session.scalar(
            select(func.count()).select_from(Signature)
            .where(Signature.petition_id == petition_id, SUSPECT,
                   Signature.state.in_((SignatureState.PENDING, SignatureState.CONFIRMED)))
        ) or 0)

    return _held_back.get_or_make(petition_id, seconds, count)


# --- what organisers see: trending signals and the signatures behind them ----------------------------------

TOP = 20
SIGNAL_COLUMNS = {"address": Signature.ip_hash, "network": Signature.network_hash, "domain": Signature.domain_hash}
STATE_COLUMNS = ("pending", "confirmed", "suspect", "invalidated", "withdrawn")


@dataclass(frozen=True)
class Trend:
    kind: str            # "address", "network" or "domain"
    value: str           # the keyed hash
    label: str           # a domain as itself; a hash shortened
    counts: dict[str, int]
    total: int


def _require_watcher(actor: Principal, petition_id: int) -> Petition:
    petition = db.session.get(Petition, petition_id)
    if petition is None:
        raise LookupError(petition_id)
    require_organiser(actor, petition.campaign_id)
    return petition


def trending(petition_id: int, since: datetime, *, actor: Principal, top: int = TOP) -> dict[str, list[Trend]]:
    """The signals behind the most signatures since ``since``, by kind, with counts by state (suspect ones
    counted apart from their state)."""
    _require_watcher(actor, petition_id)
    found: dict[str, list[Trend]] = {}
    for kind, column in SIGNAL_COLUMNS.items():
        suspect = Signature.suspect.is_(True)
        live = Signature.state.in_((SignatureState.PENDING, SignatureState.CONFIRMED))
        rows = db.session.execute(
            select(column, func.count(),
                   func.sum(case((suspect & live, 1), else_=0)),
                   *[func.sum(case(((Signature.state == state) & ~suspect, 1), else_=0)) for state in
                     (SignatureState.PENDING, SignatureState.CONFIRMED)],
                   *[func.sum(case((Signature.state == state, 1), else_=0)) for state in
                     (SignatureState.INVALIDATED, SignatureState.WITHDRAWN)])
            .where(Signature.petition_id == petition_id, Signature.created_at >= since, column.is_not(None))
            .group_by(column).order_by(func.count().desc(), column).limit(top)
        ).all()
        trends = []
        for value, total, held, pending, confirmed, invalidated, withdrawn in rows:
            counts = {"pending": int(pending or 0), "confirmed": int(confirmed or 0), "suspect": int(held or 0),
                      "invalidated": int(invalidated or 0), "withdrawn": int(withdrawn or 0)}
            trends.append(Trend(kind, str(value), _label(kind, petition_id, str(value)), counts, int(total)))
        found[kind] = trends
    return found


def _label(kind: str, petition_id: int, value: str) -> str:
    if kind == "domain":
        sample = db.session.scalar(select(Signature).where(Signature.petition_id == petition_id,
                                                           Signature.domain_hash == value,
                                                           Signature._email_domain.is_not(None)).limit(1))
        if sample is not None and sample.email_domain:
            return sample.email_domain
    return value[:12]


PAGE = 100


def listing(selection: SignatureFilter, *, actor: Principal, before: int | None = None) -> list[Signature]:
    """The selected signatures, newest first, a page at a time (``before``: the last id of the page before)."""
    _require_watcher(actor, selection.petition_id)
    query = select(Signature).where(*selection.where())
    if before is not None:
        query = query.where(Signature.id < before)
    return list(db.session.scalars(query.order_by(Signature.id.desc()).limit(PAGE)))


def reveal_name(signature_id: int, *, actor: Principal) -> str | None:
    """An admin's deliberate look at a signer's name, written to the audit log in the same transaction."""
    require_admin(actor)
    signature = db.session.get(Signature, signature_id)
    if signature is None:
        raise LookupError(signature_id)
    audit.record("signature.reveal", actor=actor, object_type="signature", object_id=signature_id,
                 petition_id=signature.petition_id)
    return signature.full_name


LIMIT_MAX = 100_000
WINDOW_MAX = 7 * 24 * 60


def set_limits(petition_id: int, *, actor: Principal, window_minutes: int, address: int, network: int,
               domain: int) -> None:
    """Change a petition's quiet-marking window and limits (0 switches a signal off). Flushes."""
    petition = _require_watcher(actor, petition_id)
    if not 1 <= window_minutes <= WINDOW_MAX:
        raise ValueError(str(_l("The window is 1 to %(max)d minutes long.", max=WINDOW_MAX)))
    if any(not 0 <= value <= LIMIT_MAX for value in (address, network, domain)):
        raise ValueError(str(_l("Each limit is 0 (no limit) to %(max)d.", max=LIMIT_MAX)))
    before = (petition.fraud_window_minutes, petition.fraud_limit_address, petition.fraud_limit_network,
              petition.fraud_limit_domain)
    after = (window_minutes, address, network, domain)
    if before == after:
        return
    # settings, not the petition's text: no new version (the optimistic lock guards edits of the text)
    db.session.execute(update(Petition).where(Petition.id == petition_id).values(
        fraud_window_minutes=window_minutes, fraud_limit_address=address, fraud_limit_network=network,
        fraud_limit_domain=domain).execution_options(synchronize_session=False))
    audit.record("petition.fraud_limits", actor=actor, object_type="petition", object_id=petition_id,
                 before=list(before), after=list(after))
    db.session.flush()
    db.session.expire(petition)
