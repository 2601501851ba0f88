"""What a CLI command needs: the configuration, and the store and search backend, opened lazily."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from newsmon.config import Config

if TYPE_CHECKING:
    from search.base import SearchBackend
    from search.sqlite import SQLiteStore


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
            from search.sqlite import SQLiteStore

            self._store = SQLiteStore(self.config.store_path)
        return self._store

    @property
    def backend(self) -> SearchBackend:
        """The search backend selected by ``index.url``: SQLite when empty, else Elasticsearch."""
        if self._backend is None:
            from search.backends import open_backend

            self._backend = open_backend(self.config, self.store)
        return self._backend

    def close(self) -> None:
        if self._backend is not None and self._backend is not self._store:
            self._backend.close()
        if self._store is not None:
            self._store.close()
