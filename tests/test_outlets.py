"""Outlet definitions: the bundled ones are valid, bad ones name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.outlets import load_outlets
from crawler.spiderloader import OutletSpiderLoader
from search.errors import OutletError

GOOD = """
id = "example"
name = "Example"
home = "https://example.org/"
allowed_domains = ["example.org"]
article_pattern = '^https://example\\.org/\\d{4}/[a-z-]+$'
[[editions]]
id = "en"
language = "en"
feeds = ["https://example.org/rss"]
"""


def test_bundled_outlets():
    outlets = load_outlets()
    assert {"meduza", "dagbladet", "pravda_ua"} <= set(outlets)
    meduza = outlets["meduza"]
    assert [(e.id, e.language) for e in meduza.editions] == [("ru", "ru"), ("en", "en")]
    assert meduza.is_article_url("https://meduza.io/news/2026/11/19/v-seti-poyavilis-video")
    assert meduza.is_article_url("https://meduza.io/en/feature/2026/11/19/leaked-videos")
    assert not meduza.is_article_url("https://meduza.io/en")
    assert meduza.edition_for("https://meduza.io/en/news/2026/11/19/x").language == "en"
    assert meduza.edition_for("https://meduza.io/news/2026/11/19/x").language == "ru"
    dagbladet = outlets["dagbladet"]
    assert dagbladet.editions[0].language == "nb"
    assert dagbladet.is_article_url("https://www.dagbladet.no/nyheter/lekket-video-fra-fengsel/81234567")
    assert not dagbladet.is_article_url("https://www.dagbladet.no/nyheter")


def test_spider_loader_has_one_spider_per_outlet(tmp_path: Path):
    (tmp_path / "example.toml").write_text(GOOD, encoding="utf-8")
    loader = OutletSpiderLoader([str(tmp_path)])
    assert {"meduza", "dagbladet", "example"} <= set(loader.list())
    spider = loader.load("example")
    assert spider.name == "example" and spider.allowed_domains == ["example.org"]


def test_a_user_folder_adds_and_overrides(tmp_path: Path):
    (tmp_path / "example.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "meduza.toml").write_text(GOOD.replace('"example"', '"meduza"'), encoding="utf-8")
    outlets = load_outlets([tmp_path])
    assert outlets["example"].name == "Example"
    assert outlets["meduza"].home == "https://example.org/"


@pytest.mark.parametrize("change, field", [
    (("id = \"example\"", "id = \"Bad Id\""), "id"),
    (("home = \"https://example.org/\"", "home = \"example.org\""), "home"),
    (("article_pattern = '^https://example\\.org/\\d{4}/[a-z-]+$'", "article_pattern = '(['"), "article_pattern"),
    (("language = \"en\"", "language = \"English\""), "editions[0].language"),
    (("name = \"Example\"\n", "name = \"Example\"\ncolour = \"red\"\n"), "colour"),
    (("feeds = [\"https://example.org/rss\"]", "feeds = [42]"), "editions[0].feeds"),
    (("feeds = [\"https://example.org/rss\"]", "feeds = []"), "editions"),
])
def test_bad_definition_names_file_and_field(tmp_path: Path, change: tuple[str, str], field: str):
    old, new = change
    assert old in GOOD
    (tmp_path / "broken.toml").write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(OutletError) as caught:
        load_outlets([tmp_path], bundled=False)
    assert "broken.toml" in str(caught.value)
    assert f"'{field}'" in str(caught.value)


def test_missing_folder_is_an_error(tmp_path: Path):
    with pytest.raises(OutletError, match="not found"):
        load_outlets([tmp_path / "nope"])
