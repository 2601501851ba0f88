"""Detect each article's language (langdetect, deterministic, ISO 639-1)."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler.items import Article
from newsmon.language import LanguageDetector


def apply_language(article: Article, detector: LanguageDetector, edition_language: str) -> Article:
    guess = detector.guess(
        article.title + "\n\n" + article.body,
        declared=article.declared_language,
        edition=edition_language,
    )
    article.language = guess.language
    article.language_probability = guess.probability
    article.language_source = guess.source
    return article


class LanguagePipeline:
    def __init__(self, detector: LanguageDetector, stats: StatsCollector) -> None:
        self.detector = detector
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LanguagePipeline:
        s = crawler.settings
        detector = LanguageDetector(
            seed=s.getint("NEWSMON_LANGUAGE_SEED", 0),
            min_chars=s.getint("NEWSMON_LANGUAGE_MIN_CHARS", 120),
            min_probability=s.getfloat("NEWSMON_LANGUAGE_MIN_PROBABILITY", 0.8),
        )
        return cls(detector, crawler.stats)

    def process_item(self, item: Article) -> Article:
        # NormalizePipeline put the edition's language there provisionally
        apply_language(item, self.detector, item.language)
        self.stats.inc_value(f"newsmon/language/{item.language or 'unknown'}")
        return item
