"""The CLI commands that need no crawl: extract, sources, demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PAGES = Path(__file__).parent / "fixtures" / "pages"


def newsmon(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsmon.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env={**os.environ}, check=False)


def test_extract_many_pages_as_json_lines():
    result = newsmon("extract", str(PAGES / "ru_cp1251_nocharset.html"), str(PAGES / "ru_koi8_meta.html"),
                     str(PAGES / "ru_index.html"))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    cp1251, koi8, index = lines
    assert cp1251["title"] == koi8["title"] == "Записи пыток из колонии попали в сеть"
    assert cp1251["language"] == "ru" and cp1251["language_probability"] > 0.9
    assert cp1251["published"] == "2026-11-19T08:30:00Z"
    assert cp1251["canonical_url"] == "https://example.org/news/2026/11/19/leak"
    assert index["dropped"] == "index-page"
    assert result.returncode == 1  # one page was not an article


def test_extract_a_missing_file_is_reported_and_the_rest_goes_on(tmp_path: Path):
    result = newsmon("extract", str(tmp_path / "nope.html"), str(PAGES / "nb_hints.html"))
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert "cannot read" in first["error"]
    assert second["language"] == "nb"


def test_sources_lists_the_bundled_outlets():
    result = newsmon("sources", "--json")
    outlets = {json.loads(line)["id"]: json.loads(line) for line in result.stdout.splitlines()}
    assert {"meduza", "dagbladet", "pravda_ua"} <= set(outlets)
    assert [e["language"] for e in outlets["meduza"]["editions"]] == ["ru", "en"]


def test_demo_crawls_and_searches_offline(tmp_path: Path):
    result = newsmon("demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "serving the sample outlet 'kolokol' at http://127.0.0.1:" in out
    assert "kolokol: " in out and "fjordposten: " in out
    for query in ("пытки", "whistleblower", "fengselsvesenet"):
        header = next(line for line in out.splitlines() if f"newsmon search '{query}'" in line)
        assert not header.rstrip().endswith(": 0 stories"), header
    assert (tmp_path / "demo" / "demo.sqlite3").exists()


def test_extract_explain_says_which_source_won_each_field(tmp_path: Path):
    words = " ".join(f"word{i}" for i in range(120))
    page = tmp_path / "a.html"
    page.write_text(
        '<html lang="en"><head><title>Headline | Example News</title>'
        '<meta property="og:site_name" content="Example News">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "The headline",'
        ' "datePublished": "2026-11-19T11:30:00+03:00", "author": {"@type": "Person", "name": "Ann Lee"}}'
        f'</script></head><body><article><h1>Headline</h1><p>{words}.</p></article></body></html>',
        encoding="utf-8")
    plain = json.loads(newsmon("extract", str(page)).stdout)
    explained = json.loads(newsmon("extract", "--explain", str(page)).stdout)
    assert "explain" not in plain
    assert explained["title"] == "The headline" and explained["authors"] == ["Ann Lee"]
    assert explained["published"] == "2026-11-19T08:30:00Z"
    assert explained["explain"]["title"] == explained["explain"]["published"] == "json-ld"
    assert explained["explain"]["authors"] == "json-ld"
    assert explained["explain"]["body"] == "trafilatura"
    assert explained["explain"]["language"] in ("detected", "declared")
