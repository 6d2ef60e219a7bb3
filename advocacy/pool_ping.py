"""Checking a pooled server connection only when it has sat idle.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` at every checkout: a round trip before every request, every
claim and every done mark of a mail, at every rate. Under load a connection comes back to the pool and is
taken again within milliseconds, and a connection that just worked is very likely to work now; the ones that
die are those left idle (a server or proxy restart, an idle timeout, a failover). So, as HikariCP does with
its ``aliveBypassWindowMs``, a connection is pinged at checkout only if it has been in the pool longer than
``IDLE_BEFORE_PING`` seconds. A ping that finds the server gone invalidates it and every older pooled
connection, as ``pool_pre_ping`` does, and the pool connects afresh; the caller never sees the failure.

The trade-off: a connection that dies within the window is found by the statement that uses it. SQLAlchemy
then invalidates the pool and that one statement fails; a mail's message is retried by the broker, a request
gets an error page and the next one connects afresh.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event, exc

IDLE_BEFORE_PING = 0.5  # seconds, HikariCP's default window
_IDLE_SINCE = "advocacy_idle_since"


def ping_after_idle(engine: Engine, idle_seconds: float | None = None) -> None:
    """Ping a connection at checkout when it was checked in more than ``idle_seconds`` (by default
    ``IDLE_BEFORE_PING``) ago, instead of ``pool_pre_ping``, which pings every time. A newly opened connection
    is not pinged."""
    dialect = engine.dialect
    window = IDLE_BEFORE_PING if idle_seconds is None else idle_seconds

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)  # the record's info is emptied when it reconnects
        if idle_since is None or time.monotonic() - idle_since <= window:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # as pool_pre_ping: the server went away, so every connection opened before now is stale
                raise exc.InvalidatePoolError() from error
            raise
