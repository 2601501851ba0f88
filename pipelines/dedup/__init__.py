"""Deduplication and story clustering: exact copies, near copies and the same story across languages.

``Deduplicator.assign(article)`` gives an article its story id against a persistent index kept
in the store's SQLite file; ``resolve_story`` turns any story id (also one merged away) or article
id into the live story id. See docs/dedup.md for the method, its thresholds and its limits.
"""

from pipelines.dedup.engine import Assignment, Deduplicator, Match, RebuildReport
from pipelines.dedup.options import DedupOptions
from search.dedup_index import resolve_story

__all__ = ["Assignment", "DedupOptions", "Deduplicator", "Match", "RebuildReport", "resolve_story"]
