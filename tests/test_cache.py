"""What pages show for a few seconds: expiry, size bound, one rebuild at a time."""

from __future__ import annotations

import threading
import time

from advocacy.cache import TTLCache


def test_values_expire_and_are_rebuilt():
    cache: TTLCache[int] = TTLCache()
    calls = []

    def make() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get_or_make("k", 0.2, make) == 1
    assert cache.get_or_make("k", 0.2, make) == 1
    time.sleep(0.25)
    assert cache.get_or_make("k", 0.2, make) == 2
    assert cache.get_or_make("other", 0, make) == 3  # no caching when the time is 0
    assert cache.get_or_make("other", 0, make) == 4


def test_size_is_bounded():
    cache: TTLCache[int] = TTLCache(maxsize=3)
    for n in range(10):
        cache.get_or_make(n, 60, lambda n=n: n)
    assert len(cache._entries) == 3


def test_an_expired_value_is_rebuilt_by_one_thread_while_others_get_the_old_one():
    cache: TTLCache[str] = TTLCache()
    cache.get_or_make("page", 0.01, lambda: "old")
    time.sleep(0.02)
    started, release = threading.Event(), threading.Event()
    builds = []

    def slow_build() -> str:
        builds.append(1)
        started.set()
        release.wait(5)
        return "new"

    builder = threading.Thread(target=lambda: cache.get_or_make("page", 60, slow_build))
    builder.start()
    assert started.wait(5)
    assert cache.get_or_make("page", 60, slow_build) == "old"
    release.set()
    builder.join(5)
    assert cache.get_or_make("page", 60, slow_build) == "new"
    assert builds == [1]
