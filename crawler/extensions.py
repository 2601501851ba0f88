"""Scrapy extensions of the newsmon project."""

from __future__ import annotations

import sqlite3
import sys
from typing import Any, TextIO

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task
from twisted.python.failure import Failure


def progress_line(stats: dict, spider_name: str) -> str:
    """One line: pages fetched, articles stored, dropped by reason, errors."""
    dropped = {
        key.rsplit("/", 1)[1]: value
        for key, value in stats.items()
        if key.startswith("newsmon/dropped/")
    }
    errors = sum(v for k, v in stats.items() if k.startswith("newsmon/errors/"))
    stored = sum(stats.get(f"newsmon/articles/{k}", 0) for k in ("inserted", "updated"))
    parts = [
        f"{spider_name}: {stats.get('response_received_count', 0)} pages fetched",
        f"{stored} articles stored",
        f"{stats.get('newsmon/articles/duplicates', 0)} duplicates",
        f"{stats.get('newsmon/incremental/skipped_known', 0)} known skipped",
    ]
    if dropped:
        parts.append("dropped " + ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())))
    if errors:
        parts.append(f"{errors} errors")
    return ", ".join(parts)


class CrawlProgress:
    """Print a progress line every few seconds (the ``newsmon crawl`` CLI turns this on)."""

    def __init__(self, stats: StatsCollector, interval: float, stream: TextIO) -> None:
        self.stats, self.interval, self.stream = stats, interval, stream
        self._task: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        interval = crawler.settings.getfloat("NEWSMON_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured  # off unless asked for (`newsmon crawl` asks): no warning

        extension = cls(crawler.stats, interval, sys.stderr)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self._task = task.LoopingCall(self._print, spider)
        self._task.start(self.interval, now=False)

    def _print(self, spider: Spider) -> None:
        print(progress_line(self.stats.get_stats(), spider.name), file=self.stream, flush=True)

    def spider_closed(self, spider: Spider) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()


def store_unwritable(exc: BaseException) -> bool:
    """True for SQLite's errors that no retry of this item can fix: disk full, read-only file
    or folder, I/O error."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return any(words in text for words in ("disk is full", "readonly", "read-only",
                                           "disk i/o error", "unable to open database"))


class StoreGuard:
    """Stop the crawl at the first write the store refuses (disk full, read-only), instead of
    fetching pages that cannot be kept. What was committed stays; what was not is fetched
    again by the next crawl (the fetch log records only stored pages)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreGuard:
        guard = cls(crawler)
        crawler.signals.connect(guard.item_error, signal=signals.item_error)
        return guard

    def item_error(self, item: Any, response: Any, spider: Spider, failure: Failure) -> None:
        if not store_unwritable(failure.value) or self.crawler.engine is None:
            return
        stats = self.crawler.stats
        if stats.get_value("newsmon/store/unwritable") is None:
            stats.set_value("newsmon/store/unwritable", " ".join(str(failure.value).split()))
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_unwritable"))
