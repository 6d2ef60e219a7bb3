"""A small in-process cache with expiry, for what pages show for a few seconds (tallies, rendered pages)."""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

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


def shared_seconds(seconds: float) -> float:
    """How long the page for this request may be shared with other readers: ``seconds`` for an anonymous
    reader, 0 for anyone else, whose page is theirs alone."""
    return seconds if anonymous_reader() else 0.0
