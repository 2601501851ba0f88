"""Turn a fetched page into a normalized Article, or drop it with a named reason."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.items import Article, PageItem
from pipelines.normalize.extract import NotAnArticle
from pipelines.normalize.page import page_to_article


class NormalizePipeline:
    def __init__(self, stats: StatsCollector, *, min_words: int, max_bytes: int) -> None:
        self.stats = stats
        self.min_words = min_words
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        settings = crawler.settings
        return cls(
            crawler.stats,
            min_words=settings.getint("NEWSMON_MIN_WORDS"),
            max_bytes=settings.getint("NEWSMON_MAX_PAGE_BYTES"),
        )

    def process_item(self, item: PageItem | Article) -> Article:
        if not isinstance(item, PageItem):
            return item
        try:
            article = page_to_article(item, min_words=self.min_words, max_bytes=self.max_bytes)
        except NotAnArticle as exc:
            self.stats.inc_value(f"newsmon/dropped/{exc.reason}")
            raise DropItem(str(exc)) from None
        self.stats.inc_value("newsmon/normalized")
        return article
