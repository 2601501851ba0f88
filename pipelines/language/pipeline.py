"""Detect each article's language (langdetect, deterministic, ISO 639-1).

The detection runs in the crawl's pool of worker processes (pipelines.cpu).
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import Article
from pipelines import cpu


class LanguagePipeline:
    def __init__(self, stats: StatsCollector, *, seed: int, min_chars: int, min_probability: float,
                 workers: int) -> None:
        self.stats = stats
        self.options = (seed, min_chars, min_probability)
        self.pool = cpu.PoolLease(workers)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LanguagePipeline:
        s = crawler.settings
        return cls(
            crawler.stats,
            seed=s.getint("NEWSMON_LANGUAGE_SEED"),
            min_chars=s.getint("NEWSMON_LANGUAGE_MIN_CHARS"),
            min_probability=s.getfloat("NEWSMON_LANGUAGE_MIN_PROBABILITY"),
            workers=s.getint("NEWSMON_CPU_WORKERS"),
        )

    def open_spider(self, spider=None) -> None:
        self.pool.open()

    def close_spider(self, spider=None) -> None:
        self.pool.close()

    async def process_item(self, item: Article) -> Article:
        if not isinstance(item, Article):
            return item
        # NormalizePipeline put the edition's language there provisionally
        item = await self.pool.run(cpu.detect_language, item, *self.options)
        self.stats.inc_value(f"newsmon/language/{item.language or 'unknown'}")
        return item
