"""Upsert each article into the SQLite store (the system of record)."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler import shared
from crawler.items import Article
from search.store import SQLiteStore


class StorePipeline:
    """One transaction per article, so a crawl killed at any moment loses nothing stored."""

    def __init__(self, path: str, stats: StatsCollector) -> None:
        self.path = path
        self.stats = stats
        self.store: SQLiteStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        path = crawler.settings.get("NEWSMON_STORE_PATH")
        if not path:
            raise NotConfigured("NEWSMON_STORE_PATH is not set")
        return cls(path, crawler.stats)

    def open_spider(self, spider=None) -> None:
        # one connection per process, shared by every outlet's spider (crawler.shared)
        self.store = shared.acquire(("store", self.path), lambda: SQLiteStore(self.path))

    def close_spider(self, spider=None) -> None:
        if self.store is not None:
            shared.release(("store", self.path), SQLiteStore.close)
            self.store = None

    def process_item(self, item: Article) -> Article:
        if self.store is None:
            raise RuntimeError("open_spider was not called")
        report = self.store.upsert([item])
        for outcome in ("inserted", "updated", "unchanged", "duplicates"):
            if getattr(report, outcome):
                self.stats.inc_value(f"newsmon/articles/{outcome}")
        return item
