"""After StorePipeline: hand each article stored as pending translation to the worker pool.

On only with a shared frontier (``NEWSMON_REDIS_URL``) and ``translate.during_crawl = false``;
see pipelines/translate/queue.py.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.items import Article
from pipelines.translate.articles import PENDING
from pipelines.translate.queue import TranslationQueue


class TranslationQueuePipeline:
    def __init__(self, queue: TranslationQueue, stats: StatsCollector) -> None:
        self.queue = queue
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TranslationQueuePipeline:
        s = crawler.settings
        url = s.get("NEWSMON_REDIS_URL")
        if not url or not s.getbool("NEWSMON_TRANSLATE_ENABLED") or s.getbool("NEWSMON_TRANSLATE_DURING_CRAWL"):
            raise NotConfigured  # off: no message, so Scrapy logs nothing
        queue = TranslationQueue.from_url(url)
        queue.ensure_group()
        return cls(queue, crawler.stats)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Article) and any(t.status == PENDING for t in item.translations):
            self.queue.add(item.id)
            self.stats.inc_value("newsmon/translate/queued")
        return item
