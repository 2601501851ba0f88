"""A persistent cache of sentence translations, in the store's SQLite file.

News repeats itself: boilerplate, bylines, and the same quote in many articles. Each sentence
is translated once per model version; the key is (model, model_version, sha256 of the source
sentence), so installing a new model version never serves an old model's output.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS translation_cache (
    model TEXT NOT NULL,
    model_version TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    translation TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (model, model_version, source_hash)
) WITHOUT ROWID;
"""

_CHUNK = 500  # keeps the IN (...) list under SQLite's variable limit


def sentence_hash(sentence: str) -> str:
    return hashlib.sha256(sentence.encode("utf-8")).hexdigest()


class TranslationCache:
    """Own connection to the store file, so the translation thread never waits on the crawl's."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self.db.execute("PRAGMA busy_timeout=10000")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def lookup(self, model: str, version: str, sentences: Iterable[str]) -> dict[str, str]:
        """Cached translations of those sentences that have one."""
        by_hash = {sentence_hash(s): s for s in sentences}
        found: dict[str, str] = {}
        hashes = list(by_hash)
        with self._lock:
            for start in range(0, len(hashes), _CHUNK):
                chunk = hashes[start:start + _CHUNK]
                rows = self.db.execute(
                    "SELECT source_hash, translation FROM translation_cache WHERE model = ?"
                    f" AND model_version = ? AND source_hash IN ({', '.join('?' * len(chunk))})",
                    (model, version, *chunk),
                ).fetchall()
                for source_hash, translation in rows:
                    found[by_hash[source_hash]] = translation
        return found

    def store(self, model: str, version: str, pairs: Sequence[tuple[str, str]]) -> None:
        """Remember (source, translation) pairs; one transaction per call."""
        if not pairs:
            return
        rows = [(model, version, sentence_hash(s), t) for s, t in pairs]
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany(
                    "INSERT OR REPLACE INTO translation_cache(model, model_version, source_hash,"
                    " translation) VALUES (?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def count(self, model: str | None = None) -> int:
        with self._lock:
            if model is None:
                return self.db.execute("SELECT count(*) FROM translation_cache").fetchone()[0]
            return self.db.execute(
                "SELECT count(*) FROM translation_cache WHERE model = ?", (model,)
            ).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self.db.close()
