"""The embedded store and search backend: one SQLite file, full-text search with FTS5.

SQLite is newsmon's system of record whichever index is configured: the crawl writes every
article here first (so nothing is lost when Elasticsearch is down), together with the fetch
log that makes crawls incremental, translations, stories, and the Elasticsearch sync state.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from search import base as interface
from search.analysis import Analysis, Analyzer
from search.article import Article, Translation
from search.base import (
    MARK_START,
    SearchHit,
    SearchRequest,
    SearchResult,
    UpsertReport,
    capped_total,
)
from search.dedup_index import DedupIndex, resolve_story, tune_connection
from search.errors import ConfigError, QueryError, StoreUnwritable
from search.query import ParsedQuery, Term, fts_string, parse_query, to_fts5
from search.snippets import Marks, snippet


@dataclass
class WarcRecordRef:
    """Where an archived response is: file, offset and length of its record, and its hash."""

    record_id: str
    path: str
    offset: int
    length: int
    url: str
    date: str
    status: int
    payload_sha256: str


@dataclass
class ArticleVersion:
    """One text of an article as newsmon saw it, kept when the outlet changed it."""

    article_id: str
    version: int
    seen_at: str
    last_seen_at: str
    title: str
    body: str
    text_sha256: str
    raw_sha256: str = ""
    warc_record_id: str = ""
    translations: list[Translation] = field(default_factory=list)


# 2: the full-text index holds analysed terms (word forms, search.analysis), not words
# 3: search_keys carries each article's facet (search_facets), so facets group on one integer
SCHEMA_VERSION = 3

# What search filters, counts, collapses and sorts on, per article, in a narrow table kept by
# triggers: reading these columns from `articles` walks the overflow pages of each body, which
# made every search at 100,000 articles read the whole collection's text from disk. `facet`
# names the article's (outlet, language, day) in search_facets: facets group every match on
# that one integer, which costs a third of grouping on the three strings.
_FACET_DAY = "coalesce(substr(new.published, 1, 10), '')"
_SEARCH_KEYS_ROW = f"""
    INSERT OR IGNORE INTO search_facets(outlet, language, day)
    VALUES (new.outlet, new.language, {_FACET_DAY});
    INSERT OR REPLACE INTO search_keys(rowid, id, story, outlet, language, published, facet)
    VALUES (new.rowid, new.id, CASE WHEN new.story_id = '' THEN new.id ELSE new.story_id END,
     new.outlet, new.language, new.published,
     (SELECT id FROM search_facets WHERE outlet = new.outlet AND language = new.language
      AND day = {_FACET_DAY}));"""
SEARCH_KEYS = f"""
CREATE TABLE IF NOT EXISTS search_facets (
    id INTEGER PRIMARY KEY,
    outlet TEXT NOT NULL,
    language TEXT NOT NULL,
    day TEXT NOT NULL,          -- YYYY-MM-DD of published, '' when undated
    UNIQUE (outlet, language, day)
);
CREATE TABLE IF NOT EXISTS search_keys (
    rowid INTEGER PRIMARY KEY,  -- the article's rowid, as in articles_fts
    id TEXT NOT NULL,
    story TEXT NOT NULL,        -- story_id, or the article's id when it has none
    outlet TEXT NOT NULL,
    language TEXT NOT NULL,
    published TEXT,
    facet INTEGER NOT NULL      -- search_facets.id
);
CREATE INDEX IF NOT EXISTS search_keys_story ON search_keys(story, outlet, language);
CREATE TRIGGER IF NOT EXISTS search_keys_insert AFTER INSERT ON articles BEGIN{_SEARCH_KEYS_ROW}
END;
CREATE TRIGGER IF NOT EXISTS search_keys_update
AFTER UPDATE OF id, story_id, outlet, language, published ON articles BEGIN{_SEARCH_KEYS_ROW}
END;
CREATE TRIGGER IF NOT EXISTS search_keys_delete AFTER DELETE ON articles BEGIN
    DELETE FROM search_keys WHERE rowid = old.rowid;
END;
"""

# The text of each article and of its translations as analysed terms (search.analysis), each
# in its own language; snippets are cut from the stored text, not from here.
FTS_TABLE = """CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    title, body, tr_title, tr_body, tokenize = 'unicode61 remove_diacritics 2'
)"""

SCHEMA = FTS_TABLE + """;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    canonical_url TEXT NOT NULL UNIQUE,
    outlet TEXT NOT NULL,
    edition TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    language_probability REAL NOT NULL DEFAULT 0,
    language_source TEXT NOT NULL DEFAULT '',
    declared_language TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    authors TEXT NOT NULL DEFAULT '[]',
    published TEXT,
    updated TEXT,
    section TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    fetched_at TEXT NOT NULL DEFAULT '',
    http_status INTEGER NOT NULL DEFAULT 200,
    raw_sha256 TEXT NOT NULL DEFAULT '',
    text_sha256 TEXT NOT NULL,
    story_id TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    index_state TEXT NOT NULL DEFAULT 'pending',  -- pending | synced | quarantined
    index_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS articles_text ON articles(text_sha256);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
CREATE INDEX IF NOT EXISTS articles_outlet ON articles(outlet, language);
CREATE INDEX IF NOT EXISTS articles_story ON articles(story_id);
CREATE INDEX IF NOT EXISTS articles_index_state ON articles(index_state);
CREATE TABLE IF NOT EXISTS article_urls (
    url TEXT PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS article_urls_article ON article_urls(article_id);
CREATE TABLE IF NOT EXISTS fetches (
    url TEXT PRIMARY KEY,
    outlet TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    status INTEGER NOT NULL,
    outcome TEXT NOT NULL,        -- stored | duplicate | dropped:<reason> | not-modified
    etag TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    article_id TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS translations (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    model_version TEXT NOT NULL DEFAULT '',
    translated_at TEXT NOT NULL DEFAULT '',
    source_language TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (article_id, target)
);
-- evidence: archived responses, versions, captures and removals (docs/evidence.md)
CREATE TABLE IF NOT EXISTS warc_records (
    record_id TEXT PRIMARY KEY,       -- WARC-Record-ID of a response record
    path TEXT NOT NULL,               -- the .warc(.gz) file
    offset INTEGER NOT NULL,          -- where the record (its gzip member) starts
    length INTEGER NOT NULL,
    url TEXT NOT NULL,
    date TEXT NOT NULL,
    status INTEGER NOT NULL,
    payload_sha256 TEXT NOT NULL      -- hex, of the payload as stored (content coding kept)
);
CREATE TABLE IF NOT EXISTS article_versions (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    seen_at TEXT NOT NULL,            -- first fetch that showed this text
    last_seen_at TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    raw_sha256 TEXT NOT NULL DEFAULT '',
    warc_record_id TEXT NOT NULL DEFAULT '',
    translations TEXT NOT NULL DEFAULT '[]',  -- JSON, as they were for this version
    PRIMARY KEY (article_id, version)
);
CREATE TABLE IF NOT EXISTS article_captures (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    seen_at TEXT NOT NULL,
    warc_record_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS article_captures_article ON article_captures(article_id);
CREATE TABLE IF NOT EXISTS article_removals (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    removed_at TEXT NOT NULL,         -- first re-check that found it gone
    reason TEXT NOT NULL,             -- http-404 | http-410 | redirect-to-front-page
    url TEXT NOT NULL,
    warc_record_id TEXT NOT NULL DEFAULT '',
    restored_at TEXT NOT NULL DEFAULT ''  -- a later fetch found it again
);
CREATE INDEX IF NOT EXISTS article_removals_article ON article_removals(article_id);
-- every language whose text is in the full-text index, and how it was analysed
CREATE TABLE IF NOT EXISTS fts_languages (language TEXT PRIMARY KEY, analysis TEXT NOT NULL);
""" + SEARCH_KEYS


# -- statements (issue #9) ---------------------------------------------------------------------
# One row per statement (a speaker's words), one per report of it (an article that carries it).
STATEMENTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS statements (
    id TEXT PRIMARY KEY,
    speaker_key TEXT NOT NULL,          -- actor id, or 'name:' + folded name
    speaker_actor TEXT NOT NULL DEFAULT '',
    speaker_name TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,                 -- as first reported
    pivot_text TEXT NOT NULL DEFAULT '',
    first_published TEXT,
    index_state TEXT NOT NULL DEFAULT 'pending'  -- pending | synced (Elasticsearch)
);
CREATE TABLE IF NOT EXISTS statements_removed (id TEXT PRIMARY KEY);  -- to delete from ES
CREATE INDEX IF NOT EXISTS statements_speaker ON statements(speaker_key, first_published);
CREATE TABLE IF NOT EXISTS statement_reports (
    statement_id TEXT NOT NULL REFERENCES statements(id) ON DELETE CASCADE,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,                 -- direct | reported
    speaker_name TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    translation TEXT NOT NULL DEFAULT '',
    paragraph INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    first_report INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, start)
);
CREATE INDEX IF NOT EXISTS statement_reports_statement ON statement_reports(statement_id);
"""
# -- saved searches and alerts (the web app and `newsmon watch`) ----------------------------
WATCH_SCHEMA = """
CREATE TABLE IF NOT EXISTS saved_searches (
    name TEXT PRIMARY KEY,
    query TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',   -- JSON: outlets, languages, dates, cross_lingual
    webhook TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    last_run TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS saved_search_seen (
    name TEXT NOT NULL REFERENCES saved_searches(name) ON DELETE CASCADE,
    article_id TEXT NOT NULL,             -- a statement id for an actor watch
    seen_at TEXT NOT NULL,
    PRIMARY KEY (name, article_id)
);
CREATE TABLE IF NOT EXISTS alert_outbox (  -- webhook deliveries, kept until one succeeds
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL REFERENCES saved_searches(name) ON DELETE CASCADE,
    url TEXT NOT NULL,
    payload TEXT NOT NULL,
    created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS saved_search_cursor (  -- actor watches: statements read so far
    name TEXT PRIMARY KEY REFERENCES saved_searches(name) ON DELETE CASCADE,
    cursor INTEGER NOT NULL,              -- rowid in statements (statements_added_after)
    cursor_id TEXT NOT NULL               -- the statement at that rowid when it was read
);
"""
# -- end of saved searches and alerts ---------------------------------------------------------

# bm25 weights for (title, body, tr_title, tr_body): a hit in a title counts more.
_BM25 = "bm25(articles_fts, 4.0, 1.0, 2.0, 0.8)"
# Matches ranked by bm25 at a time, most recently stored first (SQLiteStore._ranked): a
# bound on the rows a relevance search scores, whatever the size of the store.
RANK_WINDOW = 1000
_ARTICLE_COLUMNS = (
    "id, canonical_url, outlet, edition, language, language_probability, language_source,"
    " declared_language, title, body, authors, published, updated, section, tags, fetched_at,"
    " http_status, raw_sha256, text_sha256, story_id"
)
_JSON_COLUMNS = ("authors", "tags")


class StatementsMixin:
    """Statements and their reports (pipelines/statements files them; see docs/statements.md)."""

    db: sqlite3.Connection

    def delete_statement_reports(self, article_id: str) -> None:
        with self.transaction():
            self._delete_reports(article_id)

    def _delete_reports(self, article_id: str) -> None:
        """An article's reports, and the statements no other article reports."""
        ids = [r[0] for r in self.db.execute(
            "SELECT DISTINCT statement_id FROM statement_reports WHERE article_id = ?",
            (article_id,))]
        self.db.execute("DELETE FROM statement_reports WHERE article_id = ?", (article_id,))
        for statement_id in ids:
            left = self.db.execute("SELECT 1 FROM statement_reports WHERE statement_id = ?"
                                   " LIMIT 1", (statement_id,)).fetchone()
            if left is None:
                self.db.execute("DELETE FROM statements WHERE id = ?", (statement_id,))
                self.db.execute("INSERT OR IGNORE INTO statements_removed(id) VALUES (?)",
                                (statement_id,))
            else:
                self._mark_first_report(statement_id)

    def clear_statements(self) -> None:
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO statements_removed(id) SELECT id FROM statements")
            self.db.execute("DELETE FROM statement_reports")
            self.db.execute("DELETE FROM statements")

    def statement_candidates(self, speaker_key: str, published: str | None,
                             window_days: int) -> list[dict[str, Any]]:
        """Stored statements of a speaker first reported within ``window_days`` of a date."""
        if published:
            rows = self.db.execute(
                "SELECT id, text, pivot_text FROM statements WHERE speaker_key = ?"
                " AND (first_published IS NULL OR abs(julianday(first_published)"
                " - julianday(?)) <= ?)",
                (speaker_key, published, window_days),
            ).fetchall()
        else:
            rows = self.db.execute(
                "SELECT id, text, pivot_text FROM statements WHERE speaker_key = ?",
                (speaker_key,),
            ).fetchall()
        return [dict(row) for row in rows]

    def save_statement_reports(self, article_id: str, reports: Sequence[dict[str, Any]]) -> None:
        """Replace an article's reports, in one transaction; new statements are created,
        first reports re-marked."""
        with self.transaction():
            self._delete_reports(article_id)
            published = self.db.execute(
                "SELECT coalesce(published, first_seen) FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
            when = published[0] if published else None
            touched = set()
            for r in reports:
                self.db.execute(
                    "INSERT OR IGNORE INTO statements(id, speaker_key, speaker_actor, speaker_name,"
                    " text, pivot_text, first_published) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (r["statement_id"], r["speaker_key"], r["speaker_actor"], r["speaker_name"],
                     r["text"], r["pivot_text"], when),
                )
                self.db.execute(
                    "INSERT OR REPLACE INTO statement_reports(statement_id, article_id, kind,"
                    " speaker_name, text, translation, paragraph, start, \"end\")"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (r["statement_id"], article_id, r["kind"], r["speaker_name"], r["text"],
                     r["translation"], r["paragraph"], r["start"], r["end"]),
                )
                touched.add(r["statement_id"])
            for statement_id in touched:
                self._mark_first_report(statement_id)

    def _mark_first_report(self, statement_id: str) -> None:
        rows = self.db.execute(
            "SELECT r.rowid, coalesce(a.published, a.first_seen) AS at FROM statement_reports r"
            " JOIN articles a ON a.id = r.article_id WHERE r.statement_id = ?"
            " ORDER BY at, a.rowid, r.start", (statement_id,),
        ).fetchall()
        self.db.execute("UPDATE statement_reports SET first_report = (rowid = ?)"
                        " WHERE statement_id = ?", (rows[0]["rowid"], statement_id))
        self.db.execute("UPDATE statements SET first_published = ?, index_state = 'pending'"
                        " WHERE id = ?", (rows[0]["at"], statement_id))
        self.db.execute("DELETE FROM statements_removed WHERE id = ?", (statement_id,))

    def _statements(self, where: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT s.id, s.speaker_key, s.speaker_actor, s.speaker_name, s.text, s.pivot_text,"
            " s.first_published FROM statements s"
            f" WHERE {where} ORDER BY s.first_published, s.id", tuple(params),
        ).fetchall()
        out = []
        for row in rows:
            statement = dict(row)
            statement["reports"] = [dict(r) for r in self.db.execute(
                "SELECT r.article_id, r.kind, r.speaker_name, r.text, r.translation, r.paragraph,"
                " r.start, r.\"end\", r.first_report, a.outlet, a.language, a.published,"
                " a.canonical_url AS url, a.title, a.story_id FROM statement_reports r"
                " JOIN articles a ON a.id = r.article_id WHERE r.statement_id = ?"
                " ORDER BY coalesce(a.published, a.first_seen), a.rowid", (row["id"],),
            )]
            for report in statement["reports"]:
                report["first_report"] = bool(report["first_report"])
            out.append(statement)
        return out

    def statements_for_actor(self, actor_id: str, since: str | None = None,
                             story_id: str | None = None) -> list[dict[str, Any]]:
        """An actor's statements in time order, each with all its reports (oldest first)."""
        where, params = ["s.speaker_actor = ?"], [actor_id]
        if since:
            where.append("s.first_published >= ?")
            params.append(since)
        if story_id:
            where.append("s.id IN (SELECT r.statement_id FROM statement_reports r JOIN articles a"
                         " ON a.id = r.article_id WHERE a.story_id = ? OR a.id = ?)")
            params.extend([story_id, story_id])
        return self._statements(" AND ".join(where), params)

    def story_responses(self, story_id: str) -> list[dict[str, Any]]:
        """Statements carried by a story's articles, in order of first report, with reports."""
        return self._statements(
            "s.id IN (SELECT r.statement_id FROM statement_reports r JOIN articles a"
            " ON a.id = r.article_id WHERE a.story_id = ? OR (a.story_id = '' AND a.id = ?))",
            [story_id, story_id],
        )

    def iter_articles_by_date(self) -> Iterator[Article]:
        """Every article, oldest first, so that first reports are filed first."""
        ids = [row[0] for row in self.db.execute(
            "SELECT id FROM articles ORDER BY coalesce(published, first_seen), rowid")]
        for article_id in ids:
            article = self.get(article_id)
            if article is not None:
                yield article

    def story_of_url(self, url: str) -> str | None:
        """The story (or, unclustered, the article) a URL belongs to; query strings ignored."""
        row = self.db.execute(
            "SELECT coalesce(nullif(a.story_id, ''), a.id) FROM article_urls u JOIN articles a"
            " ON a.id = u.article_id WHERE u.url = ? OR u.url LIKE ? || '?%' ORDER BY u.rowid"
            " LIMIT 1", (url, url),
        ).fetchone()
        return row[0] if row else None

    def statements_added_after(self, cursor: int = 0, actor_ids: Sequence[str] = (),
                               limit: int = 500) -> tuple[list[dict[str, Any]], int]:
        """Statements filed since ``cursor`` (for alerts): (statements, the next cursor).

        The cursor is SQLite's rowid of ``statements``; 0 = from the start. A rebuild refiles
        everything, so alerts should keep the ids they have sent.
        """
        where, params = ["rowid > ?"], [cursor]
        if actor_ids:
            where.append(f"speaker_actor IN ({', '.join('?' * len(actor_ids))})")
            params.extend(actor_ids)
        rows = self.db.execute(
            f"SELECT rowid, id FROM statements WHERE {' AND '.join(where)} ORDER BY rowid"
            " LIMIT ?", (*params, limit)).fetchall()
        if not rows:
            return [], cursor
        found = self._statements(
            "s.id IN (SELECT value FROM json_each(?))", [json.dumps([r["id"] for r in rows])])
        return found, rows[-1]["rowid"]

    # Elasticsearch sync of statements (search/elastic_statements.py)
    def statements_pending_index(self, limit: int,
                                 exclude: Sequence[str] = ()) -> list[dict[str, Any]]:
        return self._statements(
            "s.index_state = 'pending' AND s.id NOT IN (SELECT value FROM json_each(?))"
            " AND s.rowid IN (SELECT rowid FROM statements WHERE index_state = 'pending'"
            " ORDER BY rowid LIMIT ?)", [json.dumps(list(exclude)), limit + len(exclude)])

    def mark_statements_indexed(self, ids: Sequence[str]) -> None:
        with self.transaction():
            self.db.execute("UPDATE statements SET index_state = 'synced'"
                            " WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),))

    def statements_removed(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM statements_removed")]

    def forget_removed_statements(self, ids: Sequence[str]) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM statements_removed WHERE id IN"
                            " (SELECT value FROM json_each(?))", (json.dumps(list(ids)),))

    def statement_counts(self) -> dict[str, int]:
        return {row[0]: row[1] for row in self.db.execute(
            "SELECT speaker_actor, count(*) FROM statements WHERE speaker_actor != ''"
            " GROUP BY 1")}

# -- end of statements -------------------------------------------------------------------------


class SQLiteStore(StatementsMixin):
    """Articles, fetch log and translations in one SQLite file; implements SearchBackend."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the store {self.path}: {exc}") from None
        self.db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._dedup_index: DedupIndex | None = None
        self.analysis = Analysis()
        self._fts_languages: set[str] = set()  # already in fts_languages
        self._fts_pending: dict[str, bool] | None = None  # article id -> just inserted
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA busy_timeout=10000")
            with self._lock:
                self.db.executescript(SCHEMA + WATCH_SCHEMA)  # idempotent: CREATE ... IF NOT EXISTS
                self.db.executescript(STATEMENTS_SCHEMA)
                self.db.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                version = int(self.db.execute(
                    "SELECT value FROM meta WHERE key = 'schema_version'"
                ).fetchone()[0])
                if version < SCHEMA_VERSION:
                    self._migrate(version)
                self._backfill_versions()
        except sqlite3.OperationalError as exc:  # read-only file system, full disk
            self.db.close()
            raise StoreUnwritable(f"cannot write the store {self.path} ({exc})") from None
        if version > SCHEMA_VERSION:
            self.db.close()
            raise ConfigError(
                f"the store {self.path} was written by a newer newsmon (schema {version})"
            )
        self._fts_languages = {
            row[0] for row in self.db.execute("SELECT language FROM fts_languages")
        }

    def _migrate(self, version: int) -> None:
        """Bring an older store up to date; the articles themselves are never rewritten."""
        if version < 3:
            self._rebuild_search_keys()
        if version < 2:
            self.rebuild_fts(progress=True)
        self.db.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
        )

    def _rebuild_search_keys(self) -> None:
        """search_keys in its current shape, filled from the articles (derived data: an
        interrupted rebuild runs again on the next open, as the schema version is still old)."""
        for name in ("search_keys_insert", "search_keys_update", "search_keys_delete"):
            self.db.execute(f"DROP TRIGGER IF EXISTS {name}")
        self.db.execute("DROP TABLE IF EXISTS search_keys")
        self.db.executescript(SEARCH_KEYS)
        with self.transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO search_facets(outlet, language, day) SELECT DISTINCT"
                " outlet, language, coalesce(substr(published, 1, 10), '') FROM articles"
            )
            self.db.execute(
                "INSERT INTO search_keys(rowid, id, story, outlet, language, published, facet)"
                " SELECT a.rowid, a.id, CASE WHEN a.story_id = '' THEN a.id ELSE a.story_id END,"
                " a.outlet, a.language, a.published, f.id FROM articles a JOIN search_facets f"
                " ON f.outlet = a.outlet AND f.language = a.language"
                " AND f.day = coalesce(substr(a.published, 1, 10), '')"
            )

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; committed on success, rolled back on error."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self.db.close()

    # -- writing articles -------------------------------------------------------------------
    def upsert(self, articles: Sequence[Article]) -> UpsertReport:
        """Insert or update by canonical URL; the same text under a new URL joins the stored one."""
        report = UpsertReport()
        with self.transaction(), self._fts_batch():
            for article in articles:
                outcome, stored_id = self._upsert_one(article)
                article.id = stored_id
                getattr(report, outcome).append(stored_id)
        return report

    @contextmanager
    def _fts_batch(self) -> Iterator[None]:
        """Within a write transaction: the full-text rows of the articles written are written
        together when the block ends (see ``refresh_fts``)."""
        self._fts_pending = {}
        try:
            yield
            self._flush_fts()
        finally:
            self._fts_pending = None

    def _upsert_one(self, article: Article) -> tuple[str, str]:
        # 1. the same canonical URL: an update (or nothing new)
        row = self.db.execute(
            "SELECT id FROM articles WHERE canonical_url = ?", (article.canonical_url,)
        ).fetchone()
        existing_id = row["id"] if row is not None else None
        if existing_id is None:
            # 2. the same text as a stored article: one more URL for it
            row = self.db.execute(
                "SELECT id FROM articles WHERE text_sha256 = ? ORDER BY rowid LIMIT 1",
                (article.text_sha256,),
            ).fetchone()
            if row is not None:
                self._add_urls(row["id"], article.urls)
                self._capture(row["id"], article)
                return "duplicates", row["id"]
            # 3. a known URL under a new canonical (the site changed it): update that article
            existing_id = self._id_for_urls(article.urls)
        if existing_id is None:
            self._insert(article)
            return "inserted", article.id
        current = self.db.execute(
            f"SELECT rowid, {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (existing_id,)
        ).fetchone()
        self._add_urls(existing_id, article.urls)
        new_values = self._row_values(article)
        if all(current[k] == v for k, v in new_values.items() if k not in ("id", "fetched_at")):
            self._capture(existing_id, article)
            return "unchanged", existing_id
        assignments = ", ".join(f"{k} = :{k}" for k in new_values if k not in ("id", "canonical_url"))
        self.db.execute(
            f"UPDATE articles SET {assignments}, index_state = 'pending' WHERE id = :existing",
            {**new_values, "existing": existing_id},
        )
        if current["text_sha256"] != article.text_sha256:
            # the text changed: old translations no longer describe it
            self.db.execute("DELETE FROM translations WHERE article_id = ?", (existing_id,))
        for translation in article.translations:
            self._write_translation(existing_id, translation)
        self.refresh_fts(existing_id)
        if (current["title"], current["body"]) != (article.title, article.body):
            self._new_version(existing_id, article)
        else:
            self._capture(existing_id, article)
        return "updated", existing_id

    def _insert(self, article: Article) -> None:
        values = self._row_values(article)
        columns = ", ".join(values)
        self.db.execute(
            f"INSERT INTO articles ({columns}) VALUES ({', '.join(':' + k for k in values)})",
            values,
        )
        self._add_urls(article.id, article.urls)
        for translation in article.translations:
            self._write_translation(article.id, translation)
        self.refresh_fts(article.id, new=True)
        self._new_version(article.id, article)

    @staticmethod
    def _row_values(article: Article) -> dict[str, Any]:
        data = article.to_dict()
        values = {name.strip(): data[name.strip()] for name in _ARTICLE_COLUMNS.split(",")}
        for name in _JSON_COLUMNS:
            values[name] = json.dumps(values[name], ensure_ascii=False)
        return values

    def _id_for_urls(self, urls: Sequence[str]) -> str | None:
        for url in urls:
            row = self.db.execute(
                "SELECT article_id FROM article_urls WHERE url = ?", (url,)
            ).fetchone()
            if row is not None:
                return row["article_id"]
        return None

    def _add_urls(self, article_id: str, urls: Sequence[str]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO article_urls(url, article_id) VALUES (?, ?)",
            [(url, article_id) for url in urls],
        )

    def refresh_fts(self, article_id: str, new: bool = False) -> None:
        """Rewrite the full-text row of one article from its text and its translations
        (``new``: the article was just inserted, so it has no row to delete).

        Within ``upsert`` and ``write_batch`` the rows are written once, at the end of the
        batch (``_fts_batch``): any statement that needs a statement journal (an UPDATE, a
        DELETE) makes FTS5 flush its pending terms to a new segment, so writing each article's
        row between such statements wrote one small segment per article and merged them again
        and again (most of an upsert's time)."""
        if self._fts_pending is not None:
            self._fts_pending[article_id] = self._fts_pending.get(article_id, True) and new
            return
        self._fts_pending = {article_id: new}
        try:
            self._flush_fts()
        finally:
            self._fts_pending = None

    def _flush_fts(self) -> None:
        """Write the full-text rows of the articles in ``_fts_pending``: deletes, then inserts."""
        pending, self._fts_pending = self._fts_pending or {}, {}
        rows, stale = [], []
        for article_id, new in pending.items():
            row = self.db.execute(
                "SELECT rowid, title, body, language FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
            if row is not None:
                rows.append(row)
                if not new:
                    stale.append((row["rowid"],))
        self.db.executemany("DELETE FROM articles_fts WHERE rowid = ?", stale)
        self.db.executemany(
            "INSERT INTO articles_fts(rowid, title, body, tr_title, tr_body) VALUES (?, ?, ?, ?, ?)",
            [self._fts_values(row["rowid"], row["language"], row["title"], row["body"])
             for row in rows],
        )

    def _fts_values(self, rowid: int, language: str, title: str, body: str) -> tuple[Any, ...]:
        """The full-text row: the text analysed in its language, translations in theirs."""
        translated = self.db.execute(
            "SELECT target, title, body FROM translations"
            " WHERE article_id = (SELECT id FROM articles WHERE rowid = ?) AND status = 'done'"
            " ORDER BY target",
            (rowid,),
        ).fetchall()
        tr_titles, tr_bodies = [], []
        for t in translated:
            tr_titles.append(self._indexed_text(t["target"], t["title"]))
            tr_bodies.append(self._indexed_text(t["target"], t["body"]))
        return (rowid, self._indexed_text(language, title), self._indexed_text(language, body),
                " ".join(tr_titles), "\n".join(tr_bodies))

    def _indexed_text(self, language: str, text: str) -> str:
        """What the full-text index holds for a text: its terms (``search.analysis``)."""
        return self._analyser(language).analyse(text)

    def _analyser(self, language: str) -> Analyzer:
        """The analyser of a language, which is then recorded as present in the index."""
        analyser = self.analysis(language)
        if language not in self._fts_languages:
            self.db.execute(
                "INSERT OR REPLACE INTO fts_languages(language, analysis) VALUES (?, ?)",
                (language, analyser.name),
            )
            self._fts_languages.add(language)
        return analyser

    def rebuild_fts(self, progress: bool = False) -> None:
        """Analyse every article again (a new analysis, or an older store); one transaction."""
        total = self.count()
        done = 0
        with self.transaction():
            self.db.execute("DROP TABLE IF EXISTS articles_fts")
            self.db.execute("DELETE FROM fts_languages")
            self._fts_languages.clear()
            self.db.execute(FTS_TABLE)
            last = 0
            while True:
                rows = self.db.execute(
                    "SELECT rowid, language, title, body FROM articles WHERE rowid > ?"
                    " ORDER BY rowid LIMIT 500", (last,),
                ).fetchall()
                if not rows:
                    break
                self.db.executemany(
                    "INSERT INTO articles_fts(rowid, title, body, tr_title, tr_body)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [self._fts_values(row["rowid"], row["language"], row["title"], row["body"])
                     for row in rows],
                )
                done += len(rows)
                last = rows[-1]["rowid"]
                if progress:
                    print(f"\rnewsmon: rebuilding the search index of {self.path.name}:"
                          f" {done:,} / {total:,} articles", end="", file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)

    # -- translations -----------------------------------------------------------------------
    def save_translation(self, article_id: str, translation: Translation) -> None:
        with self.transaction():
            self._write_translation(article_id, translation)
            self.db.execute(
                "UPDATE articles SET index_state = 'pending' WHERE id = ?", (article_id,)
            )
            self.refresh_fts(article_id)
            self._snapshot_translations(article_id)

    def _write_translation(self, article_id: str, t: Translation) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO translations(article_id, target, status, title, body, model,"
            " model_version, translated_at, source_language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article_id, t.target, t.status, t.title, t.body, t.model, t.model_version,
             t.translated_at, t.source_language),
        )

    def translations(self, article_id: str) -> list[Translation]:
        rows = self.db.execute(
            "SELECT target, status, title, body, model, model_version, translated_at,"
            " source_language FROM translations WHERE article_id = ? ORDER BY target",
            (article_id,),
        ).fetchall()
        return [Translation(**dict(row)) for row in rows]

    # -- reading articles -------------------------------------------------------------------
    def get(self, article_id: str) -> Article | None:
        row = self.db.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        if row is None:
            return None
        return self._article(row)

    def _article(self, row: sqlite3.Row) -> Article:
        data = dict(row)
        for name in _JSON_COLUMNS:
            data[name] = json.loads(data[name])
        urls = self.db.execute(
            "SELECT url FROM article_urls WHERE article_id = ? ORDER BY rowid", (data["id"],)
        ).fetchall()
        data["urls"] = [r["url"] for r in urls]
        data["translations"] = self.translations(data["id"])
        return Article.from_dict(data)

    def iter_articles(self) -> Iterator[Article]:
        """Every stored article, in insertion order, without loading all."""
        return self._iter_where("1", ())

    def articles_pending_translation(self, target: str) -> Iterator[Article]:
        """Articles in another language without a done (or skipped) translation into target."""
        return self._iter_where(
            "language != '' AND language != ? AND NOT EXISTS (SELECT 1 FROM translations t"
            " WHERE t.article_id = articles.id AND t.target = ?"
            " AND (t.status = 'done' OR t.status LIKE 'skipped:%'))",
            (target, target),
        )

    def articles_translated_into(self, target: str) -> Iterator[Article]:
        """Articles with a done translation into target."""
        return self._iter_where(
            "EXISTS (SELECT 1 FROM translations t WHERE t.article_id = articles.id"
            " AND t.target = ? AND t.status = 'done')",
            (target,),
        )

    def articles_to_cluster(self, pivot: str) -> Iterator[Article]:
        """Articles the story index lacks, and indexed ones whose pivot translation arrived since."""
        self.dedup_index()  # the story tables exist before they are queried
        return self._iter_where(
            "id NOT IN (SELECT article_id FROM dedup_docs) OR id IN ("
            " SELECT d.article_id FROM dedup_docs d JOIN translations t"
            " ON t.article_id = d.article_id AND t.target = ? AND t.status = 'done'"
            " WHERE d.pivot_terms = 0)",
            (pivot,),
        )

    def _iter_where(self, where: str, params: Sequence[Any]) -> Iterator[Article]:
        """Every article matching an SQL condition, in insertion order, without loading all."""
        last = 0
        while True:
            rows = self.db.execute(
                f"SELECT rowid, {_ARTICLE_COLUMNS} FROM articles WHERE rowid > ? AND ({where})"
                " ORDER BY rowid LIMIT 200",
                (last, *params),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield self._article(row)
            last = rows[-1]["rowid"]

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM articles").fetchone()[0]

    # -- batched writes of a crawl (crawler/writer.py) ----------------------------------------
    def write_batch(self, articles: Sequence[Article], fetches: Sequence[dict]) -> list[str]:
        """Upsert articles and record fetch-log entries in one transaction; each article's
        outcome ("inserted", "updated", "unchanged", "duplicates"), in order."""
        outcomes = []
        with self.transaction(), self._fts_batch():
            for article in articles:
                outcome, article.id = self._upsert_one(article)
                outcomes.append(outcome)
            self.db.executemany(
                "INSERT OR REPLACE INTO fetches(url, outlet, fetched_at, status, outcome, etag,"
                " last_modified, article_id) VALUES (:url, :outlet, :fetched_at, :status, :outcome,"
                " :etag, :last_modified, :article_id)", fetches)
        return outcomes

    # -- fetch log (incremental crawling) -----------------------------------------------------
    def record_fetch(
        self,
        url: str,
        *,
        outlet: str,
        fetched_at: str,
        status: int,
        outcome: str,
        etag: str = "",
        last_modified: str = "",
        article_id: str = "",
    ) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO fetches(url, outlet, fetched_at, status, outcome, etag,"
                " last_modified, article_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (url, outlet, fetched_at, status, outcome, etag, last_modified, article_id),
            )

    def last_fetch(self, url: str) -> sqlite3.Row | None:
        """The fetch log entry of a URL, or None if newsmon never fetched it."""
        return self.db.execute("SELECT * FROM fetches WHERE url = ?", (url,)).fetchone()

    # -- search -----------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResult:
        parsed = parse_query(request.query)
        languages = [row[0] for row in self.db.execute("SELECT language FROM fts_languages")]
        match = to_fts5(parsed, lambda term: self._forms(term, languages or [""]))
        where, params = self._filters(request)
        base = (
            "FROM articles_fts JOIN search_keys k ON k.rowid = articles_fts.rowid"
            f" WHERE articles_fts MATCH ? AND {where}"
        )
        args = (match, *params)
        offset = int(request.search_after[0]) if request.search_after else request.offset
        try:
            window = None
            if request.sort == "relevance":
                window = self._window(base, args)
                page = self._ranked(base, args, window, offset, request.limit + 1,
                                    request.collapse)
            else:
                page = self._by_date(base, args, request, offset)
            if window is not None and len(window) < RANK_WINDOW:  # every match: no new pass
                total, exact = capped_total(
                    len({row["story"] for row in window}) if request.collapse else len(window)
                )
                facets = self._facets_of(window) if request.facets else {}
            else:
                total, exact = self._count(base, args, request.collapse)
                facets = self._facets(base, args) if request.facets else {}
        except sqlite3.OperationalError as exc:
            raise QueryError(f"cannot run this query: {exc}") from None
        more = len(page) > request.limit
        marks = _MarksByLanguage(self, parsed)
        hits = [self._hit(row, marks) for row in page[: request.limit]]
        return SearchResult(
            total=total, total_exact=exact, hits=hits, facets=facets,
            next_cursor=[offset + len(hits)] if more and hits else None,
        )

    def _count(self, base: str, args: Sequence[Any], collapse: bool) -> tuple[int, bool]:
        """Matching stories (or articles), counted exactly up to TOTAL_CAP: counting stops
        there, so a word found in most of a large store does not cost a pass over every match."""
        counted = "DISTINCT k.story" if collapse else "1"
        n = self.db.execute(
            f"SELECT count(*) FROM (SELECT {counted} {base} LIMIT ?)",
            (*args, interface.TOTAL_CAP + 1),
        ).fetchone()[0]
        return capped_total(n)

    def _window(self, base: str, args: Sequence[Any], before: int | None = None
                ) -> list[sqlite3.Row]:
        """The RANK_WINDOW most recently stored matches (stored before ``before``), by bm25."""
        older = "" if before is None else " AND articles_fts.rowid < ?"
        return self.db.execute(
            "SELECT rowid, id, story, facet, rank FROM (SELECT k.rowid AS rowid, k.id AS id,"
            f" k.story AS story, k.facet AS facet, {_BM25} AS rank {base}{older}"
            " ORDER BY articles_fts.rowid DESC LIMIT ?) ORDER BY rank, rowid",
            (*args, *(() if before is None else (before,)), RANK_WINDOW),
        ).fetchall()

    def _ranked(self, base: str, args: Sequence[Any], window: list[sqlite3.Row], offset: int,
                count: int, collapse: bool) -> list[sqlite3.Row]:
        """A page by relevance: ``count`` hits from ``offset`` (one per story when collapsed).

        bm25() costs a few microseconds per row and FTS5 has no top-k pruning, so ranking every
        match of a common word (most of a large store) was most of a search's time. The matches
        are ranked in windows instead, most recently stored first: the newest RANK_WINDOW
        matches by bm25 (``window``), then (for deeper pages) the RANK_WINDOW before them, and
        so on. Scores are the usual bm25 over the whole index; a hit in an older window ranks
        after every hit of a newer one. A query with fewer matches than the window is ranked
        exactly, and its count and facets come from the window too (one pass over the index).
        """
        wanted = offset + count
        page: list[sqlite3.Row] = []
        stories: set[str] = set()
        while True:
            for row in window:
                if collapse:
                    if row["story"] in stories:
                        continue
                    stories.add(row["story"])
                page.append(row)
                if len(page) >= wanted:
                    return page[offset:wanted]
            if len(window) < RANK_WINDOW:
                return page[offset:wanted]
            window = self._window(base, args, before=min(row["rowid"] for row in window))

    def _by_date(self, base: str, args: Sequence[Any], request: SearchRequest,
                 offset: int) -> list[sqlite3.Row]:
        """A page sorted by date (ties by relevance); collapsed: each story's newest member."""
        order = {"newest": "published DESC", "oldest": "published ASC"}[request.sort]
        matches = (
            f"SELECT k.rowid AS rowid, k.id AS id, k.published AS published, {_BM25} AS rank,"
            f" k.story AS story {base}"
        )
        if request.collapse:
            matches = (
                "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY story ORDER BY rank)"
                f" AS member_rank FROM ({matches})) WHERE member_rank = 1"
            )
        return self.db.execute(
            f"SELECT rowid, id, rank FROM ({matches}) ORDER BY {order}, rank, rowid"
            " LIMIT ? OFFSET ?", (*args, request.limit + 1, offset),
        ).fetchall()

    def _forms(self, term: Term, languages: Sequence[str]) -> list[str]:
        """The FTS5 strings of one query term: its analysed form in each indexed language."""
        forms = []
        for language in languages:
            analyzer = self.analysis(language)
            if term.prefix:
                typed = analyzer.surface(term.text)
                forms.append(fts_string(typed) + "*")
                stem = analyzer.term(term.text)
                if stem != typed and typed.startswith(stem):  # prisoner* also finds prison
                    forms.append(fts_string(stem) + "*")
            else:
                forms.append(fts_string(" ".join(analyzer.term(w) for w in term.text.split(" "))))
        return forms

    @staticmethod
    def _filters(request: SearchRequest) -> tuple[str, list[Any]]:
        clauses, params = ["1"], []
        if request.outlets:
            clauses.append(f"k.outlet IN ({', '.join('?' * len(request.outlets))})")
            params.extend(request.outlets)
        if request.languages:
            clauses.append(f"k.language IN ({', '.join('?' * len(request.languages))})")
            params.extend(request.languages)
        if request.date_from:
            clauses.append("k.published >= ?")
            params.append(request.date_from)
        if request.date_to:
            clauses.append("k.published < ?")
            params.append(_day_after(request.date_to))
        removed = "SELECT article_id FROM article_removals WHERE restored_at = ''"
        status_clause = {
            "": None,
            "edited": "k.id IN (SELECT article_id FROM article_versions WHERE version > 1)",
            "removed": f"k.id IN ({removed})",
            "online": f"k.id NOT IN ({removed})",
        }
        if request.status not in status_clause:
            raise QueryError(f"unknown status filter: {request.status}")
        if status_clause[request.status]:
            clauses.append(status_clause[request.status])
        return " AND ".join(clauses), params

    def _hit(self, row: sqlite3.Row, marks: _MarksByLanguage) -> SearchHit:
        article = self.db.execute(
            "SELECT id, title, body, canonical_url, outlet, language, published, story_id"
            " FROM articles WHERE rowid = ?", (row["rowid"],),
        ).fetchone()
        translations = self.db.execute(
            "SELECT target, title, body FROM translations WHERE article_id = ? AND status = 'done'"
            " ORDER BY target", (article["id"],),
        ).fetchall()
        language = article["language"]
        tr_snippet = ""
        for t in translations:
            cut = snippet(t["body"], self.analysis(t["target"]), marks(t["target"]))
            if MARK_START in cut:
                tr_snippet = cut
                break
        story = self.story_summary(article["story_id"] or article["id"])
        versions, removed_at = self.evidence_summary(article["id"])
        return SearchHit(
            id=article["id"],
            title=article["title"],
            url=article["canonical_url"],
            outlet=article["outlet"],
            language=language,
            published=article["published"],
            score=-row["rank"],
            snippet=snippet(article["body"], self.analysis(language), marks(language)),
            translated_title=" ".join(t["title"] for t in translations),
            translated_snippet=tr_snippet,
            translation_language=translations[0]["target"] if translations else "",
            story_id=article["story_id"] or article["id"],
            story_size=story["size"],
            story_outlets=story["outlets"],
            story_languages=story["languages"],
            versions=versions,
            removed_at=removed_at,
        )

    def story_summary(self, story: str) -> dict[str, Any]:
        """Members, outlets and languages of a story (an unclustered article is its own story)."""
        row = self.db.execute(
            "SELECT count(*) AS size, group_concat(DISTINCT outlet) AS outlets,"
            " group_concat(DISTINCT language) AS languages FROM search_keys WHERE story = ?",
            (story,),
        ).fetchone()
        return {
            "size": row["size"] or 1,
            "outlets": sorted((row["outlets"] or "").split(",")) if row["outlets"] else [],
            "languages": sorted((row["languages"] or "").split(",")) if row["languages"] else [],
        }

    def _facets(self, base: str, params: Sequence[Any]) -> dict[str, dict[str, int]]:
        """Counts per article (not per story) over everything that matches: one pass, grouped
        on each article's facet number (search_keys.facet), then named."""
        counts = self.db.execute(
            f"SELECT k.facet, count(*) {base} GROUP BY k.facet", params,
        ).fetchall()
        return self._named_facets(dict(counts))

    def _facets_of(self, rows: Sequence[sqlite3.Row]) -> dict[str, dict[str, int]]:
        """The facets of matches already read (every match of the query)."""
        return self._named_facets(Counter(row["facet"] for row in rows))

    def _named_facets(self, counts: dict[int, int]) -> dict[str, dict[str, int]]:
        facets: dict[str, dict[str, int]] = {"outlet": {}, "language": {}, "day": {}}
        numbers = list(counts)
        for first in range(0, len(numbers), 500):  # within SQLite's limit on parameters
            chunk = numbers[first:first + 500]
            for row in self.db.execute(
                "SELECT id, outlet, language, day FROM search_facets"
                f" WHERE id IN ({', '.join('?' * len(chunk))})", chunk,
            ):
                for name, key in zip(("outlet", "language", "day"), row[1:]):
                    key = key or "unknown"
                    facets[name][key] = facets[name].get(key, 0) + counts[row[0]]
        return {name: dict(sorted(values.items())) for name, values in facets.items()}

    # -- statistics -------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        def grouped(sql: str) -> dict[str, int]:
            return {row[0] or "unknown": row[1] for row in self.db.execute(sql).fetchall()}

        return {
            "articles": self.count(),
            "urls": self.db.execute("SELECT count(*) FROM article_urls").fetchone()[0],
            "by_outlet": grouped("SELECT outlet, count(*) FROM articles GROUP BY 1 ORDER BY 1"),
            "by_language": grouped("SELECT language, count(*) FROM articles GROUP BY 1 ORDER BY 1"),
            "by_day": grouped(
                "SELECT substr(published, 1, 10), count(*) FROM articles GROUP BY 1 ORDER BY 1"
            ),
            "fetches": grouped(
                "SELECT CASE WHEN outcome LIKE 'dropped:%' THEN outcome ELSE outcome END,"
                " count(*) FROM fetches GROUP BY 1 ORDER BY 1"
            ),
            "translations": grouped(
                "SELECT status, count(*) FROM translations GROUP BY 1 ORDER BY 1"
            ),
            "index_state": grouped(
                "SELECT index_state, count(*) FROM articles GROUP BY 1 ORDER BY 1"
            ),
            # language -> how its text is analysed (search.analysis), texts and translations
            "search_analysis": dict(self.db.execute(
                "SELECT language, analysis FROM fts_languages ORDER BY 1"
            ).fetchall()),
        }

    # -- stories (the dedup stage's view of the articles) -------------------------------------
    def dedup_index(self) -> DedupIndex:
        """The story index's tables, on this store's connection (created on first use)."""
        if self._dedup_index is None:
            self._dedup_index = DedupIndex(self.db)
        return self._dedup_index

    def tune_for_matching(self, cache_mb: int = 64) -> None:
        """A larger page cache and memory-mapped reads, for a connection that matches many articles."""
        tune_connection(self.db, cache_mb)

    def resolve_story(self, any_id: str) -> str | None:
        """The live story id for a story id, a merged-away story id, or an article id; else None."""
        return resolve_story(self.db, any_id)

    def story_ids(self) -> dict[str, str]:
        """article id -> story id, for every article that has one."""
        return dict(self.db.execute("SELECT id, story_id FROM articles WHERE story_id != ''").fetchall())

    def article_ids_oldest_first(self) -> list[str]:
        """Every article id by publication (else fetch, else first-seen) time: a rebuild's order."""
        return [row[0] for row in self.db.execute(
            "SELECT id FROM articles ORDER BY coalesce(nullif(published, ''),"
            " nullif(fetched_at, ''), first_seen), rowid"
        )]

    def article_with_text(self, text_sha256: str, other_than: str) -> tuple[str, str] | None:
        """(id, story id) of another stored article with exactly this text, if any."""
        row = self.db.execute(
            "SELECT id, story_id FROM articles WHERE text_sha256 = ? AND id != ? LIMIT 1",
            (text_sha256, other_than),
        ).fetchone()
        return (row[0], row[1]) if row is not None else None

    def article_for_url(self, url: str) -> tuple[str, str] | None:
        """(id, story id) of the article stored under ``url`` (any of its URLs), if any."""
        row = self.db.execute(
            "SELECT a.id, a.story_id FROM article_urls u JOIN articles a ON a.id = u.article_id"
            " WHERE u.url = ?", (url,)
        ).fetchone()
        return (row[0], row[1]) if row is not None else None

    def set_story(self, article_id: str, story_id: str) -> bool:
        """Move an article to a story; it then needs indexing again. False when already there.

        One statement: atomic alone, and part of the caller's transaction inside one.
        """
        cursor = self.db.execute(
            "UPDATE articles SET story_id = ?, index_state = CASE WHEN index_state ="
            " 'quarantined' THEN index_state ELSE 'pending' END"
            " WHERE id = ? AND story_id != ?",
            (story_id, article_id, story_id),
        )
        return cursor.rowcount > 0

    def story_members(self, story_id: str) -> list[dict[str, Any]]:
        """Members of a live story, oldest first, each with all the URLs it was seen under
        (and its first finished translation's title, for the web app's story page)."""
        rows = self.db.execute(
            "SELECT id, outlet, language, published, canonical_url, title, first_seen,"
            " (SELECT t.title FROM translations t WHERE t.article_id = a.id AND t.status = 'done'"
            " ORDER BY t.target LIMIT 1) AS translated_title FROM articles a"
            " WHERE story_id = ? OR (story_id = '' AND id = ?)"
            " ORDER BY coalesce(published, first_seen), rowid",
            (story_id, story_id),
        ).fetchall()
        members = []
        for row in rows:
            urls = [u[0] for u in self.db.execute(
                "SELECT url FROM article_urls WHERE article_id = ? ORDER BY rowid", (row["id"],)
            )]
            members.append({
                "id": row["id"], "outlet": row["outlet"], "language": row["language"],
                "published": row["published"], "url": row["canonical_url"], "title": row["title"],
                "urls": urls, "translated_title": row["translated_title"] or "",
                "first_seen": row["first_seen"],
            })
        return members

    def unclustered_count(self) -> int:
        """Stored articles the story index lacks (stored while dedup was off)."""
        self.dedup_index()
        return int(self.db.execute(
            "SELECT count(*) FROM articles WHERE id NOT IN (SELECT article_id FROM dedup_docs)"
        ).fetchone()[0])

    # -- Elasticsearch sync state (used by search.elastic_sync) -------------------------------
    def pending_index_count(self) -> int:
        row = self.db.execute("SELECT count(*) FROM articles WHERE index_state = 'pending'").fetchone()
        return int(row[0])

    def quarantined_examples(self, limit: int = 5) -> dict[str, str]:
        """id -> reason, for the first ``limit`` articles Elasticsearch refused as bad data."""
        rows = self.db.execute(
            "SELECT id, index_error FROM articles WHERE index_state = 'quarantined'"
            " ORDER BY rowid LIMIT ?", (limit,),
        ).fetchall()
        return {row["id"]: row["index_error"] for row in rows}

    def pending_for_index(
        self, limit: int, after_rowid: int = 0, states: Sequence[str] = ("pending",)
    ) -> list[tuple[int, str]]:
        """(rowid, id) of up to ``limit`` articles in one of ``states``, after ``after_rowid``."""
        marks = ", ".join("?" * len(states))
        rows = self.db.execute(
            f"SELECT rowid, id FROM articles WHERE index_state IN ({marks}) AND rowid > ?"
            " ORDER BY rowid LIMIT ?",
            (*states, after_rowid, limit),
        ).fetchall()
        return [(row["rowid"], row["id"]) for row in rows]

    def mark_indexed(self, ids: Sequence[str]) -> None:
        """One statement: atomic alone, and part of the caller's transaction inside one."""
        self.db.execute(
            "UPDATE articles SET index_state = 'synced', index_error = ''"
            " WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(ids)),),
        )

    def mark_quarantined(self, article_id: str, error: str) -> None:
        self.db.execute(
            "UPDATE articles SET index_state = 'quarantined', index_error = ? WHERE id = ?",
            (error, article_id),
        )

    # -- saved searches and alerts (the web app and `newsmon watch`) -------------------------
    def first_seen(self, ids: Sequence[str]) -> dict[str, str]:
        """When newsmon first stored each article (for feeds: 'new' means new to newsmon)."""
        rows = self.db.execute(
            "SELECT id, first_seen FROM articles WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(ids)),),
        ).fetchall()
        return {row["id"]: row["first_seen"] for row in rows}

    def save_search(self, name: str, query: str, options: dict[str, Any], webhook: str = "") -> None:
        """Create or replace a saved search; what it already reported stays reported."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO saved_searches(name, query, options, webhook) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET query = excluded.query,"
                " options = excluded.options, webhook = excluded.webhook",
                (name, query, json.dumps(options, ensure_ascii=False, sort_keys=True), webhook),
            )
            # what an actor watch follows may have changed: read the statements again from the
            # start (what it reported stays reported)
            self.db.execute("DELETE FROM saved_search_cursor WHERE name = ?", (name,))

    def saved_searches(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT s.*, (SELECT count(*) FROM saved_search_seen x WHERE x.name = s.name) AS seen,"
            " (SELECT count(*) FROM alert_outbox o WHERE o.name = s.name AND o.delivered_at = '')"
            " AS undelivered FROM saved_searches s ORDER BY s.name"
        ).fetchall()
        return [{**dict(row), "options": json.loads(row["options"])} for row in rows]

    def saved_search(self, name: str) -> dict[str, Any] | None:
        return next((s for s in self.saved_searches() if s["name"] == name), None)

    def delete_saved_search(self, name: str) -> bool:
        with self.transaction():
            return self.db.execute("DELETE FROM saved_searches WHERE name = ?", (name,)).rowcount > 0

    def unseen(self, name: str, ids: Sequence[str]) -> list[str]:
        """The ids (in the given order) this saved search has not reported yet."""
        seen = {
            row[0] for row in self.db.execute(
                "SELECT article_id FROM saved_search_seen WHERE name = ?"
                " AND article_id IN (SELECT value FROM json_each(?))",
                (name, json.dumps(list(ids))),
            )
        }
        return [i for i in ids if i not in seen]

    def statement_cursor(self, name: str) -> int:
        """Where an actor watch reads on in ``statements_added_after``: 0 (from the start) when
        the statement it stopped at is gone or another now holds its rowid (a rebuild refiles
        statements from rowid 1); ``unseen`` then drops what was already reported."""
        row = self.db.execute(
            "SELECT c.cursor FROM saved_search_cursor c JOIN statements s ON s.rowid = c.cursor"
            " AND s.id = c.cursor_id WHERE c.name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def record_matches(
        self, name: str, ids: Sequence[str], now: str, alert: tuple[str, str] | None = None,
        cursor: int | None = None,
    ) -> int | None:
        """Mark ids reported (and an actor watch's statement cursor) and queue the webhook
        alert (url, JSON body) in one transaction, so a match is either still new or waiting in
        the outbox: never lost. Returns the alert id."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO saved_search_seen(name, article_id, seen_at) VALUES (?, ?, ?)",
                [(name, i, now) for i in ids],
            )
            self.db.execute("UPDATE saved_searches SET last_run = ? WHERE name = ?", (now, name))
            if cursor is not None:
                self.db.execute(
                    "INSERT OR REPLACE INTO saved_search_cursor(name, cursor, cursor_id)"
                    " SELECT ?, ?, coalesce((SELECT id FROM statements WHERE rowid = ?), '')",
                    (name, cursor, cursor))
            if alert is None:
                return None
            return self.db.execute(
                "INSERT INTO alert_outbox(name, url, payload, created) VALUES (?, ?, ?, ?)",
                (name, alert[0], alert[1], now),
            ).lastrowid

    def undelivered_alerts(self, name: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, name, url, payload, created, attempts, last_error FROM alert_outbox"
            " WHERE name = ? AND delivered_at = '' ORDER BY id",
            (name,),
        ).fetchall()
        return [dict(row) for row in rows]

    def mark_alert(self, alert_id: int, *, delivered_at: str = "", error: str = "") -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE alert_outbox SET attempts = attempts + 1, delivered_at = ?, last_error = ?"
                " WHERE id = ?",
                (delivered_at, error, alert_id),
            )
    # -- end of saved searches and alerts -----------------------------------------------------

    # -- evidence: WARC records, versions, captures, removals ---------------------------------
    def _backfill_versions(self) -> None:
        """Articles stored before versions were kept get their current text as version 1."""
        if self.db.execute("SELECT 1 FROM meta WHERE key = 'versions_backfilled'").fetchone():
            return
        self.db.execute(
            "INSERT OR IGNORE INTO article_versions(article_id, version, seen_at, last_seen_at,"
            " title, body, text_sha256, raw_sha256) SELECT id, 1, coalesce(nullif(fetched_at, ''),"
            " first_seen), coalesce(nullif(fetched_at, ''), first_seen), title, body, text_sha256,"
            " raw_sha256 FROM articles WHERE NOT EXISTS (SELECT 1 FROM article_versions v"
            " WHERE v.article_id = articles.id)"
        )
        self.db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('versions_backfilled', '1')")

    @staticmethod
    def _seen_at(article: Article) -> str:
        return article.fetched_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _new_version(self, article_id: str, article: Article) -> None:
        """Keep the article's new text as its next version (earlier ones stay as they were)."""
        seen = self._seen_at(article)
        number = self._current_version(article_id) + 1
        self.db.execute(
            "INSERT INTO article_versions(article_id, version, seen_at, last_seen_at, title, body,"
            " text_sha256, raw_sha256, warc_record_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (article_id, number, seen, seen, article.title, article.body, article.text_sha256,
             article.raw_sha256, article.warc_record_id),
        )
        self.db.execute("UPDATE articles SET version = ? WHERE id = ?", (number, article_id))
        self._snapshot_translations(article_id)
        self._capture(article_id, article)

    def _current_version(self, article_id: str) -> int:
        row = self.db.execute(
            "SELECT max(version) FROM article_versions WHERE article_id = ?", (article_id,)
        ).fetchone()
        return int(row[0] or 0)

    def _capture(self, article_id: str, article: Article) -> None:
        """One more fetch showed the current version: note when, and which record proves it."""
        seen = self._seen_at(article)
        version = self._current_version(article_id)
        self.db.execute(
            "INSERT INTO article_captures(article_id, version, seen_at, warc_record_id)"
            " VALUES (?, ?, ?, ?)", (article_id, version, seen, article.warc_record_id),
        )
        self.db.execute(
            "UPDATE article_versions SET last_seen_at = max(last_seen_at, ?)"
            " WHERE article_id = ? AND version = ?", (seen, article_id, version),
        )
        self.db.execute(
            "UPDATE article_removals SET restored_at = ? WHERE article_id = ? AND restored_at = ''",
            (seen, article_id),
        )

    def _snapshot_translations(self, article_id: str) -> None:
        """The current version keeps the translations made of its text."""
        data = json.dumps([asdict(t) for t in self.translations(article_id)], ensure_ascii=False)
        self.db.execute(
            "UPDATE article_versions SET translations = ? WHERE article_id = ? AND version ="
            " (SELECT max(version) FROM article_versions WHERE article_id = ?)",
            (data, article_id, article_id),
        )

    def versions(self, article_id: str) -> list[ArticleVersion]:
        """Every kept version of an article, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM article_versions WHERE article_id = ? ORDER BY version", (article_id,)
        ).fetchall()
        result = []
        for row in rows:
            data = dict(row)
            data["translations"] = [Translation(**t) for t in json.loads(data["translations"])]
            result.append(ArticleVersion(**data))
        return result

    def captures(self, article_id: str) -> list[dict[str, Any]]:
        """Every fetch that showed the article: version, time and WARC record, oldest first."""
        rows = self.db.execute(
            "SELECT version, seen_at, warc_record_id FROM article_captures WHERE article_id = ?"
            " ORDER BY rowid", (article_id,),
        ).fetchall()
        return [dict(row) for row in rows]

    def add_warc_records(self, refs: Sequence[WarcRecordRef]) -> None:
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO warc_records(record_id, path, offset, length, url, date,"
                " status, payload_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.record_id, r.path, r.offset, r.length, r.url, r.date, r.status,
                  r.payload_sha256) for r in refs],
            )

    def warc_record(self, record_id: str) -> WarcRecordRef | None:
        row = self.db.execute("SELECT * FROM warc_records WHERE record_id = ?", (record_id,)).fetchone()
        return WarcRecordRef(**dict(row)) if row is not None else None

    def evidence_records(self) -> Iterator[tuple[str, str, WarcRecordRef | None]]:
        """(article id, record id, its location or None) for every record an article points to."""
        rows = self.db.execute(
            "SELECT article_id, warc_record_id FROM article_captures WHERE warc_record_id != ''"
            " UNION SELECT article_id, warc_record_id FROM article_removals WHERE warc_record_id != ''"
            " ORDER BY 1, 2"
        ).fetchall()
        for row in rows:
            yield row[0], row[1], self.warc_record(row[1])

    def mark_removed(self, url: str, *, removed_at: str, reason: str,
                     warc_record_id: str = "") -> str | None:
        """Note that the article stored under ``url`` is gone; its id, or None if none is stored.

        Only the first re-check that finds it gone is kept (until it comes back).
        """
        found = self.article_for_url(url)
        if found is None:
            return None
        article_id = found[0]
        with self.transaction():
            if self.removal(article_id) is None:
                self.db.execute(
                    "INSERT INTO article_removals(article_id, removed_at, reason, url, warc_record_id)"
                    " VALUES (?, ?, ?, ?, ?)", (article_id, removed_at, reason, url, warc_record_id),
                )
                self.db.execute(
                    "UPDATE articles SET index_state = 'pending' WHERE id = ?", (article_id,)
                )
        return article_id

    def removal(self, article_id: str) -> dict[str, Any] | None:
        """The article's current removal (time, reason, URL, record), or None if it is online."""
        row = self.db.execute(
            "SELECT removed_at, reason, url, warc_record_id FROM article_removals"
            " WHERE article_id = ? AND restored_at = '' ORDER BY rowid DESC LIMIT 1", (article_id,),
        ).fetchone()
        return dict(row) if row is not None else None

    def recheck_candidates(self, outlet: str, first_seen_since: str) -> list[sqlite3.Row]:
        """Online articles of an outlet first seen since a time, with their last fetch and capture."""
        return self.db.execute(
            "SELECT a.id, a.canonical_url, a.edition, a.first_seen,"
            " (SELECT max(f.fetched_at) FROM fetches f JOIN article_urls u ON u.url = f.url"
            "  WHERE u.article_id = a.id) AS last_fetch,"
            " (SELECT max(c.seen_at) FROM article_captures c WHERE c.article_id = a.id) AS last_seen"
            " FROM articles a WHERE a.outlet = ? AND a.first_seen >= ? AND a.id NOT IN"
            " (SELECT article_id FROM article_removals WHERE restored_at = '')",
            (outlet, first_seen_since),
        ).fetchall()

    def evidence_summary(self, article_id: str) -> tuple[int, str]:
        """(number of versions, time first seen removed or "") of an article."""
        removal = self.removal(article_id)
        return max(self._current_version(article_id), 1), removal["removed_at"] if removal else ""


def _day_after(value: str) -> str:
    """Exclusive upper bound for an inclusive date filter."""
    if len(value) == 10:
        try:
            return (date.fromisoformat(value) + timedelta(days=1)).isoformat()
        except ValueError:
            raise QueryError(f"not a date (YYYY-MM-DD): {value}") from None
    return value + "\uffff"


class _MarksByLanguage:
    """What a query marks in a text of each language (snippets), worked out once per language."""

    def __init__(self, store: SQLiteStore, parsed: ParsedQuery) -> None:
        self.store, self.parsed = store, parsed
        self._by_language: dict[str, Marks] = {}

    def __call__(self, language: str) -> Marks:
        marks = self._by_language.get(language)
        if marks is None:
            terms, prefixes = set(), []
            for term in self.parsed.terms():
                for form in self.store._forms(term, [language]):
                    text = form.rstrip("*").strip('"').replace('""', '"')
                    if form.endswith("*"):
                        prefixes.append(text)
                    else:
                        terms.update(text.split(" "))
            marks = self._by_language[language] = Marks(frozenset(terms), tuple(prefixes))
        return marks
