"""The mock news site itself: started as a subprocess, exactly as the crawl tests start it."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from newsmon.mocksite import articles, outlet_definition, special_urls, start_site
from newsmon.mocksite.generate import generated_path, synthetic_article

ROOT = Path(__file__).resolve().parents[1]
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _serve(site: str, log_dir: Path, *args: str) -> Iterator[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, "-m", "newsmon.mocksite.server", "--site", site, *args]
    errors = log_dir / f"{site}.stderr"
    with errors.open("w") as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT,
                                env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("URL http://127.0.0.1:"), (line, errors.read_text())
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(timeout=5)


@pytest.fixture(scope="module")
def kolokol(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve("kolokol", tmp_path_factory.mktemp("mocksite"))


@pytest.fixture(scope="module")
def fjordposten(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve("fjordposten", tmp_path_factory.mktemp("mocksite"))


def fetch(base: str, path: str, method: str = "GET",
          headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """One request, no redirect following, no decoding."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def text(base: str, path: str) -> str:
    status, _, body = fetch(base, path)
    assert status == 200, path
    return body.decode("utf-8")


def test_robots_disallows_private(kolokol: str) -> None:
    robots = text(kolokol, "/robots.txt")
    assert "User-agent: *\nDisallow: /private/\n" in robots
    private = special_urls("kolokol")["private"]
    assert private.startswith("/private/")
    assert private in text(kolokol, "/sitemap-articles.xml")


def test_feeds_link_articles_with_and_without_utm(kolokol: str) -> None:
    special = special_urls("kolokol")
    links = [i.findtext("link") for i in ET.fromstring(text(kolokol, "/rss/ru.xml")).iter("item")]
    paths = {urlsplit(link).path for link in links}
    assert any("utm_source=rss" in link for link in links)
    assert any("utm_" not in link for link in links)
    expected = {special[k] for k in ("not_found", "redirect_from", "cp1251", "koi8-r")}
    assert expected <= paths
    en = ET.fromstring(text(kolokol, "/rss/en.xml"))
    assert en.findtext("channel/language") == "en"
    assert all("/en/news/" in i.findtext("link") for i in en.iter("item"))


def test_broken_feed_is_not_well_formed(kolokol: str) -> None:
    broken = text(kolokol, special_urls("kolokol")["broken_feed"])
    assert broken.count("</item>") == 2
    with pytest.raises(ET.ParseError):
        ET.fromstring(broken)


def test_sitemap_index_points_to_news_and_article_sitemaps(kolokol: str) -> None:
    index = ET.fromstring(text(kolokol, "/sitemap.xml"))
    assert index.tag == f"{SM}sitemapindex"
    locs = [urlsplit(loc.text).path for loc in index.iter(f"{SM}loc")]
    assert locs == ["/sitemap-news.xml", "/sitemap-articles.xml"]
    news = ET.fromstring(text(kolokol, "/sitemap-news.xml"))
    languages = {e.text for e in news.iter(f"{NEWS}language")}
    assert languages == {"ru", "en"}
    assert {e.text for e in news.iter(f"{NEWS}name")} == {"Колокол", "Kolokol"}
    assert all(e.text for e in news.iter(f"{NEWS}publication_date"))
    urlset = ET.fromstring(text(kolokol, "/sitemap-articles.xml"))
    assert all(url.find(f"{SM}lastmod") is not None for url in urlset.iter(f"{SM}url"))
    assert special_urls("kolokol")["binary"] in text(kolokol, "/sitemap-articles.xml")


def test_flaky_url_answers_500_then_200(kolokol: str) -> None:
    fetch(kolokol, "/__reset", "POST")
    flaky = special_urls("kolokol")["flaky"]
    assert fetch(kolokol, flaky)[0] == 500
    assert fetch(kolokol, flaky)[0] == 200
    assert fetch(kolokol, flaky + "?utm_source=rss")[0] == 200  # counted per path


def test_request_log_and_reset(kolokol: str) -> None:
    fetch(kolokol, "/__reset")
    fetch(kolokol, "/robots.txt")
    fetch(kolokol, "/news/?utm_source=rss&utm_medium=feed")
    fetch(kolokol, "/no/such/page")
    log = json.loads(fetch(kolokol, "/__log")[2])
    assert log == [["GET", "/robots.txt"], ["GET", "/news/?utm_source=rss&utm_medium=feed"],
                   ["GET", "/no/such/page"]]
    assert fetch(kolokol, "/__reset", "POST")[0] == 200
    assert json.loads(fetch(kolokol, "/__log")[2]) == []


def test_conditional_get_answers_304(kolokol: str) -> None:
    path = special_urls("kolokol")["duplicate_of"]
    status, headers, _ = fetch(kolokol, path)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert fetch(kolokol, path, headers={"If-None-Match": etag})[:1] == (304,)
    assert fetch(kolokol, path, headers={"If-None-Match": etag})[2] == b""
    assert fetch(kolokol, path, headers={"If-Modified-Since": modified})[0] == 304
    assert fetch(kolokol, path, headers={"If-None-Match": '"other"'})[0] == 200
    old = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert fetch(kolokol, path, headers={"If-Modified-Since": old})[0] == 200


def test_redirect_not_found_and_binary(kolokol: str) -> None:
    special = special_urls("kolokol")
    status, headers, _ = fetch(kolokol, special["redirect_from"])
    assert status == 301 and headers["Location"] == kolokol + special["redirect_to"]
    assert fetch(kolokol, special["not_found"])[0] == 404
    status, headers, body = fetch(kolokol, special["binary"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert body.startswith(b"\x89PNG\r\n\x1a\n")


def test_legacy_encodings(kolokol: str, fjordposten: str) -> None:
    special = special_urls("kolokol")
    _, headers, body = fetch(kolokol, special["cp1251"])
    assert headers["Content-Type"] == "text/html" and b"charset" not in body.lower()
    assert "пытках" in body.decode("cp1251")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    _, headers, body = fetch(kolokol, special["koi8-r"])
    assert headers["Content-Type"] == "text/html" and b'<meta charset="koi8-r">' in body
    assert "сорвался" in body.decode("koi8-r")
    _, headers, body = fetch(fjordposten, special_urls("fjordposten")["iso-8859-1"])
    assert headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert b"charset" not in body.lower()
    assert "påtalemyndigheten" in body.decode("iso-8859-1")


def test_amp_duplicate_has_same_text_and_own_canonical(kolokol: str) -> None:
    special = special_urls("kolokol")
    pages = [text(kolokol, special[k]) for k in ("duplicate", "duplicate_of")]
    bodies = [re.search(r'<div class="article-body".*?</div>', p, re.DOTALL)[0] for p in pages]
    assert bodies[0] == bodies[1]
    for page, key in zip(pages, ("duplicate", "duplicate_of")):
        canonical = re.search(r'<link rel="canonical" href="([^"]+)"', page).group(1)
        assert urlsplit(canonical).path == special[key]


@pytest.mark.parametrize("site", ["kolokol", "fjordposten"])
def test_every_article_is_served_with_its_metadata(site: str,
                                                   request: pytest.FixtureRequest) -> None:
    base = request.getfixturevalue(site)
    fetch(base, "/__reset")
    pattern = re.compile(tomllib.loads(outlet_definition(site, base))["article_pattern"])
    for a in articles(site):
        status, _, body = fetch(base, a.path)
        if a.flaky and status == 500:
            status, _, body = fetch(base, a.path)
        assert status == 200, a.path
        page = body.decode(a.encoding)
        assert f'<html lang="{a.lang}"' in page
        assert f'content="{a.published}"' in page and '<h1 itemprop="headline">' in page
        assert (f'content="{a.updated}"' in page) == bool(a.updated)
        canonical = re.search(r'<link rel="canonical" href="([^"]+)"', page).group(1)
        assert canonical.startswith(base + a.path)
        assert ("utm_source" in canonical) == a.canonical_utm
        # private articles match too, so that robots.txt, not the pattern, keeps them out
        assert pattern.match(base + a.path), a.path
    special = special_urls(site)
    assert pattern.match(base + special["archive"])
    indexes = [special[k] for k in special if k.startswith(("home", "section"))]
    assert indexes and not any(pattern.match(base + path) for path in indexes)


def test_content_counts_and_search_words() -> None:
    langs = [(a.site, a.lang) for s in ("kolokol", "fjordposten")
             for a in articles(s, faults=False) if a.kind == "clean"]
    assert langs.count(("kolokol", "ru")) == 4 and langs.count(("kolokol", "en")) == 3
    assert langs.count(("fjordposten", "nb")) == 3
    everything = [a for s in ("kolokol", "fjordposten") for a in articles(s)]
    for a in everything:
        assert 150 <= len(a.text.split()) <= 400 and 4 <= len(a.paragraphs) <= 7, a.path
        assert all(w in a.text for w in a.search_words), a.path
    joined = {lang: " ".join(a.text for a in everything if a.lang == lang)
              for lang in ("ru", "en", "nb")}
    assert "пытки" in joined["ru"] and "whistleblower" in joined["en"]
    assert "varsleren" in joined["nb"] and "fengselsvesenet" in joined["nb"]
    translated = [a for a in everything if a.translation_of]
    assert translated and all(t.lang == "en" for t in translated)


def test_outlet_definitions() -> None:
    kolokol = tomllib.loads(outlet_definition("kolokol", "http://127.0.0.1:1234"))
    assert kolokol["home"] == "http://127.0.0.1:1234/"
    assert [e["id"] for e in kolokol["editions"]] == ["ru", "en"]
    assert kolokol["editions"][0]["feeds"][1] == "http://127.0.0.1:1234/rss/broken.xml"
    assert kolokol["editions"][1]["url_prefix"] == "http://127.0.0.1:1234/en/"
    assert "hints" not in kolokol
    tidy = tomllib.loads(outlet_definition("kolokol", "http://127.0.0.1:1234/", faults=False))
    assert tidy["editions"][0]["feeds"] == ["http://127.0.0.1:1234/rss/ru.xml"]
    fjord = tomllib.loads(outlet_definition("fjordposten", "http://127.0.0.1:1234"))
    assert [e["language"] for e in fjord["editions"]] == ["nb"]
    assert set(fjord["hints"]) == {"title", "body", "published", "author"}


def test_in_process_without_faults_and_with_generated_articles() -> None:
    with start_site("kolokol", faults=False, generated=3) as site:
        assert fetch(site.url, special_urls("kolokol")["flaky"])[0] == 200
        assert fetch(site.url, special_urls("kolokol")["binary"])[0] == 404
        assert fetch(site.url, special_urls("kolokol")["broken_feed"])[0] == 404
        assert "deleted-story" not in text(site.url, "/rss/ru.xml")
        urls = text(site.url, "/sitemap-generated.xml")
        assert urls.count("<url>") == 3
        assert "/sitemap-generated.xml" in text(site.url, "/sitemap.xml")
        article = synthetic_article("kolokol", 3)
        assert article.lang == "en" and 300 <= len(article.text.split()) <= 800
        page = text(site.url, generated_path("kolokol", 3))
        assert '<html lang="en"' in page and f">{article.paragraphs[0][:40]}" in page
        assert fetch(site.url, generated_path("kolokol", 4))[0] == 404
        assert site.requests()[0] == ("GET", special_urls("kolokol")["flaky"])
        site.reset_log()
        assert site.requests() == []
