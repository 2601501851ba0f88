"""Give each article its story id: exact copy, near copy, same story in another language, or new.

Runs after translation (so a finished translation into the pivot language can be compared) and
before StorePipeline, which writes ``article.story_id`` with the article. The story index lives
in the same SQLite file as the store (see search/dedup_index.py).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from crawler import shared, wiring
from crawler.items import Article
from pipelines import cpu
from pipelines.dedup import Deduplicator, DedupOptions
from search.store import SQLiteStore

logger = logging.getLogger(__name__)


class DedupPipeline:
    def __init__(self, store_path: str, options: DedupOptions, stats: StatsCollector,
                 workers: int = 0) -> None:
        self.store_path = store_path
        self.options = options
        self.stats = stats
        self._pool = cpu.PoolLease(workers)
        self.store: SQLiteStore | None = None
        self.dedup: Deduplicator | None = None
        self._thread: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        settings = crawler.settings
        path = wiring.store_path(settings, "NEWSMON_DEDUP_ENABLED")
        return cls(path, DedupOptions.from_settings(settings), crawler.stats,
                   settings.getint("NEWSMON_CPU_WORKERS"))

    def _open(self) -> tuple[SQLiteStore, Deduplicator, Any]:
        store = SQLiteStore(self.store_path)
        store.tune_for_matching()
        # matching reads and writes the story index: on its own thread, one article at a time
        return store, Deduplicator(store, self.options), shared.single_thread("dedup")

    @staticmethod
    def _close(opened: tuple[SQLiteStore, Deduplicator, Any]) -> None:
        shared.stop_thread(opened[2])
        opened[0].close()

    @property
    def _key(self) -> tuple:
        return ("dedup", self.store_path, repr(self.options))

    def open_spider(self, spider=None) -> None:
        # one story index per process, shared by every outlet's spider (crawler.shared)
        self.store, self.dedup, self._thread = shared.acquire(self._key, self._open)
        self._pool.open()  # features (shingles, signals): CPU, in the workers
        missing = self.store.unclustered_count()
        if missing:
            self.stats.set_value("newsmon/dedup/unindexed_at_start", missing)
            logger.warning(
                "%d stored articles are not in the story index (stored while dedup was off?);"
                " run `newsmon dedup update` to cluster them", missing,
            )

    def close_spider(self, spider=None) -> None:
        """Settle the crawl's articles against everything indexed by now: the stories no longer
        depend on the order the pages arrived in."""
        if self.store is None:
            return
        try:
            if self.dedup is not None:
                report = self.dedup.settle()
                self.stats.set_value("newsmon/dedup/settled", report.docs)
                for name in ("merged", "split", "moved"):
                    if getattr(report, name):
                        self.stats.set_value(f"newsmon/dedup/settle_{name}", getattr(report, name))
        except sqlite3.Error as exc:  # a full or read-only disk, a lost connection: the next crawl settles
            self.stats.inc_value("newsmon/dedup/settle_failed")
            logger.error("stories were not settled at the end of the crawl: %s", exc)
        finally:
            self._pool.close()
            shared.release(self._key, self._close)
            self.store = None

    async def process_item(self, item: Article) -> Article:
        if not isinstance(item, Article):
            return item  # not an article (another pipeline's item): nothing to cluster
        if self.dedup is None:
            raise RuntimeError("open_spider was not called")
        try:
            features = await self._pool.run(cpu.dedup_features, item, self.options)
            assignment = await shared.in_thread(self._thread, self.dedup.assign, item, features)
        except Exception:  # the article matters more than its story: store it unclustered
            logger.exception("story assignment failed for %s; stored without a story"
                             " (`newsmon dedup update` retries)", item.canonical_url)
            self.stats.inc_value("newsmon/dedup/failed")
            item.story_id = ""
            return item
        name = {
            "new": "new_story", "joined": "joined_story", "merged": "merged_stories",
            "exact": "exact_copy", "unchanged": "unchanged", "reindexed": "reindexed",
        }[assignment.outcome]
        self.stats.inc_value(f"newsmon/dedup/{name}")
        for kind in {match.kind for match in assignment.matches}:
            self.stats.inc_value(f"newsmon/dedup/match/{kind}")
        if assignment.merged:
            logger.info("story %s absorbed %s", assignment.story_id, ", ".join(assignment.merged))
        return item
