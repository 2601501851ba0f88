"""One of each heavy thing per crawl process, shared by every outlet's spider.

``newsmon crawl`` runs one Scrapy crawler per outlet in one process, and each crawler builds
its own components. What is heavy (a translation engine with its thread, a store connection,
the dedup index) is opened here once per process under a key, counted, and closed when the
last spider using it closes, so memory stays flat as outlets are added. Components call this
from ``open_spider``/``close_spider`` (the reactor thread), so no lock is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
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


# -- one named thread for blocking work ------------------------------------------------------
def single_thread(name: str) -> ThreadPoolExecutor:
    """One worker thread for a component's blocking work (its SQLite reads and writes), so the
    reactor thread never waits on them; one thread keeps the work in submission order."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"newsmon-{name}")


def stop_thread(pool: ThreadPoolExecutor) -> None:
    """Finish what was submitted, then end the thread."""
    pool.shutdown(wait=True)


async def in_thread(pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on ``pool``'s thread; the event loop (Scrapy's asyncio reactor) awaits it
    without blocking."""
    return await asyncio.wrap_future(pool.submit(fn, *args))
