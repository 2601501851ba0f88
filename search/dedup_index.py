"""The persistent story index: dedup tables in the store's SQLite file, and story ids.

Everything here is looked up through an index keyed by what the new article brings (its band
buckets, its rare signal tokens within a time window, its text fingerprint), so matching one
article costs the same with ten thousand or a million stored.

Tables (created on the store's connection, ``CREATE ... IF NOT EXISTS``):

- ``dedup_docs``: one row per article: story id, language, time, signature(s), signals.
- ``dedup_bands``: LSH buckets (band, bucket) -> doc, for same-language near copies.
- ``dedup_signals``: rare-signal postings (token, day) -> doc, for cross-language candidates.
- ``dedup_links``: pairs of docs judged one story; stories are the connected groups of links.
- ``stories``: live story ids (the oldest wins a merge); ``story_aliases``: merged-away ids,
  always pointing straight at a live story, so an old id resolves in one step.

Two triggers keep ``articles.story_id`` from ever holding a merged-away id, also when an article
that was matched before a merge is written to the store after it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from search.errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS stories (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    founder TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS story_aliases (
    old_id TEXT PRIMARY KEY,
    new_id TEXT NOT NULL,
    merged_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS story_aliases_new ON story_aliases(new_id);
CREATE TABLE IF NOT EXISTS dedup_docs (
    doc INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL UNIQUE,
    story_id TEXT NOT NULL,
    language TEXT NOT NULL,
    ts INTEGER NOT NULL,            -- publication (else fetch) time, epoch seconds
    text_sha256 TEXT NOT NULL,
    features_key TEXT NOT NULL,     -- what the features were computed from
    shingles INTEGER NOT NULL,
    signature BLOB NOT NULL,
    pivot_terms INTEGER NOT NULL DEFAULT 0,
    pivot_signature BLOB,
    signals TEXT NOT NULL DEFAULT '[]',
    copy_group INTEGER,             -- smallest doc of its near-copy group (NULL: itself)
    settled INTEGER NOT NULL DEFAULT 0  -- its links reflect the index (Deduplicator.settle)
);
CREATE INDEX IF NOT EXISTS dedup_docs_group ON dedup_docs(copy_group) WHERE copy_group IS NOT NULL;
CREATE INDEX IF NOT EXISTS dedup_docs_unsettled ON dedup_docs(settled) WHERE settled = 0;
CREATE TABLE IF NOT EXISTS dedup_links (
    a INTEGER NOT NULL,             -- the smaller doc
    b INTEGER NOT NULL,
    kind TEXT NOT NULL,             -- near | contained | translation | signals
    score REAL NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedup_links_b ON dedup_links(b);
CREATE INDEX IF NOT EXISTS dedup_docs_story ON dedup_docs(story_id);
CREATE INDEX IF NOT EXISTS dedup_docs_text ON dedup_docs(text_sha256);
CREATE TABLE IF NOT EXISTS dedup_bands (
    band INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (band, bucket, doc)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_signals (
    token TEXT NOT NULL,
    day INTEGER NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (token, day, doc)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS articles_story_alias_insert AFTER INSERT ON articles
WHEN NEW.story_id != '' AND EXISTS (SELECT 1 FROM story_aliases WHERE old_id = NEW.story_id)
BEGIN
    UPDATE articles SET story_id = (SELECT new_id FROM story_aliases WHERE old_id = NEW.story_id)
    WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER IF NOT EXISTS articles_story_alias_update AFTER UPDATE OF story_id ON articles
WHEN NEW.story_id != '' AND EXISTS (SELECT 1 FROM story_aliases WHERE old_id = NEW.story_id)
BEGIN
    UPDATE articles SET story_id = (SELECT new_id FROM story_aliases WHERE old_id = NEW.story_id)
    WHERE rowid = NEW.rowid;
END;
"""

_PARAMS_KEY = "dedup_params"
_DAY = 86400


@dataclass
class Doc:
    """One indexed article, as stored in ``dedup_docs``."""

    doc: int
    article_id: str
    story_id: str
    language: str
    ts: int
    text_sha256: str
    features_key: str
    shingles: int
    signature: bytes
    pivot_terms: int
    pivot_signature: bytes | None
    signals: list[str]
    copy_group: int | None = None
    settled: int = 0

    @property
    def group(self) -> int:
        return self.copy_group if self.copy_group is not None else self.doc

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Doc:
        data = dict(row)
        data["signals"] = json.loads(data["signals"])
        return cls(**data)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class DedupIndex:
    """Reads and writes the dedup tables; callers hold the store's transaction for writes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(SCHEMA)

    # -- parameters -------------------------------------------------------------------------
    def check_params(self, params: dict[str, Any]) -> None:
        """Refuse to mix signatures made with other parameters; record them on first use."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (_PARAMS_KEY,)).fetchone()
        if row is not None and json.loads(row[0]) != params and not self.is_empty():
            stored = json.loads(row[0])
            changed = ", ".join(
                f"{k} {stored.get(k)!r} -> {v!r}" for k, v in params.items() if stored.get(k) != v
            )
            raise ConfigError(
                f"the story index was built with other dedup settings ({changed});"
                " run `newsmon dedup rebuild`"
            )
        self.set_params(params)

    def set_params(self, params: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
            (_PARAMS_KEY, json.dumps(params, sort_keys=True)),
        )

    def is_empty(self) -> bool:
        return self.db.execute("SELECT 1 FROM dedup_docs LIMIT 1").fetchone() is None

    def clear(self) -> None:
        """Forget every signature and bucket (stories and aliases stay: ids must keep resolving)."""
        for table in ("dedup_bands", "dedup_signals", "dedup_links", "dedup_docs"):
            self.db.execute(f"DELETE FROM {table}")

    def clear_stories(self) -> None:
        """Forget every story before a rebuild (aliases users saw stay; temporary ones go)."""
        self.db.execute("DELETE FROM stories")
        self.drop_temporary_aliases()

    def drop_temporary_aliases(self) -> None:
        """Aliases from a rebuild's temporary ("~") story names."""
        self.db.execute("DELETE FROM story_aliases WHERE old_id LIKE '~%'")

    def drop_dangling_aliases(self) -> None:
        self.db.execute("DELETE FROM story_aliases WHERE new_id NOT IN (SELECT id FROM stories)")

    def story_of_docs(self) -> dict[str, str]:
        """article id -> story id, for every indexed article."""
        return dict(self.db.execute("SELECT article_id, story_id FROM dedup_docs").fetchall())

    def story_ids(self) -> list[str]:
        """Every story id, in creation order."""
        return [row[0] for row in self.db.execute("SELECT id FROM stories ORDER BY rowid")]

    def story_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM stories").fetchone()[0])

    # -- documents --------------------------------------------------------------------------
    def doc_for_article(self, article_id: str) -> Doc | None:
        row = self.db.execute(
            "SELECT * FROM dedup_docs WHERE article_id = ?", (article_id,)
        ).fetchone()
        return Doc.from_row(row) if row else None

    def doc_with_text(self, text_sha256: str, other_than: str) -> Doc | None:
        row = self.db.execute(
            "SELECT * FROM dedup_docs WHERE text_sha256 = ? AND article_id != ? ORDER BY doc LIMIT 1",
            (text_sha256, other_than),
        ).fetchone()
        return Doc.from_row(row) if row else None

    def docs(self, doc_ids: Iterable[int]) -> list[Doc]:
        ids = list(doc_ids)
        if not ids:
            return []
        rows = self.db.execute(
            f"SELECT * FROM dedup_docs WHERE doc IN ({', '.join('?' * len(ids))})", ids
        ).fetchall()
        return [Doc.from_row(row) for row in rows]

    def save_doc(
        self,
        doc: Doc | None,
        values: dict[str, Any],
        bands: Sequence[tuple[int, int]],
        old_bands: Sequence[tuple[int, int]],
        signals: Sequence[str],
        posted: Sequence[str] | None = None,
    ) -> int:
        """Insert or replace one document with its buckets and the postings of its signals
        (of ``posted`` only, when given: those that are looked up)."""
        values = {**values, "signals": json.dumps(sorted(signals)), "settled": 0}
        if doc is None:
            columns = ", ".join(values)
            cursor = self.db.execute(
                f"INSERT INTO dedup_docs ({columns}) VALUES ({', '.join(':' + k for k in values)})",
                values,
            )
            doc_id = int(cursor.lastrowid)
        else:
            doc_id = doc.doc
            self.db.executemany(
                "DELETE FROM dedup_bands WHERE band = ? AND bucket = ? AND doc = ?",
                [(band, bucket, doc_id) for band, bucket in old_bands],
            )
            old_day = doc.ts // _DAY
            self.db.executemany(
                "DELETE FROM dedup_signals WHERE token = ? AND day = ? AND doc = ?",
                [(token, old_day, doc_id) for token in doc.signals],
            )
            assignments = ", ".join(f"{k} = :{k}" for k in values)
            self.db.execute(
                f"UPDATE dedup_docs SET {assignments} WHERE doc = :doc", {**values, "doc": doc_id}
            )
        self.db.executemany(
            "INSERT OR IGNORE INTO dedup_bands(band, bucket, doc) VALUES (?, ?, ?)",
            [(band, bucket, doc_id) for band, bucket in bands],
        )
        day = int(values["ts"]) // _DAY
        self.db.executemany(
            "INSERT OR IGNORE INTO dedup_signals(token, day, doc) VALUES (?, ?, ?)",
            [(token, day, doc_id) for token in (signals if posted is None else posted)],
        )
        return doc_id

    # -- candidates -------------------------------------------------------------------------
    def bucket_neighbours(self, bands: Sequence[tuple[int, int]], limit: int) -> list[int]:
        """Docs sharing at least one LSH bucket, most recent first, at most ``limit``.

        One bounded backwards index scan per bucket: a bucket that keeps growing with the
        collection (a popular boilerplate band) is never read in full, so the cost stays flat.
        """
        found: set[int] = set()
        for band, bucket in bands:
            found.update(row[0] for row in self.db.execute(
                "SELECT doc FROM dedup_bands WHERE band = ? AND bucket = ? ORDER BY doc DESC"
                " LIMIT ?", (band, bucket, limit)))
        return sorted(found, reverse=True)[:limit]

    def postings(self, token: str, ts: int, window_days: int, limit: int) -> list[sqlite3.Row]:
        """Docs carrying a signal token within the time window (at most ``limit`` + 1 rows)."""
        day = ts // _DAY
        return self.db.execute(
            "SELECT s.doc AS doc, d.story_id AS story_id, d.language AS language, d.ts AS ts,"
            " coalesce(d.copy_group, d.doc) AS grp"
            " FROM dedup_signals s JOIN dedup_docs d ON d.doc = s.doc"
            " WHERE s.token = ? AND s.day BETWEEN ? AND ? LIMIT ?",
            (token, day - window_days, day + window_days, limit + 1),
        ).fetchall()

    # -- links and settling (Deduplicator.settle) ------------------------------------------
    def all_docs(self) -> list[int]:
        return [row[0] for row in self.db.execute("SELECT doc FROM dedup_docs ORDER BY doc")]

    def unsettled_docs(self) -> list[int]:
        return [row[0] for row in self.db.execute(
            "SELECT doc FROM dedup_docs WHERE settled = 0 ORDER BY ts, article_id")]

    def mark_settled(self, docs: Iterable[int]) -> None:
        self.db.executemany("UPDATE dedup_docs SET settled = 1 WHERE doc = ?",
                            [(doc,) for doc in docs])

    def links_of(self, doc: int, kinds: Sequence[str] | None = None) -> list[tuple[int, str, float]]:
        """(other doc, kind, score) of every link of ``doc`` (of the given kinds)."""
        rows = self.db.execute(
            "SELECT b, kind, score FROM dedup_links WHERE a = ?"
            " UNION ALL SELECT a, kind, score FROM dedup_links WHERE b = ?", (doc, doc)
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows if kinds is None or r[1] in kinds]

    def replace_links(self, doc: int, kinds: Sequence[str],
                      links: Iterable[tuple[int, str, float]]) -> None:
        """Forget ``doc``'s links of these kinds and record the given ones (a stronger kind
        already linking the same pair stays)."""
        marks = ", ".join("?" * len(kinds))
        self.db.execute(f"DELETE FROM dedup_links WHERE a = ? AND kind IN ({marks})",
                        (doc, *kinds))
        self.db.execute(f"DELETE FROM dedup_links WHERE b = ? AND kind IN ({marks})",
                        (doc, *kinds))
        self.db.executemany(
            "INSERT OR IGNORE INTO dedup_links(a, b, kind, score) VALUES (?, ?, ?, ?)",
            [(min(doc, other), max(doc, other), kind, score) for other, kind, score in links],
        )

    def set_copy_groups(self, groups: dict[int, int]) -> None:
        self.db.executemany("UPDATE dedup_docs SET copy_group = ? WHERE doc = ?",
                            [(None if grp == doc else grp, doc) for doc, grp in groups.items()])

    def group_members(self, group: int) -> list[int]:
        return [group, *(row[0] for row in self.db.execute(
            "SELECT doc FROM dedup_docs WHERE copy_group = ? AND doc != ?", (group, group)))]

    def members(self, story_ids: Iterable[str]) -> list[tuple[int, str, str, int]]:
        """(doc, article id, story id, ts) of every doc in these stories."""
        ids = sorted(set(story_ids))
        if not ids:
            return []
        return [tuple(row) for row in self.db.execute(
            "SELECT doc, article_id, story_id, ts FROM dedup_docs"
            f" WHERE story_id IN ({', '.join('?' * len(ids))})", ids)]

    def move_docs(self, moves: dict[int, str], *, touch_articles: bool = True) -> int:
        """Put docs in other stories; their stored articles follow and need re-indexing."""
        moved = 0
        for doc, story in moves.items():
            self.db.execute("UPDATE dedup_docs SET story_id = ? WHERE doc = ?", (story, doc))
            if touch_articles:
                moved += self.db.execute(
                    "UPDATE articles SET story_id = ?, index_state = CASE WHEN index_state ="
                    " 'quarantined' THEN index_state ELSE 'pending' END WHERE id ="
                    " (SELECT article_id FROM dedup_docs WHERE doc = ?) AND story_id != ?",
                    (story, doc, story)).rowcount
        return moved

    def drop_alias(self, old_id: str) -> None:
        self.db.execute("DELETE FROM story_aliases WHERE old_id = ?", (old_id,))

    def drop_story(self, story_id: str) -> None:
        self.db.execute("DELETE FROM stories WHERE id = ?", (story_id,))

    def story_age(self, story_ids: Iterable[str]) -> dict[str, int]:
        """story id -> its creation rank (rowid): the oldest keeps its id."""
        ids = sorted(set(story_ids))
        if not ids:
            return {}
        return dict(self.db.execute(
            f"SELECT id, rowid FROM stories WHERE id IN ({', '.join('?' * len(ids))})", ids
        ).fetchall())

    # -- stories ----------------------------------------------------------------------------
    def create_story(self, story_id: str, founder: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO stories(id, created, founder) VALUES (?, ?, ?)",
            (story_id, now_iso(), founder),
        )
        self.db.execute("DELETE FROM story_aliases WHERE old_id = ?", (story_id,))

    def story_order(self, story_ids: Iterable[str]) -> list[str]:
        """Live stories among ``story_ids``, oldest first (the oldest keeps its id on a merge)."""
        ids = sorted(set(story_ids))
        if not ids:
            return []
        rows = self.db.execute(
            f"SELECT id FROM stories WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY rowid",
            ids,
        ).fetchall()
        return [row[0] for row in rows]

    def merge(self, winner: str, losers: Iterable[str], *, touch_articles: bool = True) -> int:
        """Fold stories into ``winner``: members move, old ids become aliases.

        Stored members get the new id and are marked for re-indexing in Elasticsearch; a
        rebuild passes ``touch_articles=False`` and rewrites the articles once at the end.
        Returns how many stored articles moved.
        """
        moved = 0
        for loser in losers:
            if loser == winner:
                continue
            self.db.execute("UPDATE dedup_docs SET story_id = ? WHERE story_id = ?", (winner, loser))
            if touch_articles:
                cursor = self.db.execute(
                    "UPDATE articles SET story_id = ?, index_state = CASE WHEN index_state ="
                    " 'quarantined' THEN index_state ELSE 'pending' END WHERE story_id = ?",
                    (winner, loser),
                )
                moved += cursor.rowcount
            self.alias(loser, winner)
            self.db.execute("DELETE FROM stories WHERE id = ?", (loser,))
        return moved

    def alias(self, old: str, new: str) -> None:
        """Make ``old`` resolve to ``new``, also for ids that already resolved to ``old``."""
        stamp = now_iso()
        self.db.execute(
            "UPDATE story_aliases SET new_id = ?, merged_at = ? WHERE new_id = ?", (new, stamp, old)
        )
        self.db.execute(
            "INSERT OR REPLACE INTO story_aliases(old_id, new_id, merged_at) VALUES (?, ?, ?)",
            (old, new, stamp),
        )

    def rename(self, old: str, new: str) -> None:
        """Give a live story another id (used by rebuild to keep the ids users already saw)."""
        self.db.execute("UPDATE stories SET id = ? WHERE id = ?", (new, old))
        self.db.execute("UPDATE dedup_docs SET story_id = ? WHERE story_id = ?", (new, old))
        self.db.execute("DELETE FROM story_aliases WHERE old_id = ?", (new,))


def tune_connection(db: sqlite3.Connection, cache_mb: int = 64) -> None:
    """A larger page cache and memory-mapped reads for a connection that matches many articles:
    the LSH buckets and postings are read at random, so the default 2 MB cache misses a lot."""
    db.execute(f"PRAGMA cache_size = -{int(cache_mb) * 1024}")
    db.execute(f"PRAGMA mmap_size = {int(cache_mb) * 16 * 1024 * 1024}")


def resolve_story(db: sqlite3.Connection, any_id: str) -> str | None:
    """The live story id for a story id, a merged-away story id, or an article id; else None.

    An article that was never clustered (stored while dedup was off) is its own story, named by
    its article id, as in search results.
    """
    if db.execute("SELECT 1 FROM stories WHERE id = ?", (any_id,)).fetchone():
        return any_id
    row = db.execute("SELECT new_id FROM story_aliases WHERE old_id = ?", (any_id,)).fetchone()
    if row:
        return row[0]
    row = db.execute("SELECT story_id FROM articles WHERE id = ?", (any_id,)).fetchone()
    if row:
        return row[0] or any_id
    if db.execute("SELECT 1 FROM articles WHERE story_id = ? LIMIT 1", (any_id,)).fetchone():
        return any_id  # written by an older index that was since cleared
    return None
