"""Downloader middlewares of the newsmon project."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future

from crawler import shared, wiring
from crawler.fetchlog import SharedFetchLog
from crawler.frontier import client
from crawler.items import Article
from crawler.writer import StoreWriter
from search.store import SQLiteStore

FETCHED_AT_META = "newsmon_fetched_at"  # when the response arrived (UTC, as stored)
_TIME = "%Y-%m-%dT%H:%M:%SZ"


class Skipped(IgnoreRequest):
    """A request newsmon skips on purpose (already fetched, not modified): not a failure."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class IncrementalMiddleware:
    """Skip article URLs newsmon already fetched; re-check them only when they are due.

    The fetch log in the store says which URLs were fetched and what came of them. It is
    written when an item has gone through every pipeline (``item_scraped``) or was dropped
    (``item_dropped``), so a crawl killed halfway re-fetches what it had not stored yet. It
    records when the response arrived, not when the pipelines finished: an article is stored
    (``first_seen``) after its fetch, and a re-check schedule counted from ``first_seen`` must
    not see that same fetch as a later one.
    With ``crawl.recheck_after_hours`` > 0, a known URL older than that is fetched again
    with ``If-None-Match``/``If-Modified-Since``; a 304 costs no body and stores nothing.
    """

    def __init__(self, store: SQLiteStore, stats: StatsCollector, recheck_after: timedelta | None,
                 shared: SharedFetchLog | None = None) -> None:
        self.store = store
        self.stats = stats
        self.recheck_after = recheck_after
        self.shared = shared  # with a shared frontier: what every crawl process fetched

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        path = wiring.store_path(crawler.settings)
        hours = crawler.settings.getfloat("NEWSMON_RECHECK_AFTER_HOURS")
        redis_url = crawler.settings.get("NEWSMON_REDIS_URL")
        fetch_log = SharedFetchLog(client(redis_url)) if redis_url else None
        # one connection per process, shared by every outlet's spider (crawler.shared)
        store = shared.acquire(("fetchlog", path), lambda: SQLiteStore(path))
        middleware = cls(store, crawler.stats, timedelta(hours=hours) if hours > 0 else None,
                         fetch_log)
        middleware.store_key = path
        middleware.writer = shared.acquire(("writer", path), lambda: StoreWriter(path))
        crawler.signals.connect(middleware.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(middleware.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("newsmon_kind") != "article":
            return
        seen = (self.shared and self.shared.last_fetch(request.url)) or self.store.last_fetch(request.url)
        if seen is None:
            return
        if seen["outcome"].startswith("error"):
            return  # a transient failure last time: try again
        fetched_at = datetime.fromisoformat(seen["fetched_at"])
        scheduled = request.meta.get("newsmon_recheck", False)  # crawler.rechecks chose it
        if not scheduled and (self.recheck_after is None or _utc_now() - fetched_at < self.recheck_after):
            self.stats.inc_value("newsmon/incremental/skipped_known")
            raise Skipped(f"already fetched: {request.url}")
        self.stats.inc_value("newsmon/incremental/rechecked")
        if seen["etag"]:
            request.headers.setdefault(b"If-None-Match", seen["etag"].encode("latin-1"))
        if seen["last_modified"]:
            request.headers.setdefault(b"If-Modified-Since", seen["last_modified"].encode("latin-1"))

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if request.meta.get("newsmon_kind") == "article":
            request.meta[FETCHED_AT_META] = _utc_now().strftime(_TIME)
        if request.meta.get("newsmon_kind") == "article" and response.status == 304:
            self.stats.inc_value("newsmon/incremental/not_modified")
            self._record(request, request.url, response, "not-modified")
            raise Skipped(f"not modified: {request.url}")
        if request.meta.get("newsmon_kind") == "article" and response.status in (404, 410):
            self._record(request, request.url, response, f"gone:{response.status}")
        return response

    def item_scraped(self, item: Any, response: Response, spider: Spider) -> None:
        if isinstance(item, Article):
            self._record_page(response, "stored", item.id)

    def item_dropped(self, item: Any, response: Response, exception: Exception, spider: Spider) -> None:
        reason = getattr(exception, "reason", None) or str(exception).split(":")[0]
        self._record_page(response, f"dropped:{reason}")

    def _record_page(self, response: Response, outcome: str, article_id: str = "") -> None:
        request = response.request
        for url in [*request.meta.get("redirect_urls", []), response.url]:
            self._record(request, url, response, outcome, article_id)

    def _record(self, request: Request, url: str, response: Response, outcome: str,
                article_id: str = "") -> None:
        entry = {
            "outlet": request.meta.get("newsmon_outlet", ""),
            "fetched_at": request.meta.get(FETCHED_AT_META) or _utc_now().strftime(_TIME),
            "status": response.status,
            "outcome": outcome,
            "etag": (response.headers.get(b"ETag") or b"").decode("latin-1"),
            "last_modified": (response.headers.get(b"Last-Modified") or b"").decode("latin-1"),
            "article_id": article_id,
        }
        self.writer.record_fetch(url, **entry)  # written off the reactor thread
        if self.shared is not None:
            self.shared.record_fetch(url, **entry)

    async def spider_closed(self, spider: Spider) -> None:
        shared.release(("fetchlog", self.store_key), SQLiteStore.close)
        await maybe_deferred_to_future(self.writer.flushed())
        shared.release(("writer", self.store_key), StoreWriter.close)


def retry_after_seconds(value: bytes | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delay-seconds or an HTTP date); None if
    absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or _utc_now())).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's retries, but a 429 or 503 with ``Retry-After`` is retried only after that wait.

    A server that asks for more than ``NEWSMON_RETRY_AFTER_MAX`` seconds is not retried in
    this crawl (the request fails as ``http_429``/``http_503``, counted).
    """

    def __init__(self, settings: Any, max_wait: float) -> None:
        super().__init__(settings)
        self.max_wait = max_wait

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        middleware = cls(crawler.settings, crawler.settings.getfloat("NEWSMON_RETRY_AFTER_MAX"))
        middleware.crawler = crawler
        return middleware

    async def process_response(self, request: Request, response: Response,
                               spider: Spider | None = None) -> Request | Response:
        wait = None
        if response.status in (429, 503) and not request.meta.get("dont_retry", False):
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        stats = self.crawler.stats
        if wait is not None and wait > self.max_wait:
            stats.inc_value("newsmon/retry_after/too_long")
            return response
        if wait:
            from twisted.internet import reactor, task  # the running reactor, not a default one

            stats.inc_value("newsmon/retry_after/waited")
            await maybe_deferred_to_future(task.deferLater(reactor, wait, lambda: None))
        return super().process_response(request, response)


class RedirectLoopMiddleware:
    """Stop a redirect chain at the first URL it comes back to.

    The duplicate filter ends a loop for ordinary requests, but not for those that bypass it
    (``dont_filter``: a retry after a timeout, a re-check), whose loops ran to
    ``REDIRECT_MAX_TIMES`` (20 fetches of one page). Counted as ``errors/<kind>/redirect_loop``.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectLoopMiddleware:
        return cls(crawler.stats)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.url not in request.meta.get("redirect_urls", ()):
            return
        kind = request.meta.get("newsmon_kind", "other")
        self.stats.inc_value(f"newsmon/errors/{kind}/redirect_loop")
        raise Skipped(f"redirect loop back to {request.url}")
