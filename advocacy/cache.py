"""A small in-process cache with expiry, for what pages show for a few seconds (tallies, rendered pages)."""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from flask import Response

V = TypeVar("V")


class TTLCache(Generic[V]):
    """Least-recently-used entries beyond ``maxsize`` are dropped, so odd keys cannot fill memory."""

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._refreshing: set[Hashable] = set()
        self._lock = threading.Lock()
        _all.add(self)

    def get_or_make(self, key: Hashable, ttl: float, make: Callable[[], V]) -> V:
        """The cached value; when it has expired one caller makes a new one while the others keep getting
        the old one, so a busy page is never rebuilt by every thread at once."""
        if ttl <= 0:
            return make()
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                if hit[0] > now or key in self._refreshing:
                    return hit[1]
            self._refreshing.add(key)
        try:
            value = make()
        finally:
            with self._lock:
                self._refreshing.discard(key)
        with self._lock:
            self._entries[key] = (time.monotonic() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value

    def get(self, key: Hashable) -> V | None:
        """The value if it is there and fresh, else None (nothing is made)."""
        hit = self._entries.get(key)
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def put(self, key: Hashable, ttl: float, value: V) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_all: weakref.WeakSet[TTLCache[Any]] = weakref.WeakSet()


def clear_all() -> None:
    """Forget everything every cache of this process holds (after loading data, and between tests)."""
    for cache in list(_all):
        cache.clear()


# What an anonymous reader's session may hold: a CSRF token, nothing about who they are.
ANONYMOUS_SESSION_KEYS = frozenset({"csrf_token"})


def anonymous_reader() -> bool:
    """True unless the session holds more than a CSRF token (a login, a flashed message)."""
    from flask import session

    return set(session).issubset(ANONYMOUS_SESSION_KEYS)


def private(response: Response) -> Response:
    """The after-request hook of pages that are one person's (the console, log-in and account pages): never
    stored by a browser or a proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def shared_seconds(seconds: float) -> float:
    """How long the page for this request may be shared with other readers: ``seconds`` for an anonymous
    reader, 0 for anyone else, whose page is theirs alone."""
    return seconds if anonymous_reader() else 0.0


# --- the front of the app: shared answers served without going through Flask -----------------------------

SHARE_KEY = "advocacy.share"
# Long enough to take a burst, short against the page cache's own seconds: an answer is at most this much
# older than the view's shared copy it was taken from.
FRONT_SECONDS = 1.0

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def share_response(locale: str) -> None:
    """A view says its answer to this request is the one every anonymous reader of ``locale`` gets: the front
    may hand the same bytes and headers to the next such readers of this path for ``FRONT_SECONDS``."""
    from flask import request

    request.environ[SHARE_KEY] = locale


class FrontCache:
    """WSGI middleware in front of Flask: a GET with no cookie and no query string, for a path whose last
    answer a view declared shared (``share_response``) in the reader's language, gets that answer again
    (status, every header the app's hooks added, body) without Flask, the session or the database.

    Only complete 200 answers without ``Set-Cookie`` are kept, a Host the app does not answer is never
    served from here (Flask refuses it with 400), and everything is forgotten with the other caches
    (``clear_all``: a petition that opens or closes). The language is chosen as the app chooses it for a
    reader without a cookie or ``?lang=``: from Accept-Language (``locale_for``).
    """

    def __init__(self, app: WSGIApp, *, trusted_hosts: list[str] | None,
                 locale_for: Callable[[str], str], seconds: float = FRONT_SECONDS) -> None:
        self.app = app
        self.trusted_hosts = trusted_hosts
        self.locale_for = locale_for
        self.seconds = seconds
        self._answers: TTLCache[tuple[str, list[tuple[str, str]], bytes]] = TTLCache(maxsize=512)

    def _eligible(self, environ: dict[str, Any]) -> bool:
        from werkzeug.sansio.utils import host_is_trusted

        if (environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING") or "HTTP_COOKIE" in environ
                or self.seconds <= 0):
            return False
        return self.trusted_hosts is None or host_is_trusted(environ.get("HTTP_HOST"), self.trusted_hosts)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        eligible = self._eligible(environ)
        if eligible:
            key = (environ.get("PATH_INFO", ""), self.locale_for(environ.get("HTTP_ACCEPT_LANGUAGE", "")))
            hit = self._answers.get(key)
            if hit is not None:
                status, headers, body = hit
                start_response(status, list(headers))
                return [body]
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        answer = self.app(environ, capture)
        locale = environ.get(SHARE_KEY)
        if not (eligible and locale and captured and captured[0].startswith("200 ")) or any(
                name.lower() == "set-cookie" for name, _value in captured[1]):
            return answer
        try:
            body = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        if locale == self.locale_for(environ.get("HTTP_ACCEPT_LANGUAGE", "")):
            self._answers.put((environ.get("PATH_INFO", ""), locale), self.seconds,
                              (captured[0], list(captured[1]), body))
        return [body]
