"""Deduplication and story clustering: exact copies, near copies and the same story across languages.

``Deduplicator.assign(article)`` gives an article its story id against a persistent index kept
in the store's SQLite file; ``resolve_story`` turns any story id (also one merged away) or article
id into the live story id. See docs/dedup.md for the method, its thresholds and its limits.
"""

from newsmon.dedup.engine import Assignment, Deduplicator, Match, RebuildReport
from newsmon.dedup.index import resolve_story
from newsmon.dedup.options import DedupOptions

__all__ = ["Assignment", "DedupOptions", "Deduplicator", "Match", "RebuildReport", "resolve_story"]
