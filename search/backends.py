"""Choose the search backend from the configuration: one setting switches to Elasticsearch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search.base import SearchBackend
from search.store import SQLiteStore


def open_backend(index: Mapping[str, Any], store: SQLiteStore) -> SearchBackend:
    """SQLite (the store itself) when ``index["url"]`` is empty, else Elasticsearch at that URL.

    ``index`` is the ``[index]`` section of the configuration.
    """
    if not index["url"]:
        return store
    from search.elastic import ElasticsearchBackend

    return ElasticsearchBackend.from_settings(index)
