"""Run newsmon's spiders in this process (Scrapy's CrawlerProcess) and summarize the crawl."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.config import Config
from crawler.outlets import load_outlets
from crawler.spiders.outlet import error_name
from search.errors import NewsmonError, NotFound
from search.store import SQLiteStore


class NothingFetched(NewsmonError):
    """Every request of a crawl failed (no network, wrong proxy, every site down)."""

    exit_code = 3


# stats that say a response was usable: a feed or sitemap read, a page that became an item
_USABLE = ("newsmon/feeds/fetched", "newsmon/sitemaps/fetched", "newsmon/sitemaps/malformed",
           "newsmon/sitemaps/too_large", "item_scraped_count", "item_dropped_count",
           "newsmon/incremental/not_modified")


def crawler_settings(config: Config, overrides: dict[str, Any] | None = None) -> Settings:
    """Project settings, then the configuration, then explicit overrides (highest)."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if config.source is not None:
        settings.set("NEWSMON_CONFIG", str(config.source), priority="cmdline")
    for name, value in config.scrapy_settings().items():
        settings.set(name, value, priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


@dataclass
class CrawlSummary:
    outlet: str
    stats: dict[str, Any] = field(default_factory=dict)

    def count(self, key: str) -> int:
        return int(self.stats.get(key, 0))

    def prefixed(self, prefix: str) -> dict[str, int]:
        return {k[len(prefix):]: int(v) for k, v in sorted(self.stats.items()) if k.startswith(prefix)}


class _OneLineNetworkErrors(logging.Filter):
    """Scrapy logs a traceback when a robots.txt cannot be downloaded; for a network error
    (refused, no DNS, timeout) the message alone says it all."""

    def filter(self, record: logging.LogRecord) -> bool:
        from scrapy import exceptions
        from twisted.internet import error

        network = (exceptions.DownloadConnectionRefusedError, exceptions.CannotResolveHostError,
                   exceptions.DownloadTimeoutError, exceptions.DownloadFailedError,
                   exceptions.ResponseDataLossError, error.ConnectError, error.DNSLookupError,
                   error.TimeoutError, OSError)
        if record.exc_info and isinstance(record.exc_info[1], network):
            record.exc_info, record.exc_text = None, None
        return True


def run_crawl(config: Config, outlet_ids: list[str], overrides: dict[str, Any] | None = None) -> list[CrawlSummary]:
    """Crawl the given outlets (all when empty) to the end; one summary per outlet."""
    settings = crawler_settings(config, overrides)
    known = load_outlets(settings.getlist("NEWSMON_OUTLET_DIRS"))
    unknown = [o for o in outlet_ids if o not in known]
    if unknown:
        raise NotFound(f"unknown outlet {', '.join(unknown)} (see `newsmon sources`)")
    SQLiteStore(settings.get("NEWSMON_STORE_PATH")).close()  # unwritable: one line, before Scrapy
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").addFilter(_OneLineNetworkErrors())
    process = CrawlerProcess(settings)
    crawlers = []
    for outlet_id in outlet_ids or sorted(known):
        crawler = process.create_crawler(outlet_id)
        crawlers.append(crawler)
        process.crawl(crawler)
    process.start()
    return [CrawlSummary(c.spider.name if c.spider else "?", c.stats.get_stats()) for c in crawlers]


def nothing_fetched(summaries: list[CrawlSummary]) -> str | None:
    """Why the crawl got nothing at all (every request failed), or None when anything came."""
    if any(s.count(key) for s in summaries for key in _USABLE):
        return None
    reasons: dict[str, int] = {}
    for summary in summaries:
        for key, n in summary.prefixed("newsmon/errors/").items():
            reason = key.rsplit("/", 1)[-1]
            reasons[reason] = reasons.get(reason, 0) + n
    if not reasons:
        return None  # nothing was requested (no sources): not a failure of the network
    ranked = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    return (f"nothing could be fetched: all {sum(reasons.values())} requests failed ("
            + ", ".join(f"{name} {n}" for name, n in ranked) + ")")


def summary_lines(summary: CrawlSummary) -> list[str]:
    s = summary
    lines = [
        (f"{s.outlet}: {s.count('response_received_count')} pages fetched, "
        f"{s.count('newsmon/articles/inserted')} new articles, "
        f"{s.count('newsmon/articles/updated')} updated, "
        f"{s.count('newsmon/articles/unchanged')} unchanged, "
        f"{s.count('newsmon/articles/duplicates')} duplicates of stored text"),
        (f"  discovery: {s.count('newsmon/feeds/fetched')} feeds "
        f"({s.count('newsmon/feeds/malformed')} malformed), "
        f"{s.count('newsmon/sitemaps/fetched')} sitemaps, "
        f"{s.count('newsmon/links/article')} article links, "
        f"{s.count('newsmon/incremental/skipped_known')} already known, "
        f"{s.count('robotstxt/forbidden')} forbidden by robots.txt"),
    ]
    dropped = s.prefixed("newsmon/dropped/")
    if dropped:
        lines.append("  dropped: " + ", ".join(f"{k} {v}" for k, v in dropped.items()))
    errors = s.prefixed("newsmon/errors/")
    if errors:
        lines.append("  failed: " + ", ".join(f"{k} {v}" for k, v in errors.items()))
    removed = s.prefixed("newsmon/removed/")
    if s.count("newsmon/archive/records") or removed:
        lines.append(
            f"  evidence: {s.count('newsmon/archive/records')} responses archived (WARC, "
            f"{s.count('newsmon/archive/payload_bytes') / 1e6:.1f} MB of payload), "
            f"{s.count('newsmon/incremental/scheduled_recheck')} scheduled re-checks, "
            f"{sum(removed.values())} articles found removed"
        )
    retries = s.count("retry/count")
    if retries:
        reasons: dict[str, int] = {}
        for reason, n in s.prefixed("retry/reason_count/").items():
            code = reason.split(" ", 1)[0]
            name = f"http_{code}" if code.isdigit() else error_name(reason)
            reasons[name] = reasons.get(name, 0) + n
        detail = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))
        lines.append(f"  retried: {retries} requests" + (f" ({detail})" if detail else ""))
    if s.count("newsmon/retry_after/waited") or s.count("newsmon/retry_after/too_long"):
        lines.append(f"  Retry-After: waited {s.count('newsmon/retry_after/waited')} times,"
                     f" {s.count('newsmon/retry_after/too_long')} asked too long a wait")
    return lines


# Ingest reads WARC files instead of the web: nothing is fetched, so no downloader or spider
# middleware of newsmon's applies (incremental skipping, removals, archiving, re-checks).
INGEST_OVERRIDES: dict[str, Any] = {
    "DOWNLOADER_MIDDLEWARES": {}, "SPIDER_MIDDLEWARES": {}, "ROBOTSTXT_OBEY": False,
}


def run_ingest(config: Config, paths: list[str], overrides: dict[str, Any] | None = None) -> list[CrawlSummary]:
    """Run WARC files through the crawl's item pipelines, one file after the other (so that
    versions of an article seen in successive archives are stored in order); one summary each."""
    from twisted.internet import defer

    from crawler.spiders.warc_ingest import WarcIngestSpider
    from pipelines.normalize.page import normalize_pages

    settings = crawler_settings(config, {**INGEST_OVERRIDES, **(overrides or {})})
    outlets = load_outlets(settings.getlist("NEWSMON_OUTLET_DIRS"))
    process = CrawlerProcess(settings)
    summaries: list[CrawlSummary] = []

    @defer.inlineCallbacks
    def one_by_one():
        for path in paths:
            crawler = process.create_crawler(WarcIngestSpider)
            yield process.crawl(crawler, path=path, outlets=outlets, normalize=normalize_pages,
                                store_path=settings.get("NEWSMON_STORE_PATH"))
            summaries.append(CrawlSummary(path, crawler.stats.get_stats()))

    failures: list[Any] = []
    done = one_by_one()
    done.addErrback(failures.append)
    done.addBoth(lambda _: _stop())
    process.start(stop_after_crawl=False)
    if failures:
        failures[0].raiseException()
    return summaries


def _stop() -> None:
    from twisted.internet import reactor

    if reactor.running:
        reactor.stop()
