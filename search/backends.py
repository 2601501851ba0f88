"""Choose the search backend from the configuration: one setting switches to Elasticsearch."""

from __future__ import annotations

from newsmon.config import Config
from search.base import SearchBackend
from search.sqlite import SQLiteStore


def open_backend(config: Config, store: SQLiteStore) -> SearchBackend:
    """SQLite (the store itself) when ``index.url`` is empty, else Elasticsearch at that URL."""
    if not config.section("index")["url"]:
        return store
    from search.elastic import ElasticsearchBackend

    return ElasticsearchBackend.from_config(config)
