"""Real crawls of the mock news sites through the ``newsmon`` CLI, asserting on the store."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsmon.mocksite import articles, special_urls
from pipelines.normalize.extract import clean_text
from search.analysis import Analysis
from search.store import SQLiteStore
from tests.plugins.mocksite import SITES, MockWorld, open_world

ARTICLE_PATH = re.compile(r"^/((en|amp|private)/)*(news|nyheter)/\d{4}/\d{2}/\d{2}/[a-z0-9-]+$")


def _stored_specs(site: str):
    """Articles the crawl must store: every listed one except robots-disallowed and AMP copies."""
    return [a for a in articles(site) if a.kind not in ("private", "duplicate")]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Crawl both sites twice; keep both runs' statistics and request logs."""
    root = tmp_path_factory.mktemp("crawl")
    with open_world(root, NEWSMON_CONFIG="") as world:
        sites = world.sites
        first = json.loads(world.newsmon("crawl", *SITES, "--json", "--progress", "0").stdout)
        first_log = {name: site.requests() for name, site in sites.items()}
        for site in sites.values():
            site.reset()
        snapshot = root / "after-first.sqlite3"
        shutil.copy(world.db, snapshot)
        second = json.loads(world.newsmon("crawl", *SITES, "--json", "--progress", "0").stdout)
        second_log = {name: site.requests() for name, site in sites.items()}
        yield {"world": world, "first": first, "second": second, "first_log": first_log,
               "second_log": second_log, "snapshot": snapshot}


@pytest.fixture
def store(crawled: dict) -> Iterator[SQLiteStore]:
    store = SQLiteStore(crawled["world"].db)
    yield store
    store.close()


def _by_path(store: SQLiteStore, site_url: str, path: str):
    row = store.db.execute(
        "SELECT article_id FROM article_urls WHERE url = ?", (site_url + path,)
    ).fetchone()
    return store.get(row["article_id"]) if row else None


@pytest.mark.parametrize("site", SITES)
def test_every_article_is_stored_once_with_its_language(crawled: dict, store: SQLiteStore, site: str):
    url = crawled["world"].sites[site].url
    expected = _stored_specs(site)
    for spec in expected:
        article = _by_path(store, url, spec.path)
        assert article is not None, f"{spec.path} was not stored"
        assert article.outlet == site
        assert article.language == spec.lang, spec.path
        assert article.title == clean_text(spec.title)
        assert clean_text(spec.paragraphs[0]) in article.body
        assert article.published and article.published.endswith("Z")
        assert "utm_" not in article.canonical_url
    count = store.db.execute("SELECT count(*) FROM articles WHERE outlet = ?", (site,)).fetchone()[0]
    assert count == len(expected)


def test_legacy_encodings_come_out_as_text(crawled: dict, store: SQLiteStore):
    url = crawled["world"].sites["kolokol"].url
    legacy = [a for a in articles("kolokol") if a.encoding != "utf-8"]
    assert {a.encoding for a in legacy} >= {"windows-1251", "koi8-r"} or len(legacy) >= 2
    for spec in legacy:
        article = _by_path(store, url, spec.path)
        assert article.body == clean_text(spec.text), spec.path


def test_norwegian_article_uses_the_outlet_hints(crawled: dict, store: SQLiteStore):
    url = crawled["world"].sites["fjordposten"].url
    for spec in _stored_specs("fjordposten"):
        article = _by_path(store, url, spec.path)
        assert article.authors == list(spec.authors)
        assert article.body == clean_text(spec.text)


def test_same_text_under_two_urls_is_one_article_with_both(crawled: dict, store: SQLiteStore):
    url = crawled["world"].sites["kolokol"].url
    special = special_urls("kolokol")
    original = _by_path(store, url, special["duplicate_of"])
    copy = _by_path(store, url, special["duplicate"])
    assert original is not None and copy is not None
    assert original.id == copy.id
    assert url + special["duplicate"] in original.urls
    assert crawled["first"]["kolokol"]["newsmon/articles/duplicates"] == 1


def test_redirect_keeps_the_old_url(crawled: dict, store: SQLiteStore):
    url = crawled["world"].sites["kolokol"].url
    special = special_urls("kolokol")
    article = _by_path(store, url, special["redirect_from"])
    assert article is not None
    assert article.canonical_url == url + special["redirect_to"]


def test_failures_are_counted_and_the_crawl_goes_on(crawled: dict, store: SQLiteStore):
    stats = crawled["first"]["kolokol"]
    special = special_urls("kolokol")
    assert stats["newsmon/dropped/not-html"] == 1  # the binary file at an article URL
    assert stats["newsmon/dropped/index-page"] == 1  # the archive at an article-looking URL
    assert stats["newsmon/errors/article/http_404"] == 1
    assert stats["newsmon/feeds/malformed"] == 1
    assert stats["retry/count"] >= 1  # the 500 ...
    url = crawled["world"].sites["kolokol"].url
    assert _by_path(store, url, special["flaky"]) is not None  # ... that succeeded on retry
    assert stats["finish_reason"] == "finished"


def test_robots_txt_is_obeyed(crawled: dict):
    private = special_urls("kolokol")["private"]
    assert "/robots.txt" in crawled["first_log"]["kolokol"]
    assert private not in crawled["first_log"]["kolokol"]
    assert crawled["first"]["kolokol"]["robotstxt/forbidden"] >= 1


def test_second_crawl_fetches_no_article_page_again(crawled: dict):
    for site in SITES:
        fetched_again = [p for p in crawled["second_log"][site] if ARTICLE_PATH.match(p)]
        first = [p for p in crawled["first_log"][site] if ARTICLE_PATH.match(p)]
        assert first, "the first crawl fetched articles"
        # only URLs that failed for good last time (e.g. the 404) may be tried again
        assert fetched_again == [], fetched_again
        assert crawled["second"][site]["newsmon/incremental/skipped_known"] >= len(_stored_specs(site))
        assert crawled["second"][site].get("newsmon/articles/inserted", 0) == 0


def test_second_crawl_changes_nothing_stored(crawled: dict, store: SQLiteStore):
    before = SQLiteStore(crawled["snapshot"])
    try:
        assert before.count() == store.count()
        assert before.stats()["by_outlet"] == store.stats()["by_outlet"]
    finally:
        before.close()


def test_search_finds_each_language(crawled: dict):
    world: MockWorld = crawled["world"]
    for site in SITES:
        for spec in _stored_specs(site):
            for word in spec.search_words[:1]:
                out = world.newsmon("search", word, "--json", "--all", "--limit", "50").stdout
                hits = [json.loads(line) for line in out.splitlines()]
                assert any(h["url"].endswith(spec.path) for h in hits), (word, spec.path)
                # the top hit shows the word, in some form of it (terms compare forms)
                assert all(_has_form(word, h["title"] + " " + h["snippet"], h["language"])
                           or h["translated_title"] for h in hits[:1])


def _has_form(word: str, text: str, language: str) -> bool:
    analyzer = Analysis()(language)
    return analyzer.term(word) in {analyzer.term(t.group()) for t in analyzer.tokens(text)}


def test_search_filters_and_syntax(crawled: dict):
    world: MockWorld = crawled["world"]
    nb_word = _stored_specs("fjordposten")[0].search_words[0]
    out = world.newsmon("search", nb_word, "--language", "ru", "--json").stdout
    assert out.strip() == ""
    out = world.newsmon("search", nb_word, "--outlet", "fjordposten", "--json").stdout
    assert out.strip()
    out = world.newsmon("search", f"{nb_word} -{nb_word}", "--json").stdout
    assert out.strip() == ""
    text = world.newsmon("search", nb_word).stdout
    assert "**" in text  # matched terms are marked


def test_show_and_stats(crawled: dict, store: SQLiteStore):
    world: MockWorld = crawled["world"]
    article_id = store.db.execute("SELECT id FROM articles LIMIT 1").fetchone()[0]
    shown = json.loads(world.newsmon("show", article_id, "--json").stdout)
    assert shown["id"] == article_id and shown["body"]
    stats = json.loads(world.newsmon("stats", "--json").stdout)
    assert stats["articles"] == store.count()
    assert set(stats["by_outlet"]) == set(SITES)


def test_user_errors_are_one_line(crawled: dict):
    world: MockWorld = crawled["world"]
    for args in (["search", "--", "-only"], ["search", "x", "--limit", "0"], ["crawl", "no_such_outlet"], ["show", "nope"]):
        result = world.newsmon(*args, check=False)
        assert result.returncode != 0
        assert result.stderr.strip().count("\n") == 0, result.stderr
        assert result.stderr.startswith("newsmon") and "error:" in result.stderr


def test_bad_outlet_definition_names_file_and_field(tmp_path: Path, crawled: dict):
    world: MockWorld = crawled["world"]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.toml").write_text(
        'id = "broken"\nname = "B"\nhome = "ftp://x"\nallowed_domains = ["x"]\n'
        "article_pattern = 'x'\n[[editions]]\nid = 'a'\nlanguage = 'en'\nfeeds = ['http://x/f']\n",
        encoding="utf-8",
    )
    result = world.newsmon("sources", "--outlets-dir", str(bad), check=False)
    assert result.returncode == 2
    assert "broken.toml" in result.stderr and "'home'" in result.stderr


def test_scrapy_cli_lists_spiders_and_exports_feeds(mock_world: MockWorld, tmp_path: Path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {**mock_world.env, "NEWSMON_CONFIG": ""}
    listed = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=root, env=env,
                            capture_output=True, text=True, check=True).stdout.split()
    assert {"meduza", "dagbladet", "kolokol", "fjordposten"} <= set(listed)
    out = tmp_path / "out.jsonl"
    subprocess.run([sys.executable, "-m", "scrapy", "crawl", "fjordposten", "-O", str(out)],
                   cwd=root, env=env, capture_output=True, text=True, check=True, timeout=180)
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(exported) == len(_stored_specs("fjordposten"))
    assert all(item["language"] == "nb" and item["title"] and item["body"] for item in exported)
    assert "body_bytes" not in exported[0] and "raw" not in exported[0]
