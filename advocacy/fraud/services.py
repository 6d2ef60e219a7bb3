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
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from advocacy.cache import TTLCache
from advocacy.crypto import keyring
from advocacy.dbtypes import utcnow
from advocacy.extensions import db
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


def suspicion(petition: Petition, found: Signals) -> str | None:
    """Which signal a new signature trips ("address", "network", "domain"), or None: counts the petition's
    signatures with the same signal within its window (each count one index range)."""
    since = utcnow() - timedelta(minutes=max(petition.fraud_window_minutes, 1))
    checks = (("address", Signature.ip_hash, found.ip_hash, petition.fraud_limit_address),
              ("network", Signature.network_hash, found.network_hash, petition.fraud_limit_network),
              ("domain", Signature.domain_hash, found.domain_hash, petition.fraud_limit_domain))
    for reason, column, value, limit in checks:
        if value is None or limit <= 0:
            continue
        recent = db.session.scalar(
            select(func.count()).select_from(
                select(Signature.id).where(Signature.petition_id == petition.id, column == value,
                                           Signature.created_at >= since).limit(limit).subquery()))
        if (recent or 0) >= limit:
            return reason
    return None


_held_back: TTLCache[int] = TTLCache(maxsize=1024)


def held_back(petition_id: int) -> int:
    """How many of a petition's signatures are held back for checking (suspect, pending or confirmed);
    shared by all readers as long as the tally is (ADVOCACY_CACHE_SECONDS)."""
    seconds = float(current_app.config["TALLY_CACHE_SECONDS"])

    def count() -> int:
        return int(db.session.scalar(
            select(func.count()).select_from(Signature)
            .where(Signature.petition_id == petition_id, Signature.suspect.is_(True),
                   or_(Signature.state == SignatureState.PENDING, Signature.state == SignatureState.CONFIRMED))
        ) or 0)

    return _held_back.get_or_make(petition_id, seconds, count)
