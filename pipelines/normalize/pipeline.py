"""Turn a fetched page into a normalized Article, or drop it with a named reason.

The work runs in the crawl's pool of worker processes (pipelines.cpu); this only awaits it.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.items import Article, PageItem
from pipelines import cpu


class NormalizePipeline:
    def __init__(self, stats: StatsCollector, *, min_words: int, max_bytes: int, workers: int) -> None:
        self.stats = stats
        self.min_words = min_words
        self.max_bytes = max_bytes
        self.pool = cpu.PoolLease(workers)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        settings = crawler.settings
        return cls(
            crawler.stats,
            min_words=settings.getint("NEWSMON_MIN_WORDS"),
            max_bytes=settings.getint("NEWSMON_MAX_PAGE_BYTES"),
            workers=settings.getint("NEWSMON_CPU_WORKERS"),
        )

    def open_spider(self, spider=None) -> None:
        self.pool.open()

    def close_spider(self, spider=None) -> None:
        self.pool.close()

    async def process_item(self, item: PageItem | Article) -> Article:
        if not isinstance(item, PageItem):
            return item
        article, reason, message = await self.pool.run(cpu.normalize, item, self.min_words,
                                                 self.max_bytes)
        if article is None:
            self.stats.inc_value(f"newsmon/dropped/{reason}")
            raise DropItem(message)
        self.stats.inc_value("newsmon/normalized")
        return article
