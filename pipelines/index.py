"""Push stored articles to Elasticsearch in bulk, off the reactor thread.

Runs after StorePipeline: the article is already in SQLite, marked ``pending``. This pipeline
only collects ids and, every ``NEWSMON_INDEX_BULK_SIZE`` articles or
``NEWSMON_INDEX_FLUSH_INTERVAL`` seconds, pushes them from the store in a worker thread
(``search.elastic_sync``). When Elasticsearch is down the crawl goes on; the articles stay
pending and are pushed when it answers again (or by ``newsmon index sync``).
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawler import wiring
from crawler.config import load_config
from search.elastic import ElasticsearchBackend
from search.elastic_statements import StatementIndex
from search.elastic_sync import SyncReport, pending_count, push, sync_pending
from search.errors import BackendUnavailable, NewsmonError
from search.store import SQLiteStore

log = logging.getLogger(__name__)


class ElasticsearchPipeline:
    """Buffer article ids; flush them to Elasticsearch by size, by time and at the end.

    Each flush pushes the buffered articles, then everything else the store holds as pending.
    """

    def __init__(
        self,
        index: dict[str, Any],
        store_path: str,
        bulk_size: int = 200,
        flush_interval: float = 5.0,
        stats: StatsCollector | None = None,
    ) -> None:
        self.index = index
        self.store_path = store_path
        self.bulk_size = max(1, int(bulk_size))
        self.flush_interval = float(flush_interval)
        self.stats = stats
        self.store: SQLiteStore | None = None
        self.backend: ElasticsearchBackend | None = None
        self._buffer: list[str] = []
        self._running: Deferred[Any] | None = None
        self._loop: LoopingCall | None = None
        self._ready = False  # template and alias ensured
        self._down = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ElasticsearchPipeline:
        settings = crawler.settings
        url = settings.get("NEWSMON_INDEX_URL")
        if not url:
            raise NotConfigured("NEWSMON_INDEX_URL is not set")
        store_path = wiring.store_path(settings)
        # credentials come from the config file and the environment, never from Scrapy settings
        index = dict(load_config(settings.get("NEWSMON_CONFIG") or None).section("index"))
        index["url"] = url
        index["name"] = settings.get("NEWSMON_INDEX_NAME") or index["name"]
        return cls(
            index,
            store_path,
            bulk_size=settings.getint("NEWSMON_INDEX_BULK_SIZE"),
            flush_interval=settings.getfloat("NEWSMON_INDEX_FLUSH_INTERVAL"),
            stats=crawler.stats,
        )

    def open_spider(self) -> None:
        self.store = SQLiteStore(self.store_path)
        self.backend = ElasticsearchBackend.from_settings(self.index)
        if self.flush_interval > 0:
            self._loop = LoopingCall(self._tick)
            self._loop.start(self.flush_interval, now=False)

    def process_item(self, item: Any) -> Any:
        article_id = ItemAdapter(item).get("id")
        if article_id:
            self._buffer.append(article_id)
            self._inc("newsmon/index/queued")
            if len(self._buffer) >= self.bulk_size:
                self._flush()
        return item

    async def close_spider(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        while self._running is not None:  # a flush may start the next one when it ends
            await maybe_deferred_to_future(self._running)
        await maybe_deferred_to_future(self._flush())  # the last one, with all that is pending
        if self.store is None or self.backend is None:
            raise RuntimeError("open_spider was not called")
        left = pending_count(self.store)
        if self.stats is not None:
            self.stats.set_value("newsmon/index/pending", left)
        if left:
            log.warning("%d articles are not in Elasticsearch yet; `newsmon index sync` pushes"
                        " them", left)
        self.store.close()
        self.backend.close()

    # -- flushing ----------------------------------------------------------------------------
    def _tick(self) -> None:
        self._flush()

    def _flush(self) -> Deferred[Any]:
        """Start one push in a worker thread, unless one is running (it takes the rest next)."""
        if self._running is not None:
            return self._running
        ids, self._buffer = self._buffer, []
        d = deferToThread(self._push, ids)
        d.addCallbacks(self._pushed, self._failed)
        d.addBoth(self._done)
        self._running = d
        return d

    def _push(self, ids: list[str]) -> tuple[SyncReport, int]:
        """In the worker thread: the bulk write, and the store updates it implies."""
        if self.store is None or self.backend is None:
            raise RuntimeError("open_spider was not called")
        if self._down or not self._ready:
            self.backend.ping()  # one quick try: the next tick is the next try
        if not self._ready:
            self.backend.init_index()
            self._ready = True
        report = push(self.store, self.backend, ids)
        # then whatever else is pending: earlier crawls, outages, stories merged by dedup
        report.add(sync_pending(self.store, self.backend, self.bulk_size))
        statements = StatementIndex(self.backend).push(self.store, self.bulk_size)
        self._inc("newsmon/index/statements", statements.written)
        return report, pending_count(self.store)

    def _pushed(self, result: tuple[SyncReport, int]) -> None:
        report, left = result
        if self._down:
            log.warning("Elasticsearch is back; pending articles are being pushed")
        self._down = False
        self._inc("newsmon/index/synced", report.indexed)
        self._inc("newsmon/index/unchanged", report.unchanged)
        self._inc("newsmon/index/quarantined", len(report.quarantined))
        self._inc("newsmon/index/retry_later", len(report.temporary))
        if self.stats is not None:
            self.stats.set_value("newsmon/index/pending", left)
        for article_id, error in report.quarantined.items():
            log.warning("article %s quarantined: Elasticsearch rejected it: %s", article_id, error)

    def _failed(self, failure: Failure) -> None:
        # nothing is lost: the articles stay pending in the store, the next flush pushes them
        if failure.check(BackendUnavailable):
            self._inc("newsmon/index/errors/unavailable")
            if not self._down:
                log.warning("%s; the crawl goes on, articles stay pending in the store",
                            failure.value)
            self._down = True
        elif failure.check(NewsmonError):
            self._inc("newsmon/index/errors/index")
            log.warning("cannot index: %s", failure.value)
        else:
            self._inc("newsmon/index/errors/other")
            log.error("indexing failed", exc_info=(failure.type, failure.value, failure.tb))

    def _done(self, result: Any) -> Any:
        self._running = None
        if len(self._buffer) >= self.bulk_size:
            self._flush()
        return result

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None and count:
            self.stats.inc_value(key, count)
