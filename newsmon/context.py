"""What a CLI command needs: the configuration, and the store and search backend, opened lazily."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from crawler.config import Config

if TYPE_CHECKING:
    from search.base import SearchBackend, SearchRequest, SearchResult
    from search.store import SQLiteStore


@dataclass
class Context:
    config: Config
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    _store: SQLiteStore | None = None
    _backend: SearchBackend | None = None

    @property
    def store(self) -> SQLiteStore:
        """The SQLite store of record (always local, whichever index is configured)."""
        if self._store is None:
            from search.store import SQLiteStore

            self._store = SQLiteStore(self.config.store_path)
        return self._store

    @property
    def backend(self) -> SearchBackend:
        """The search backend selected by ``index.url``: SQLite when empty, else Elasticsearch."""
        if self._backend is None:
            from search.backends import open_backend

            self._backend = open_backend(self.config.section("index"), self.store)
        return self._backend

    def cross_lingual_search(self, request: SearchRequest) -> SearchResult:
        """The request searched in its own words and translated into every indexed language."""
        from pipelines.translate.engine import open_engine
        from search.crosslingual import cross_lingual_search

        query_language = str(self.config.section("translate")["targets"][0])
        languages = list(self.store.stats()["by_language"])
        engine = open_engine(self.config, self.store.path)
        try:
            result, missing = cross_lingual_search(
                self.backend, request, query_language=query_language, languages=languages,
                translate_terms=engine.translate_terms,
            )
        finally:
            engine.close()
        if missing:
            pairs = ", ".join(f"{query_language}→{code}" for code in missing)
            print(f"newsmon: note: no model for {pairs}: those articles are searched only"
                  " through their stored translations", file=self.err)
        return result

    def close(self) -> None:
        if self._backend is not None and self._backend is not self._store:
            self._backend.close()
        if self._store is not None:
            self._store.close()
