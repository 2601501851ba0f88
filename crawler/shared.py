"""One of each heavy thing per crawl process, shared by every outlet's spider.

``newsmon crawl`` runs one Scrapy crawler per outlet in one process, and each crawler builds
its own components. What is heavy (a translation engine with its thread, a store connection,
the dedup index) is opened here once per process under a key, counted, and closed when the
last spider using it closes, so memory stays flat as outlets are added. Components call this
from ``open_spider``/``close_spider`` (the reactor thread), so no lock is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_open: dict[Hashable, list[Any]] = {}  # key -> [thing, users]


def acquire(key: Hashable, make: Callable[[], T]) -> T:
    """The thing under ``key``, made by ``make()`` for its first user."""
    entry = _open.get(key)
    if entry is None:
        entry = _open[key] = [make(), 0]
    entry[1] += 1
    return entry[0]


def release(key: Hashable, close: Callable[[Any], None]) -> None:
    """One user fewer; the last one out closes the thing."""
    entry = _open.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] <= 0:
        del _open[key]
        close(entry[0])


def users(key: Hashable) -> int:
    entry = _open.get(key)
    return entry[1] if entry else 0
