"""The audit log: one append-only row per thing someone did (or the system did), never personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from advocacy.dbtypes import UTCDateTime, utcnow
from advocacy.extensions import db

TABLE = "audit_events"
APPEND_ONLY = "audit_events is append-only"

# PostgreSQL: a trigger function refuses UPDATE and DELETE (TRUNCATE fires no row trigger)
POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY}';
END;
$$ LANGUAGE plpgsql
"""
POSTGRESQL_TRIGGER = f"""
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON {TABLE}
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""
POSTGRESQL_DROP = (f"DROP TRIGGER IF EXISTS audit_events_append_only ON {TABLE}",
                   "DROP FUNCTION IF EXISTS audit_events_append_only()")

# SQLite: one trigger per statement kind
SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS audit_events_no_{kind.lower()} BEFORE {kind} ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    for kind in ("UPDATE", "DELETE")
)
SQLITE_DROP = tuple(f"DROP TRIGGER IF EXISTS audit_events_no_{kind}" for kind in ("update", "delete"))


def append_only_statements(dialect: str) -> tuple[str, ...]:
    """The SQL that makes the table append-only on this database (the migration and ``create_all`` run it)."""
    if dialect == "postgresql":
        return (POSTGRESQL_FUNCTION, POSTGRESQL_TRIGGER)
    if dialect == "sqlite":
        return SQLITE_TRIGGERS
    return ()


def drop_statements(dialect: str) -> tuple[str, ...]:
    if dialect == "postgresql":
        return POSTGRESQL_DROP
    if dialect == "sqlite":
        return SQLITE_DROP
    return ()


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """Who did what to which object, and when. ``detail`` holds ids, slugs, field names, counts and reasons an
    organiser wrote: never an email address, a name, a password, a code or a client address."""

    __tablename__ = TABLE
    __table_args__ = (Index("ix_audit_events_at", "at"), Index("ix_audit_events_action", "action"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: the system (the command line, a periodic job) or nobody known (a failed login for no account)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column()
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def _make_append_only(target: Any, connection: Any, **kw: Any) -> None:
    for statement in append_only_statements(connection.dialect.name):
        connection.execute(DDL(statement))


# ``db.create_all()`` (the tests, ``advocacy db`` on a new embedded database) gets the triggers too
event.listen(AuditEvent.__table__, "after_create", _make_append_only)
