"""Keep Elasticsearch in step with the SQLite store, which stays the system of record.

An article is ``pending`` in the store until Elasticsearch has confirmed it, so a crawl that
dies, or an Elasticsearch that is down, loses nothing: ``sync_pending`` pushes the rest later.
An article is marked ``synced`` only if the store still holds exactly what was pushed (checked
in the same write transaction), so an edit made meanwhile (a translation, a story id) stays
pending. A document Elasticsearch rejects as malformed is ``quarantined`` with the error and
not retried until asked (``newsmon index sync --retry-quarantined``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from search.elastic import ElasticsearchBackend
from search.store import SQLiteStore

ALL_STATES = ("pending", "synced", "quarantined")


@dataclass
class SyncReport:
    indexed: int = 0  # written to Elasticsearch (new or changed)
    unchanged: int = 0  # already there, identical
    quarantined: dict[str, str] = field(default_factory=dict)  # id -> Elasticsearch's error
    temporary: dict[str, str] = field(default_factory=dict)  # still refused: left pending
    changed_meanwhile: int = 0  # edited in the store during the push: left pending
    missing: int = 0  # ids no longer in the store

    def add(self, other: SyncReport) -> SyncReport:
        self.indexed += other.indexed
        self.unchanged += other.unchanged
        self.quarantined.update(other.quarantined)
        self.temporary.update(other.temporary)
        self.changed_meanwhile += other.changed_meanwhile
        self.missing += other.missing
        return self

    @property
    def seen(self) -> int:
        return self.indexed + self.unchanged + len(self.quarantined) + len(self.temporary)


def push(
    store: SQLiteStore, backend: ElasticsearchBackend, ids: Sequence[str], index: str | None = None
) -> SyncReport:
    """Write these stored articles to the index and record the outcome in the store.

    Raises BackendUnavailable (nothing recorded, everything stays pending) when Elasticsearch
    cannot be reached.
    """
    report = SyncReport()
    articles = []
    for article_id in dict.fromkeys(ids):
        article = store.get(article_id)
        if article is None:
            report.missing += 1
        else:
            articles.append(article)
    if not articles:
        return report
    outcome = backend.index_articles(articles, index=index)
    written = set(outcome.created) | set(outcome.updated)
    confirmed: list[str] = []
    with store.transaction():
        for article_id in [*outcome.created, *outcome.updated, *outcome.unchanged]:
            if _still_same(store, backend, article_id, outcome.hashes.get(article_id)):
                confirmed.append(article_id)
                if article_id in written:
                    report.indexed += 1
                else:
                    report.unchanged += 1
            else:
                report.changed_meanwhile += 1
        for article_id, error in outcome.rejected.items():
            if article_id not in outcome.hashes or _still_same(
                store, backend, article_id, outcome.hashes[article_id]
            ):
                store.mark_quarantined(article_id, error)
                report.quarantined[article_id] = error
            else:
                report.changed_meanwhile += 1
        store.mark_indexed(confirmed)
    report.temporary = dict(outcome.temporary)
    return report


def _still_same(
    store: SQLiteStore, backend: ElasticsearchBackend, article_id: str, pushed: str | None
) -> bool:
    article = store.get(article_id)
    if article is None or pushed is None:
        return False
    return backend.schema.to_document(article)["doc_hash"] == pushed


def sync_pending(
    store: SQLiteStore,
    backend: ElasticsearchBackend,
    batch_size: int = 200,
    *,
    states: Sequence[str] = ("pending",),
    index: str | None = None,
    progress: Callable[[SyncReport], Any] | None = None,
) -> SyncReport:
    """Push every article in ``states`` (default: pending), oldest first, in batches.

    Articles that Elasticsearch refuses for now stay pending and are not tried again in this
    pass, so one pass always ends.
    """
    report = SyncReport()
    after = 0
    while True:
        rows = store.pending_for_index(max(1, batch_size), after, states)
        if not rows:
            return report
        report.add(push(store, backend, [article_id for _, article_id in rows], index=index))
        after = rows[-1][0]
        if progress is not None:
            progress(report)


def pending_count(store: SQLiteStore) -> int:
    return store.pending_index_count()


def migrate(
    store: SQLiteStore,
    backend: ElasticsearchBackend,
    *,
    keep_old: bool = False,
    batch_size: int = 200,
) -> dict[str, Any]:
    """Build the next index version and switch the alias to it, with no moment where search
    finds nothing: copy (``_reindex``), verify against the store, swap atomically, verify
    again (writes that reached the old index during the copy), then drop the old index."""
    backend.put_template()
    old = backend.alias_target()
    if old is None:
        return {**backend.init_index(), "old": None, "copied": 0, "pushed": 0}
    new = backend.create_version(max(backend.versions()) + 1, with_alias=False)
    backend.refresh(old)  # _reindex reads by search: it sees only refreshed documents
    copied = backend.reindex(old, new)
    before = sync_pending(store, backend, batch_size, states=ALL_STATES, index=new)
    backend.refresh(new)
    backend.swap_alias(old, new)
    after = sync_pending(store, backend, batch_size, states=ALL_STATES)
    if not keep_old:
        backend.delete_index(old)
    return {
        "action": "migrated",
        "old": old,
        "index": new,
        "alias": backend.name,
        "copied": int(copied.get("created", 0)) + int(copied.get("updated", 0)),
        "pushed": before.indexed + after.indexed,
        "quarantined": len(before.quarantined) + len(after.quarantined),
        "old_deleted": not keep_old,
    }
