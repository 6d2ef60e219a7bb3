"""Log filters that keep personal data out of log lines written by libraries we do not control.

Flask-Limiter logs the key a limit is counted by (the client's address, or whatever the key function
returns); dramatiq logs the traceback of a failed job, whose exception text may quote an address or a name.
"""

from __future__ import annotations

import logging
import traceback

REDACTED = "[redacted]"
# the loggers dramatiq writes tracebacks of failed jobs and middleware to
DRAMATIQ_LOGGERS = (
    "dramatiq.worker.Worker",
    "dramatiq.worker.WorkerThread",
    "dramatiq.broker.StubBroker",
    "dramatiq.broker.RedisBroker",
    "dramatiq.broker.RabbitmqBroker",
)

class RateLimitKeyFilter(logging.Filter):
    """Flask-Limiter's "ratelimit %s (%s) exceeded at endpoint: %s": keep the limit and endpoint, drop the key."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (isinstance(record.msg, str) and record.msg.startswith("ratelimit ") and isinstance(record.args, tuple)
                and len(record.args) == 3):
            record.args = (record.args[0], REDACTED, record.args[2])
        return True


class ExceptionTextFilter(logging.Filter):
    """Keep where a job failed (the frames and the exception types), never what the exception said."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redacted_traceback(record.exc_info[1])
            record.exc_info = None
        return True


def redacted_traceback(exception: BaseException) -> str:
    """A traceback with its frames and exception types, and no exception messages (which may quote data)."""
    lines: list[str] = []
    current: BaseException | None = exception
    seen: set[int] = set()
    chain: list[BaseException] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    for index, item in enumerate(reversed(chain)):
        if index:
            lines.append("\nwhich led to:\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(item.__traceback__))
        lines.append(f"{type(item).__module__}.{type(item).__qualname__}: {REDACTED}\n")
    return "".join(lines).rstrip("\n")


def install_redaction() -> None:
    """Attach the filters to the loggers that need them (idempotent)."""
    _add(logging.getLogger("flask-limiter"), RateLimitKeyFilter)
    for name in DRAMATIQ_LOGGERS:
        _add(logging.getLogger(name), ExceptionTextFilter)


def _add(logger: logging.Logger, kind: type[logging.Filter]) -> None:
    if not any(isinstance(existing, kind) for existing in logger.filters):
        logger.addFilter(kind())
