"""Writing and reading the audit log. ``record`` adds a row to the current session, so it is committed (or
rolled back) with the change it records: the caller's one unit of work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from advocacy.accounts.roles import Principal, require_admin
from advocacy.audit.models import AuditEvent
from advocacy.dbtypes import utcnow
from advocacy.extensions import db

# the prefixes the console filters by (the part of an action before its dot)
PREFIXES = ("login", "role", "invitation", "account", "password", "second_factor", "petition", "campaign",
            "target", "event", "update", "packet", "delivery", "response", "signature", "fraud")
# keys that would carry personal data: refused outright, so a careless call fails in the tests
_PERSONAL_KEYS = frozenset({"email", "name", "password", "code", "ip", "address", "token", "secret"})


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def record(action: str, *, actor: Principal | None, object_type: str | None = None,
           object_id: int | None = None, **detail: Any) -> AuditEvent:
    """One audit entry in the current transaction (no flush: it goes with the caller's)."""
    personal = _PERSONAL_KEYS & set(detail)
    if personal:
        raise ValueError(f"audit detail must hold no personal data: {', '.join(sorted(personal))}")
    entry = AuditEvent(at=utcnow(), actor_user_id=actor.user_id if actor is not None else None, action=action,
                       object_type=object_type, object_id=object_id, detail=_plain(detail))
    db.session.add(entry)
    return entry


def recent(limit: int = 100, *, actor: Principal, prefix: str | None = None) -> list[AuditEvent]:
    """The latest entries, newest first (only those whose action starts with ``prefix.`` if given)."""
    require_admin(actor)
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if prefix:
        query = query.where(AuditEvent.action.startswith(f"{prefix}.", autoescape=True))
    return list(db.session.scalars(query))
