"""CPU-bound stages in a pool of worker processes, so the reactor thread does I/O only.

Decoding and extraction (NormalizePipeline) and language detection (LanguagePipeline) are
submitted to one ``ProcessPoolExecutor`` per crawl process (``crawler.shared``: all outlets'
spiders use it), sized by ``crawl.cpu_workers`` (0 = one worker per core). The pipelines
await the results, so Scrapy keeps downloading and parsing meanwhile. Workers come from a
fork server that has the stage modules preloaded, so a new worker costs little and never
inherits the reactor's threads. The functions here run in the workers.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from crawler import shared
from crawler.items import Article, PageItem

# the fork server imports these once; ``pipelines.cpu_guard`` makes it exit with its parent
PRELOAD = ["pipelines.cpu_guard", "pipelines.normalize.page", "pipelines.language.detect",
           "pipelines.statements.engine", "pipelines.dedup.engine"]


def pool_size(workers: int) -> int:
    return workers if workers > 0 else (os.cpu_count() or 1)


def _make_pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=exit_with_parent)
    _slots[id(pool)] = asyncio.Semaphore(2 * workers)  # see run()
    return pool


def acquire_pool(workers: int) -> ProcessPoolExecutor:
    size = pool_size(workers)
    return shared.acquire(("cpu-pool", size), lambda: _make_pool(size))


def release_pool(workers: int) -> None:
    shared.release(("cpu-pool", pool_size(workers)), _close_pool)


class PoolLease:
    """A pipeline's hold on the crawl process's pool, from open_spider to close_spider."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def open(self) -> None:
        self.pool = acquire_pool(self.workers)

    def close(self) -> None:
        if self.pool is not None:
            self.pool = None
            release_pool(self.workers)

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.pool is None:
            raise RuntimeError("open_spider was not called")
        return await run(self.pool, fn, *args)


def _close_pool(pool: ProcessPoolExecutor) -> None:
    _slots.pop(id(pool), None)
    pool.shutdown(wait=True, cancel_futures=True)


async def run(pool: ProcessPoolExecutor, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in a worker; the reactor (asyncio) waits without blocking.

    At most two tasks per worker are submitted at a time: a submitted task holds a pickled
    copy of its page until a worker takes it, and the downloads run ahead of the workers, so
    without this bound the copies of every page in flight would add up (memory must stay
    bounded whatever servers send)."""
    async with _slots[id(pool)]:
        return await asyncio.wrap_future(pool.submit(fn, *args))


_slots: dict[int, asyncio.Semaphore] = {}


# -- in the workers ---------------------------------------------------------------------------
def exit_with_parent(interval: float = 1.0) -> None:
    """Exit when the parent process is gone. A crawl killed with SIGKILL never shuts its pool
    down, and a worker (or the fork server) would otherwise wait on its queue for ever; polling
    the parent pid is what works for both (the fork server, not the crawl, is a worker's
    parent, so PR_SET_PDEATHSIG on the crawl would not reach the workers)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="newsmon-parent-watch", daemon=True).start()


def normalize(page: PageItem, min_words: int, max_bytes: int) -> tuple[Article | None, str, str]:
    """(article, "", "") or (None, reason, message) for a page that is not an article."""
    from pipelines.normalize.extract import NotAnArticle
    from pipelines.normalize.page import page_to_article

    try:
        return page_to_article(page, min_words=min_words, max_bytes=max_bytes), "", ""
    except NotAnArticle as exc:
        return None, exc.reason, str(exc)


_detectors: dict[tuple[int, int, float], Any] = {}


def detect_language(article: Article, seed: int, min_chars: int, min_probability: float) -> Article:
    from pipelines.language.detect import LanguageDetector, apply_language

    key = (seed, min_chars, min_probability)
    detector = _detectors.get(key)
    if detector is None:
        detector = _detectors[key] = LanguageDetector(seed=seed, min_chars=min_chars,
                                                      min_probability=min_probability)
    return apply_language(article, detector, article.language)


_statement_engines: dict[str, Any] = {}


def find_statements(article: Article, options: Any) -> list[Any]:
    """The statements an article reports (``StatementEngine.analyze``), with the engine (actors
    and their mention index) built once per worker for these options."""
    from pipelines.statements.engine import StatementEngine

    key = repr(options)
    engine = _statement_engines.get(key)
    if engine is None:
        engine = _statement_engines[key] = StatementEngine.from_options(options)
    return engine.analyze(article)


_dedup_helpers: dict[str, tuple[Any, Any]] = {}


def dedup_features(article: Article, options: Any) -> Any:
    """An article's story-matching features (shingles, signals, name keys: the CPU part of
    ``Deduplicator.assign``), with the name normalizer, organisation and quote finders built
    once per worker for these options."""
    from pipelines.dedup.actors import organisation_finder
    from pipelines.dedup.features import article_features
    from pipelines.dedup.quotes import quote_finder
    from pipelines.names import NameNormalizer

    key = repr(options)
    helpers = _dedup_helpers.get(key)
    if helpers is None:
        helpers = _dedup_helpers[key] = (NameNormalizer(), organisation_finder(options.actor_dirs),
                                         quote_finder(options.actor_dirs))
    return article_features(article, options, *helpers)
