"""Notice when a stored article disappears: 404/410, or a redirect to the outlet's front page."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from crawler import wiring
from crawler.archive import META_KEY as WARC_RECORD_META
from search.store import SQLiteStore

GONE = (404, 410)


class RemovalMiddleware:
    """Downloader middleware: a re-checked article that is gone is marked removed in the store.

    Sits below ``RedirectMiddleware`` (600), so it sees where a redirect chain ended. Only URLs
    of stored articles count: a first fetch that fails is an error, not a removal. The article
    and all its versions stay; search flags it.
    """

    def __init__(self, store: SQLiteStore, stats: StatsCollector, crawler: Crawler | None = None) -> None:
        self.store, self.stats, self.crawler = store, stats, crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RemovalMiddleware:
        path = wiring.store_path(crawler.settings)
        middleware = cls(SQLiteStore(path), crawler.stats, crawler)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def front_pages(self) -> set[str]:
        """Paths that are an outlet's front page: "/", its home and each edition's root."""
        paths = {"", "/"}
        outlet = getattr(self.crawler.spider, "outlet", None) if self.crawler else None
        if outlet is not None:
            paths.add(urlsplit(outlet.home).path or "/")
            paths.update(urlsplit(e.url_prefix).path or "/" for e in outlet.editions if e.url_prefix)
        return paths

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        if request.meta.get("newsmon_kind") != "article":
            return response
        redirects = request.meta.get("redirect_urls", [])
        original = redirects[0] if redirects else request.url
        if response.status in GONE:
            reason = f"http-{response.status}"
        elif redirects and response.status == 200 and urlsplit(response.url).path in self.front_pages():
            reason = "redirect-to-front-page"
        else:
            return response
        article_id = self.store.mark_removed(
            original, removed_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), reason=reason,
            warc_record_id=request.meta.get(WARC_RECORD_META, ""),
        )
        if article_id is not None:
            self.stats.inc_value(f"newsmon/removed/{reason}")
        if reason == "redirect-to-front-page":  # the front page is no version of the article
            raise IgnoreRequest(f"sent to the front page: {original}")
        return response

    def spider_closed(self, spider: Spider) -> None:
        self.store.close()
