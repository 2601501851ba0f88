"""The fetch log every crawl process sees, in Redis: which URLs any process already fetched.

Each process still writes its own store's fetch log (``search.store``); with a shared frontier
the incremental check asks this one first, so a URL stored by a process on another machine is
not fetched again. One hash, ``newsmon:fetches``: URL -> the JSON of its last fetch entry.
"""

from __future__ import annotations

import json
from typing import Any

import redis

KEY = "newsmon:fetches"


class SharedFetchLog:
    def __init__(self, server: redis.Redis) -> None:
        self.server = server

    def last_fetch(self, url: str) -> dict[str, Any] | None:
        raw = self.server.hget(KEY, url)
        return json.loads(raw) if raw else None

    def record_fetch(self, url: str, **entry: Any) -> None:
        self.server.hset(KEY, url, json.dumps({"url": url, **entry}, ensure_ascii=False))
