"""One store writer per crawl process: SQLite writes leave the reactor thread, in batches.

StorePipeline hands it articles, IncrementalMiddleware its fetch-log entries. Both go into one
queue that a single worker thread drains: everything queued while the previous batch was
being written becomes the next transaction (at most ``max_batch`` articles), so a busy crawl
commits often-large batches and the reactor never waits on SQLite's lock. Reads (the
incremental check) stay on the reactor: in WAL mode they do not wait for the writer.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from crawler.items import Article
from search.store import SQLiteStore


class StoreWriter:
    def __init__(self, path: str, max_batch: int = 200) -> None:
        self.store = SQLiteStore(path)  # used by the writer thread only
        self.max_batch = max_batch
        self.pool = ThreadPool(1, 1, name="newsmon-store-writer")
        self.pool.start()
        self._articles: list[tuple[Article, Deferred]] = []
        self._fetches: list[dict[str, Any]] = []
        self._running: Deferred | None = None
        self._idle: list[Deferred] = []

    def upsert(self, article: Article) -> Deferred:
        """Fires with the outcome ("inserted", "updated", "unchanged", "duplicates")."""
        done: Deferred = Deferred()
        self._articles.append((article, done))
        self._kick()
        return done

    def record_fetch(self, url: str, **entry: Any) -> None:
        self._fetches.append({"url": url, **entry})
        self._kick()

    def flushed(self) -> Deferred:
        """Fires once everything queued so far is written."""
        done: Deferred = Deferred()
        if self._running is None and not self._articles and not self._fetches:
            done.callback(None)
        else:
            self._idle.append(done)
        return done

    def close(self) -> None:
        self.pool.stop()
        self.store.close()

    def _kick(self) -> None:
        from twisted.internet import reactor
        from twisted.internet.threads import deferToThreadPool

        if self._running is not None or not (self._articles or self._fetches):
            return
        batch, self._articles = self._articles[:self.max_batch], self._articles[self.max_batch:]
        fetches, self._fetches = self._fetches, []
        self._running = deferToThreadPool(reactor, self.pool, self._write,
                                          [a for a, _ in batch], fetches)
        self._running.addBoth(self._written, batch)

    def _write(self, articles: list[Article], fetches: list[dict[str, Any]]) -> list[str | Exception]:
        """On the writer thread: one transaction; if it fails, one per article (to isolate)."""
        try:
            return list(self.store.write_batch(articles, fetches))
        except Exception:  # noqa: BLE001 -- one bad article must not cost the others theirs
            outcomes: list[str | Exception] = []
            for article in articles:
                try:
                    outcomes.extend(self.store.write_batch([article], []))
                except Exception as exc:  # noqa: BLE001 -- handed to that article's pipeline, which reports it
                    outcomes.append(exc)
            self.store.write_batch([], fetches)
            return outcomes

    def _written(self, result: list[str | Exception] | Failure,
                 batch: list[tuple[Article, Deferred]]) -> None:
        self._running = None
        for i, (_article, done) in enumerate(batch):
            outcome = result if isinstance(result, Failure) else result[i]
            if isinstance(outcome, (Exception, Failure)):
                done.errback(outcome)
            else:
                done.callback(outcome)
        self._kick()
        if self._running is None:
            waiting, self._idle = self._idle, []
            for done in waiting:
                done.callback(None)
