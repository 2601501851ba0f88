"""Turn a fetched page into a normalized Article, or drop it with a named reason."""

from __future__ import annotations

import hashlib

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.items import Article, PageItem
from newsmon.encoding import decode_html
from newsmon.extract import NotAnArticle, extract_article
from newsmon.urls import canonicalize

_HTML_TYPES = ("text/html", "application/xhtml+xml")


class PageDropped(DropItem):
    """DropItem with a machine-readable reason (it names a stats counter)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def looks_like_html(content_type: str, body: bytes) -> bool:
    mime = content_type.split(";")[0].strip().lower()
    if mime:
        return mime in _HTML_TYPES
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def page_to_article(page: PageItem, *, min_words: int, max_bytes: int) -> Article:
    """Decode, extract and normalize one page; raises PageDropped(reason) for non-articles."""
    if page.status != 200:
        raise PageDropped("http-status", str(page.status))
    if len(page.body) > max_bytes:
        raise PageDropped("too-large", f"{len(page.body)} bytes")
    if not looks_like_html(page.content_type, page.body):
        raise PageDropped("not-html", page.content_type or "unknown type")
    html, _encoding = decode_html(page.body, page.content_type or None)
    try:
        extracted = extract_article(
            html, page.url, hints=page.hints, content_language=page.content_language,
            min_words=min_words,
        )
    except NotAnArticle as exc:
        raise PageDropped(exc.reason, str(exc)) from None
    urls = [canonicalize(u) for u in [page.url, *page.requested_urls]]
    article = Article(
        canonical_url=extracted.canonical_url,
        outlet=page.outlet,
        edition=page.edition,
        title=extracted.title,
        body=extracted.body,
        urls=list(dict.fromkeys([extracted.canonical_url, *urls])),
        authors=extracted.authors,
        published=extracted.published,
        updated=extracted.updated,
        section=extracted.section,
        tags=extracted.tags,
        declared_language=extracted.declared_language,
        language=page.edition_language,  # provisional; LanguagePipeline decides
        language_source="edition",
        fetched_at=page.fetched_at,
        http_status=page.status,
        raw_sha256=hashlib.sha256(page.body).hexdigest(),
    )
    return article


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
            min_words=settings.getint("NEWSMON_MIN_WORDS", 60),
            max_bytes=settings.getint("NEWSMON_MAX_PAGE_BYTES", 5_000_000),
        )

    def process_item(self, item: PageItem | Article) -> Article:
        if not isinstance(item, PageItem):
            return item
        try:
            article = page_to_article(item, min_words=self.min_words, max_bytes=self.max_bytes)
        except PageDropped as exc:
            self.stats.inc_value(f"newsmon/dropped/{exc.reason}")
            raise
        self.stats.inc_value("newsmon/normalized")
        return article
