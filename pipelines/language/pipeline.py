"""Detect each article's language (langdetect, deterministic, ISO 639-1)."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import Article
from pipelines.language.detect import LanguageDetector, apply_language


class LanguagePipeline:
    def __init__(self, detector: LanguageDetector, stats: StatsCollector) -> None:
        self.detector = detector
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LanguagePipeline:
        s = crawler.settings
        detector = LanguageDetector(
            seed=s.getint("NEWSMON_LANGUAGE_SEED"),
            min_chars=s.getint("NEWSMON_LANGUAGE_MIN_CHARS"),
            min_probability=s.getfloat("NEWSMON_LANGUAGE_MIN_PROBABILITY"),
        )
        return cls(detector, crawler.stats)

    def process_item(self, item: Article) -> Article:
        # NormalizePipeline put the edition's language there provisionally
        apply_language(item, self.detector, item.language)
        self.stats.inc_value(f"newsmon/language/{item.language or 'unknown'}")
        return item
