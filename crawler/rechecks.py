"""Re-check stored articles on a schedule that favours recent ones (1 h, 6 h, 1 day, 1 week).

Feeds list an article for a day or two and a removed one not at all, so discovery alone
would never see an article change late or disappear. This spider middleware adds, after
the spider's own start requests, one request per stored article of the outlet that passed a
checkpoint of ``crawl.recheck_schedule_hours`` (counted from when newsmon first saw it)
without being fetched since.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler import wiring
from search.store import SQLiteStore

_TIME = "%Y-%m-%dT%H:%M:%SZ"


def due(first_seen: datetime, last_fetch: datetime | None, now: datetime,
        schedule: list[timedelta]) -> bool:
    """True when a checkpoint (first_seen + step) has passed with no fetch since it."""
    passed = [first_seen + step for step in schedule if first_seen + step <= now]
    return bool(passed) and (last_fetch is None or last_fetch < max(passed))


def _parse(value: str | None) -> datetime | None:
    return datetime.strptime(value, _TIME).replace(tzinfo=UTC) if value else None


class RecheckMiddleware:
    """Spider middleware: yield the due re-checks of stored articles after the start requests."""

    def __init__(self, store_path: str, schedule: list[timedelta], stats: StatsCollector,
                 crawler: Crawler | None = None) -> None:
        self.store_path, self.schedule, self.stats, self.crawler = store_path, schedule, stats, crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecheckMiddleware:
        path = wiring.store_path(crawler.settings)
        hours = [float(h) for h in crawler.settings.getlist("NEWSMON_RECHECK_SCHEDULE_HOURS")]
        if not hours:
            raise NotConfigured("NEWSMON_RECHECK_SCHEDULE_HOURS is empty")
        return cls(path, sorted(timedelta(hours=h) for h in hours), crawler.stats, crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for request in start:
            yield request
        spider = self.crawler.spider if self.crawler else None
        outlet = getattr(spider, "outlet", None)
        if outlet is None:
            return
        for request in self.requests(spider, outlet.id):
            yield request

    def requests(self, spider: Any, outlet_id: str) -> list[scrapy.Request]:
        now = datetime.now(UTC)
        since = (now - self.schedule[-1] - timedelta(days=7)).strftime(_TIME)
        store = SQLiteStore(self.store_path)
        try:
            candidates = store.recheck_candidates(outlet_id, since)
        finally:
            store.close()
        requests = []
        for row in candidates:
            first_seen = _parse(row["first_seen"])
            last = max(filter(None, (_parse(row["last_fetch"]), _parse(row["last_seen"]))), default=None)
            if first_seen is None or not due(first_seen, last, now, self.schedule):
                continue
            self.stats.inc_value("newsmon/incremental/scheduled_recheck")
            requests.append(scrapy.Request(
                # dont_filter: the same URL found in a feed is skipped as known by the
                # IncrementalMiddleware and must not make the duplicate filter drop this one
                row["canonical_url"], callback=spider.parse_article, errback=spider.on_error,
                dont_filter=True,
                meta={"newsmon_kind": "article", "newsmon_edition": row["edition"],
                      "newsmon_outlet": outlet_id, "newsmon_recheck": True},
            ))
        return requests
