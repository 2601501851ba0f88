"""Translate each article not in the target language(s), off the reactor thread, in batches.

Articles wait in a queue for a moment (or until enough have arrived) and are translated
together on one dedicated worker thread, so CTranslate2 gets large batches across articles
and Scrapy's reactor keeps crawling. Nothing is ever dropped here: a missing model or a
failure becomes the article's translation status, and StorePipeline stores the article.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler import shared
from crawler.items import Article, Translation
from pipelines.translate.argos import ArgosDirs
from pipelines.translate.articles import PENDING, ArticleTranslator, status_kind
from pipelines.translate.engine import EngineSettings
from search.errors import NewsmonError

logger = logging.getLogger(__name__)


class TranslatePipeline:
    def __init__(
        self,
        dirs: ArgosDirs,
        settings: EngineSettings,
        targets: list[str],
        store_path: str,
        *,
        stats: StatsCollector | None = None,
        during_crawl: bool = True,
        keep_target_paragraphs: bool = True,
        language_seed: int = 0,
        flush_seconds: float = 0.2,
        max_batch_articles: int = 64,
    ) -> None:
        self.dirs = dirs
        self.settings = settings
        self.targets = targets
        self.store_path = store_path
        self.stats = stats
        self.during_crawl = during_crawl
        self.keep_target_paragraphs = keep_target_paragraphs
        self.language_seed = language_seed
        self.flush_seconds = flush_seconds
        self.max_batch_articles = max_batch_articles
        self.translator: ArticleTranslator | None = None
        self._queue: list[tuple[Article, Deferred]] = []
        self._busy = False
        self._timer: Any = None
        self._pool: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TranslatePipeline:
        s = crawler.settings
        if not s.getbool("NEWSMON_TRANSLATE_ENABLED"):
            raise NotConfigured("NEWSMON_TRANSLATE_ENABLED is not set")
        models_dir, store_path = s.get("NEWSMON_TRANSLATE_MODELS_DIR"), s.get("NEWSMON_STORE_PATH")
        if not models_dir or not store_path:
            raise NotConfigured("NEWSMON_TRANSLATE_MODELS_DIR or NEWSMON_STORE_PATH is not set")
        dirs = ArgosDirs(
            Path(models_dir), Path(s.get("NEWSMON_TRANSLATE_ARGOS_HOME")),
            s.get("NEWSMON_TRANSLATE_PACKAGE_INDEX"),
        )
        settings = EngineSettings(
            device=s.get("NEWSMON_TRANSLATE_DEVICE"),
            compute_type=s.get("NEWSMON_TRANSLATE_COMPUTE_TYPE"),
            threads=s.getint("NEWSMON_TRANSLATE_THREADS"),
            beam_size=s.getint("NEWSMON_TRANSLATE_BEAM_SIZE"),
            batch_size=s.getint("NEWSMON_TRANSLATE_BATCH_SIZE"),
            pivot=s.get("NEWSMON_TRANSLATE_PIVOT"),
        )
        settings.check()
        return cls(
            dirs, settings, s.getlist("NEWSMON_TRANSLATE_TARGETS"), store_path,
            stats=crawler.stats,
            during_crawl=s.getbool("NEWSMON_TRANSLATE_DURING_CRAWL"),
            keep_target_paragraphs=s.getbool("NEWSMON_TRANSLATE_KEEP_TARGET_PARAGRAPHS"),
            language_seed=s.getint("NEWSMON_LANGUAGE_SEED"),
            flush_seconds=s.getfloat("NEWSMON_TRANSLATE_FLUSH_SECONDS"),
            max_batch_articles=s.getint("NEWSMON_TRANSLATE_MAX_BATCH_ARTICLES"),
        )

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def _key(self) -> tuple:
        return ("translate", self.store_path, repr(self.dirs), repr(self.settings))

    def _open_engine(self) -> tuple[Any, str, Any]:
        """The engine (or why there is none) and the one thread that runs it."""
        from twisted.python.threadpool import ThreadPool

        from pipelines.translate.engine import TranslationEngine
        from search.translation_cache import TranslationCache

        engine, error = None, ""
        try:
            engine = TranslationEngine.open(self.dirs, self.settings, TranslationCache(self.store_path))
        except NewsmonError as exc:
            error = str(exc)
            logger.error("translation is off for this crawl: %s", error)
        from twisted.internet import reactor

        pool = ThreadPool(1, 1, name="newsmon-translate")
        pool.start()
        # also stopped when the reactor stops: a crawl closed by an error elsewhere may never
        # call close_spider, and a running pool thread would keep the process alive
        reactor.addSystemEventTrigger("during", "shutdown", _stop_pool, pool)
        return engine, error, pool

    @staticmethod
    def _close_engine(opened: tuple[Any, str, Any]) -> None:
        engine, _error, pool = opened
        _stop_pool(pool)
        if engine is not None:
            engine.close()

    def open_spider(self, spider: Any = None) -> None:
        engine, error = None, ""
        if self.during_crawl:
            # one engine and one thread per process, shared by every outlet's spider
            # (crawler.shared); batches of all outlets take turns on the thread
            engine, error, self._pool = shared.acquire(self._key, self._open_engine)
        detector = None
        if self.keep_target_paragraphs and engine is not None:
            from pipelines.language.detect import LanguageDetector

            detector = LanguageDetector(seed=self.language_seed)
        self.translator = ArticleTranslator(
            engine, self.targets, detector=detector, engine_error=error
        )

    def close_spider(self, spider: Any = None) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        if self._pool is not None:
            self._pool = None
            shared.release(self._key, self._close_engine)

    # -- items --------------------------------------------------------------------------------
    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        if self.translator is None:
            raise RuntimeError("open_spider was not called")
        if not self.during_crawl:
            self.translator.mark_pending([item])
            self._count_statuses([item])
            return item
        done: Deferred = Deferred()
        self._queue.append((item, done))
        self._schedule()
        await maybe_deferred_to_future(done)
        return item

    def _schedule(self) -> None:
        from twisted.internet import reactor

        if self._busy:
            return  # the running batch's end flushes what has queued up meanwhile
        if len(self._queue) >= self.max_batch_articles:
            self._flush()
        elif self._timer is None or not self._timer.active():
            self._timer = reactor.callLater(self.flush_seconds, self._flush)

    def _flush(self) -> None:
        from twisted.internet import reactor
        from twisted.internet.threads import deferToThreadPool

        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._busy or not self._queue:
            return
        batch = self._queue[:self.max_batch_articles]
        del self._queue[:self.max_batch_articles]
        self._busy = True
        running = deferToThreadPool(reactor, self._pool, self._translate, [a for a, _ in batch])
        running.addBoth(self._finished, batch)

    def _translate(self, articles: list[Article]) -> dict[str, int]:
        """Runs on the worker thread; returns the engine's counters for this batch."""
        if self.translator is None:
            raise RuntimeError("open_spider was not called")
        engine = self.translator.engine
        before = engine.stats.snapshot() if engine is not None else {}
        kept = self.translator.run.kept_paragraphs
        self.translator.translate(articles)
        after = engine.stats.snapshot() if engine is not None else {}
        delta = {k: after[k] - before.get(k, 0) for k in after}
        delta["paragraphs_kept"] = self.translator.run.kept_paragraphs - kept
        return delta

    def _finished(self, result: dict[str, int] | Failure, batch: list[tuple[Article, Deferred]]) -> None:
        self._busy = False
        articles = [a for a, _ in batch]
        if isinstance(result, Failure):
            # ArticleTranslator records bad input and model failures as statuses; what arrives
            # here is a bug: say so loudly, and leave the articles pending for a later run
            logger.error("translation batch failed: %s", result.getErrorMessage(),
                         exc_info=(result.type, result.value, result.getTracebackObject()))
            if self.stats is not None:
                self.stats.inc_value("newsmon/translate/internal_errors")
            for article in articles:
                for target in self.targets:
                    if article.translation(target) is None:
                        article.translations.append(Translation(target=target, status=PENDING))
        elif self.stats is not None:
            self.stats.inc_value("newsmon/translate/batches")
            for name, value in result.items():
                if value:
                    self.stats.inc_value(f"newsmon/translate/{name}", value)
        self._count_statuses(articles)
        for article, waiting in batch:
            waiting.callback(article)
        if self._queue:
            self._flush()

    def _count_statuses(self, articles: list[Article]) -> None:
        if self.stats is None:
            return
        counts = Counter(
            status_kind(t.status) for a in articles for t in a.translations if t.target in self.targets
        )
        for kind, n in counts.items():
            self.stats.inc_value(f"newsmon/translate/{kind}", n)


def _stop_pool(pool: Any) -> None:
    if pool.started:
        pool.stop()
