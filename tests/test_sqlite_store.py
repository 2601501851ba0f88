"""The SQLite store as system of record: upserts, duplicates, translations, fetch log."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.article import Article, Translation
from search.base import SearchRequest
from search.store import SQLiteStore

BODY = "Видео пыток из колонии попало в сеть. Служба исполнения наказаний отрицает подлинность записей."


def article(url: str, body: str = BODY, **extra) -> Article:
    return Article(canonical_url=url, outlet="kolokol", title="Записи пыток", body=body, language="ru", **extra)


def test_recrawl_updates_and_never_duplicates(store: SQLiteStore):
    assert store.upsert([article("https://k.example/a")]).inserted
    assert store.upsert([article("https://k.example/a")]).unchanged
    changed = store.upsert([article("https://k.example/a", body=BODY + " Новые подробности.")])
    assert changed.updated
    assert store.count() == 1
    assert store.get(changed.updated[0]).body.endswith("Новые подробности.")


def test_same_text_under_another_url_is_stored_once_with_both_urls(store: SQLiteStore):
    first = store.upsert([article("https://k.example/a")]).inserted[0]
    report = store.upsert([article("https://k.example/amp/a")])
    assert report.duplicates == [first]
    assert store.count() == 1
    assert store.get(first).urls == ["https://k.example/a", "https://k.example/amp/a"]
    # a later crawl of the second URL finds the same article by its URL
    assert store.upsert([article("https://k.example/amp/a")]).duplicates == [first]
    assert store.count() == 1


def test_text_change_invalidates_translations(store: SQLiteStore):
    a = article("https://k.example/a")
    store.upsert([a])
    store.save_translation(a.id, Translation(target="en", status="done", title="Torture records",
                                             body="Video of torture leaked.", model="translate-ru_en"))
    assert store.search(SearchRequest("leaked")).total == 1  # the translation is searchable
    store.upsert([article("https://k.example/a", body=BODY + " Обновлено.")])
    assert store.translations(a.id) == []
    assert store.search(SearchRequest("leaked")).total == 0


def test_fetch_log(store: SQLiteStore):
    assert store.last_fetch("https://k.example/a") is None
    store.record_fetch("https://k.example/a", outlet="kolokol", fetched_at="2026-11-22T10:00:00Z",
                       status=200, outcome="stored", etag='"abc"')
    row = store.last_fetch("https://k.example/a")
    assert (row["outcome"], row["etag"]) == ("stored", '"abc"')


def test_iter_articles_pages_through_everything(store: SQLiteStore):
    store.upsert([article(f"https://k.example/{i}", body=f"{BODY} {i}") for i in range(450)])
    assert sum(1 for _ in store.iter_articles()) == 450
    assert sum(1 for _ in store.articles_translated_into("en")) == 0  # a filtered iteration
    assert sum(1 for _ in store.articles_pending_translation("en")) == 450


def test_an_unwritable_location_is_a_user_error(tmp_path: Path):
    from search.errors import ConfigError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot open the store"):
        SQLiteStore(blocker / "sub" / "store.sqlite3")


def test_collapsed_pages_hold_every_story_once_however_large_the_stories(store: SQLiteStore):
    # stories of 30 members: a page needs more than the first few best-ranked matches
    store.upsert([
        article(f"https://k.example/{story}/{n}", body=f"{BODY} Номер {story} {n}.",
                story_id=f"story-{story}")
        for story in range(3) for n in range(30)
    ])
    first = store.search(SearchRequest("пытки", collapse=True, limit=2))
    second = store.search(SearchRequest("пытки", collapse=True, limit=2,
                                        search_after=first.next_cursor))
    assert first.total == 3 and second.next_cursor is None
    assert sorted(h.story_id for h in first.hits + second.hits) == [
        "story-0", "story-1", "story-2"
    ]


def test_collapsed_pages_span_rank_windows(store: SQLiteStore, monkeypatch):
    monkeypatch.setattr("search.store.RANK_WINDOW", 4)  # 90 matches: many windows
    test_collapsed_pages_hold_every_story_once_however_large_the_stories(store)


def test_relevance_ranks_the_newest_matches_window_by_window(store: SQLiteStore, monkeypatch):
    """A store with more matches than RANK_WINDOW ranks its most recently stored matches
    first (bm25 within each window); with fewer, the best match comes first wherever it is."""
    old = Article(canonical_url="https://k.example/title", outlet="kolokol", language="ru",
                  title="Пытки, пытки и пытки", body="Колония.")
    newer = [article(f"https://k.example/body/{n}", body=f"{BODY} {n}") for n in range(3)]
    store.upsert([old])
    store.upsert(newer)

    def ranked(limit: int = 10, cursor: list | None = None) -> list[str]:
        return [h.id for h in store.search(SearchRequest(
            "пытки", collapse=False, limit=limit, search_after=cursor)).hits]

    assert ranked()[0] == old.id
    monkeypatch.setattr("search.store.RANK_WINDOW", 2)
    order = ranked()
    assert sorted(order[:2]) == sorted([newer[1].id, newer[2].id])  # the newest window
    assert order[2:] == [old.id, newer[0].id]  # the next one, by bm25 within it
    first = store.search(SearchRequest("пытки", collapse=False, limit=3))
    rest = ranked(3, first.next_cursor)
    assert [h.id for h in first.hits] + rest == order
