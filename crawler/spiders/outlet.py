"""The generic outlet spider: discover articles through feeds and sitemaps, fetch them.

One subclass per outlet is made from its definition (``crawler.spiderloader``); nothing here
is specific to an outlet. Only URLs matching the outlet's ``article_pattern`` are fetched.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from crawler.archive import META_KEY as WARC_RECORD_META
from crawler.items import PageItem
from crawler.middlewares import Skipped
from crawler.outlets import Edition, Outlet
from crawler.signals import request_finished
from crawler.urls import canonicalize

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit, uncompressed


class OutletSpider(scrapy.Spider):
    outlet: Outlet  # set on each generated subclass

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sitemaps_seen: set[str] = set()  # sitemap URLs requested: an index cycle ends

    @property
    def max_sitemap_bytes(self) -> int:
        """Decompressed sitemap limit: DOWNLOAD_MAXSIZE, and never above the protocol's 50 MB."""
        limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE") if hasattr(self, "crawler") else 0
        return min(limit, MAX_SITEMAP_BYTES) if limit > 0 else MAX_SITEMAP_BYTES

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for edition in self.outlet.editions:
            for url in edition.feeds:
                yield self._discovery_request(url, self.parse_feed, edition)
            for url in edition.sitemaps:
                self._sitemaps_seen.add(url)
                yield self._discovery_request(url, self.parse_sitemap, edition)

    def _discovery_request(self, url: str, callback: Any, edition: Edition) -> scrapy.Request:
        # feeds are fetched again in each crawl; on a shared frontier (several processes) the
        # shared duplicate filter lets only one process fetch each
        shared = bool(self.crawler.settings.get("NEWSMON_REDIS_URL"))
        return scrapy.Request(
            url, callback=callback, errback=self.on_error, dont_filter=not shared,
            cb_kwargs={"edition": edition}, meta={"newsmon_kind": "discovery"},
        )

    # -- discovery ----------------------------------------------------------------------------
    def parse_feed(self, response: Response, edition: Edition) -> Iterator[scrapy.Request]:
        """RSS or Atom; a malformed feed yields what feedparser could recover, and is counted."""
        self._count("feeds/fetched")
        feed = feedparser.parse(response.body)
        if feed.bozo:
            self._count("feeds/malformed")
            self.logger.warning("malformed feed %s: %s", response.url, feed.bozo_exception)
        for entry in feed.entries:
            link = entry.get("link")
            if link:
                yield from self._article_request(link, edition, response.url)

    def parse_sitemap(self, response: Response, edition: Edition) -> Iterator[scrapy.Request]:
        """A sitemap index (follow it), a urlset or a Google News sitemap (articles)."""
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:  # decompressed in chunks, stopped at the limit: a small bomb stays small
                body = gunzip(body, max_size=self.max_sitemap_bytes)
            except _DecompressionMaxSizeExceeded:
                self._count("sitemaps/too_large")
                self.logger.warning("sitemap %s is larger than %d bytes decompressed: skipped",
                                    response.url, self.max_sitemap_bytes)
                return
            except (OSError, EOFError, ValueError, zlib.error) as exc:
                self._count("sitemaps/malformed")
                self.logger.warning("malformed sitemap %s: bad gzip data (%s)", response.url, exc)
                return
        try:
            sitemap = Sitemap(body)
        except Exception as exc:  # noqa: BLE001 - lxml raises several types on garbage; count, go on
            self._count("sitemaps/malformed")
            self.logger.warning("malformed sitemap %s: %s", response.url, exc)
            return
        self._count("sitemaps/fetched")
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                url = response.urljoin(loc)
                if url in self._sitemaps_seen:  # an index that lists itself, or a cycle
                    self._count("sitemaps/repeated")
                    continue
                self._sitemaps_seen.add(url)
                yield self._discovery_request(url, self.parse_sitemap, edition)
            else:
                yield from self._article_request(loc, edition, response.url)

    def _article_request(self, link: str, edition: Edition, source: str) -> Iterator[scrapy.Request]:
        try:
            url = canonicalize(link, base=source)
        except ValueError:  # a broken IPv6 literal or port: one bad link, not a bad feed
            self._count("links/invalid")
            return
        if not self.outlet.is_article_url(url):
            self._count("links/not_article")
            return
        self._count("links/article")
        yield scrapy.Request(
            url, callback=self.parse_article, errback=self.on_error,
            meta={"newsmon_kind": "article", "newsmon_edition": edition.id, "newsmon_outlet": self.outlet.id},
        )

    # -- articles -----------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[PageItem]:
        edition_id = response.meta.get("newsmon_edition", "")
        default = next((e for e in self.outlet.editions if e.id == edition_id), None)
        edition = self.outlet.edition_for(response.url, default)
        yield PageItem(
            url=response.url,
            outlet=self.outlet.id,
            edition=edition.id,
            edition_language=edition.language,
            status=response.status,
            body=response.body,
            content_type=_header(response, b"Content-Type"),
            content_language=_header(response, b"Content-Language"),
            fetched_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            requested_urls=list(response.meta.get("redirect_urls", [])),
            hints=dict(self.outlet.hints),
            warc_record_id=response.meta.get(WARC_RECORD_META, ""),
        )

    def on_error(self, failure: Failure) -> None:
        """Count every failed request by kind and a named reason; the crawl goes on."""
        request = failure.request
        kind = request.meta.get("newsmon_kind", "other")
        reason = failure_reason(failure)
        if reason is not None:  # None: skipped on purpose, and counted by whoever skipped it
            self._count(f"errors/{kind}/{reason}")
            self.logger.info("failed %s (%s): %s", request.url, kind, reason)
        self.crawler.signals.send_catch_log(request_finished, request=request)

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(f"newsmon/{key}")

    @classmethod
    def handles_request(cls, request: scrapy.Request) -> bool:
        return cls.outlet.is_article_url(request.url)


# Scrapy's download errors, by the name a crawl summary shows
_ERROR_NAMES = {
    "DownloadTimeoutError": "timeout", "TimeoutError": "timeout", "TCPTimedOutError": "timeout",
    "DownloadCancelledError": "too_large", "ResponseDataLossError": "data_loss",
    "ResponseNeverReceived": "no_response", "ResponseFailed": "connection_lost",
    "ConnectionLost": "connection_lost", "ConnectionRefusedError": "connection_refused",
    "DownloadConnectionRefusedError": "connection_refused", "DNSLookupError": "dns",
    "CannotResolveHostError": "dns", "ConnectError": "connect_failed",
    "DownloadFailedError": "download_failed", "UnsupportedURLSchemeError": "unsupported_scheme",
}
# IgnoreRequest messages of Scrapy's own middlewares, by name
_IGNORED = (("DOWNLOAD_MAXSIZE", "too_large"), ("max redirections", "redirect_loop"))


def failure_reason(failure: Failure) -> str | None:
    """A short name for why a request failed; None when it was skipped on purpose
    (already known, not modified, robots.txt, offsite: each counted where it is skipped)."""
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(Skipped):
        return None
    if failure.check(zlib.error, gzip.BadGzipFile):  # Content-Encoding that does not decode
        return "bad_content_encoding"
    if failure.check(IgnoreRequest):
        message = str(failure.value)
        return next((name for text, name in _IGNORED if text in message), None)
    return error_name(failure.type.__name__)


def error_name(exception_type: str) -> str:
    """The summary's name for an exception type (``DownloadTimeoutError`` -> ``timeout``)."""
    name = exception_type.rsplit(".", 1)[-1]
    return _ERROR_NAMES.get(name, name)


def _header(response: Response, name: bytes) -> str:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else ""
