"""Upsert each article into the SQLite store (the system of record), off the reactor thread.

The process's one StoreWriter (crawler/writer.py) commits articles in batches on its own
thread; this pipeline awaits its article's outcome, so stats and order stay per article.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future

from crawler import shared, wiring
from crawler.items import Article
from crawler.writer import StoreWriter


class StorePipeline:
    """An item leaves this stage once its transaction is committed, so a crawl killed at any
    moment loses nothing that went on to the next stages."""

    def __init__(self, path: str, stats: StatsCollector) -> None:
        self.path = path
        self.stats = stats
        self.writer: StoreWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        path = wiring.store_path(crawler.settings)
        return cls(path, crawler.stats)

    def open_spider(self, spider=None) -> None:
        # one writer per process, shared by every outlet's spider (crawler.shared)
        self.writer = shared.acquire(("writer", self.path), lambda: StoreWriter(self.path))

    async def close_spider(self, spider=None) -> None:
        if self.writer is not None:
            await maybe_deferred_to_future(self.writer.flushed())
            shared.release(("writer", self.path), StoreWriter.close)
            self.writer = None

    async def process_item(self, item: Article) -> Article:
        assert self.writer is not None, "open_spider was not called"
        outcome = await maybe_deferred_to_future(self.writer.upsert(item))
        self.stats.inc_value(f"newsmon/articles/{outcome}")
        return item
