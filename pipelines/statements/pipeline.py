"""Find watched actors' statements in each stored article, during the crawl.

Runs after StorePipeline, because a statement's reports point at the stored article (whose
id the store may have changed to that of an earlier copy of the same text), and before the
Elasticsearch pipeline. The engine (``engine.StatementEngine``) works without Scrapy; it is
what ``newsmon statements rebuild`` uses.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler import shared, wiring
from crawler.items import Article
from pipelines import cpu
from pipelines.statements.engine import StatementEngine, StatementOptions
from search.store import SQLiteStore

logger = logging.getLogger(__name__)


class StatementsPipeline:
    def __init__(self, store_path: str, options: StatementOptions, stats: StatsCollector,
                 workers: int = 0) -> None:
        self.store_path = store_path
        self.options = options
        self.stats = stats
        self._pool = cpu.PoolLease(workers)
        self.store: SQLiteStore | None = None
        self.engine: StatementEngine | None = None
        self._thread: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatementsPipeline:
        s = crawler.settings
        path = wiring.store_path(s, "NEWSMON_STATEMENTS_ENABLED")
        options = StatementOptions(
            actor_dirs=tuple(s.getlist("NEWSMON_STATEMENTS_ACTOR_DIRS")),
            fuzzy_threshold=s.getfloat("NEWSMON_STATEMENTS_FUZZY_THRESHOLD"),
            pivot=s.get("NEWSMON_STATEMENTS_PIVOT"),
        )
        return cls(path, options, crawler.stats, s.getint("NEWSMON_CPU_WORKERS"))

    @property
    def _key(self) -> tuple:
        return ("statements", self.store_path, repr(self.options))

    def _open(self) -> tuple[StatementEngine, SQLiteStore, Any]:
        engine = StatementEngine.from_options(self.options)  # bad actor files fail here
        # finding and saving statements reads and writes SQLite: off the reactor thread
        return engine, SQLiteStore(self.store_path), shared.single_thread("statements")

    @staticmethod
    def _close(opened: tuple[StatementEngine, SQLiteStore, Any]) -> None:
        shared.stop_thread(opened[2])
        opened[1].close()

    def open_spider(self, spider=None) -> None:
        # one engine, connection and thread per process, shared by every outlet's spider
        self.engine, self.store, self._thread = shared.acquire(self._key, self._open)
        self._pool.open()  # finding statements: CPU, in the workers

    def close_spider(self, spider=None) -> None:
        self._pool.close()
        if self.store is not None:
            shared.release(self._key, self._close)
            self.store = None

    async def process_item(self, item: Article) -> Article:
        if not isinstance(item, Article):
            return item
        if self.engine is None or self.store is None:
            raise RuntimeError("open_spider was not called")
        try:
            found = await self._pool.run(cpu.find_statements, item, self.options)
            count = await shared.in_thread(self._thread, self.engine.store_article, self.store,
                                           item, found)
        except Exception:  # the article is stored; its statements can be rebuilt later
            logger.exception("statement extraction failed for %s (`newsmon statements rebuild`"
                             " retries)", item.canonical_url)
            self.stats.inc_value("newsmon/statements/failed")
            return item
        self.stats.inc_value("newsmon/statements/articles")
        if count:
            self.stats.inc_value("newsmon/statements/reports", count)
        return item
