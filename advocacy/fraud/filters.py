"""Which signatures of a petition an organiser is looking at: the one filter shared by the signature list,
the trending view's links and the bulk actions.

A filter travels in the query string (``to_args``/``from_args``) so the trending view can link to the
signatures behind a row and the list can hand the same selection to a bulk action. It carries keyed hashes,
a country code, a time window and a state: never a name, an email address or a raw client address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement

from advocacy.i18n import is_country
from advocacy.signatures.models import Signature, SignatureState

HASH = re.compile(r"[0-9a-f]{64}")
SUSPECT = "suspect"  # a pseudo-state: pending or confirmed, and held back
STATES = (*(state.value for state in SignatureState), SUSPECT)


class FilterError(ValueError):
    """The query string does not describe a selection; the message is translated and says which part."""


@dataclass(frozen=True)
class SignatureFilter:
    petition_id: int
    address: str | None = None   # Signature.ip_hash
    network: str | None = None   # Signature.network_hash
    domain: str | None = None    # Signature.domain_hash
    country: str | None = None
    since: datetime | None = None  # created_at >= since
    until: datetime | None = None  # created_at < until
    state: str | None = None     # a SignatureState value or "suspect"

    def where(self) -> list[ColumnElement[bool]]:
        """The conditions on ``Signature`` that select these signatures."""
        conditions: list[ColumnElement[bool]] = [Signature.petition_id == self.petition_id]
        if self.address:
            conditions.append(Signature.ip_hash == self.address)
        if self.network:
            conditions.append(Signature.network_hash == self.network)
        if self.domain:
            conditions.append(Signature.domain_hash == self.domain)
        if self.country:
            conditions.append(Signature.country == self.country)
        if self.since:
            conditions.append(Signature.created_at >= self.since)
        if self.until:
            conditions.append(Signature.created_at < self.until)
        if self.state == SUSPECT:
            conditions.append(Signature.suspect.is_(True))
            conditions.append(Signature.state.in_((SignatureState.PENDING, SignatureState.CONFIRMED)))
        elif self.state:
            conditions.append(Signature.state == SignatureState(self.state))
        return conditions

    @property
    def narrowed(self) -> bool:
        """True if anything beyond the petition is chosen (a bulk action on a whole petition needs this false)."""
        return any(getattr(self, f.name) is not None for f in fields(self) if f.name != "petition_id")

    def to_args(self) -> dict[str, str]:
        args: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "petition_id" or value is None:
                continue
            args[f.name] = value.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, datetime) else str(value)
        return args

    @classmethod
    def from_args(cls, petition_id: int, args: Mapping[str, str]) -> SignatureFilter:
        """Read a filter from query-string (or form) values; empty values are ignored. Raises FilterError."""
        def value(name: str) -> str | None:
            raw = (args.get(name) or "").strip()
            return raw or None

        hashes = {}
        for name in ("address", "network", "domain"):
            raw = value(name)
            if raw is not None and not HASH.fullmatch(raw):
                raise FilterError(_l("This is not a signal from the trending view."))
            hashes[name] = raw
        country = value("country")
        if country is not None:
            country = country.upper()
            if not is_country(country):
                raise FilterError(_l("Please choose a country from the list."))
        state = value("state")
        if state is not None and state not in STATES:
            raise FilterError(_l("Please choose a state from the list."))
        since, until = _moment(value("since")), _moment(value("until"))
        if since and until and since >= until:
            raise FilterError(_l("The start of the time window must come before its end."))
        return cls(petition_id=petition_id, country=country, since=since, until=until, state=state, **hashes)


def _moment(raw: str | None) -> datetime | None:
    """An ISO 8601 moment (as ``to_args`` writes it, or from a datetime-local field, read as UTC)."""
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FilterError(_l("Please give the time as YYYY-MM-DD HH:MM (UTC).")) from exc
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
