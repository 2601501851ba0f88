"""Extraction on saved HTML fixtures: encodings, metadata, hints, non-articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.normalize.encoding import decode_html
from pipelines.normalize.extract import (
    NotAnArticle,
    clean_text,
    extract_article,
    to_utc,
    word_count,
)

PAGES = Path(__file__).parent / "fixtures" / "pages"
NB_HINTS = {
    "title": "h2.headline",
    "body": "section.text p",
    "published": "time.stamp::attr(datetime)",
    "author": "span.writer",
}


def _page(name: str, content_type: str = "text/html") -> str:
    text, _ = decode_html((PAGES / name).read_bytes(), content_type)
    return text


@pytest.mark.parametrize("name, encoding", [
    ("ru_cp1251_nocharset.html", "cp1251"),  # no charset anywhere: detected
    ("ru_koi8_meta.html", "koi8-r"),  # declared in <meta> only
])
def test_legacy_encodings_are_decoded(name: str, encoding: str):
    text, found = decode_html((PAGES / name).read_bytes(), "text/html")
    assert found == encoding
    assert "Правозащитники опубликовали записи" in text


def test_header_charset_wins_over_detection():
    body = "<p>Fengselsvesenet nekter, sier talspersonen på Ålesund.</p>".encode("latin-1")
    text, _ = decode_html(body, "text/html; charset=iso-8859-1")
    assert "på Ålesund" in text


def test_russian_article_metadata():
    article = extract_article(_page("ru_cp1251_nocharset.html"), "https://example.org/news/x?utm_source=a")
    assert article.title == "Записи пыток из колонии попали в сеть"
    assert article.published == "2026-11-19T08:30:00Z"  # +03:00 converted to UTC
    assert article.updated == "2026-11-19T12:00:00Z"
    assert article.authors == ["Анна Петрова"]
    assert article.section == "Общество"
    assert article.tags == ["ФСИН", "пытки"]
    assert article.canonical_url == "https://example.org/news/2026/11/19/leak"  # utm_* removed
    assert article.declared_language == "ru"
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 4  # paragraph structure kept
    assert "Все права защищены" not in article.body  # footer boilerplate left out


def test_outlet_hints_win_over_the_generic_extractor():
    generic = extract_article(_page("nb_hints.html"), "https://example.org/a")
    hinted = extract_article(_page("nb_hints.html"), "https://example.org/a", hints=NB_HINTS)
    assert hinted.authors == ["Kari Nordmann", "Ola Hansen"]
    assert generic.authors != hinted.authors
    assert hinted.body.startswith("Kriminalomsorgen i Norge")
    assert "Les også" not in hinted.body
    assert hinted.published == "2026-11-20T08:15:00Z"
    assert hinted.declared_language == "nb"


def test_canonical_on_another_site_is_ignored():
    article = extract_article(_page("nb_hints.html"), "https://example.org/a?utm_campaign=x")
    assert article.canonical_url == "https://example.org/a"


def test_index_page_is_not_an_article():
    with pytest.raises(NotAnArticle) as caught:
        extract_article(_page("ru_index.html"), "https://example.org/news/")
    assert caught.value.reason == "index-page"


def test_too_little_text_is_not_an_article():
    html = "<html><body><article><h1>Title</h1><p>Only a few words here.</p></article></body></html>"
    with pytest.raises(NotAnArticle) as caught:
        extract_article(html, "https://example.org/a")
    assert caught.value.reason in ("too-short", "no-text")


def test_clean_text_normalizes_unicode_and_whitespace():
    assert clean_text("Cafe\u0301  \t bar\r\n\n\n\nnext\x07 line ") == "Café bar\n\nnext line"


@pytest.mark.parametrize("value, expected", [
    ("2026-11-19T11:30:00+03:00", "2026-11-19T08:30:00Z"),
    ("2026-11-19T11:30:00Z", "2026-11-19T11:30:00Z"),
    ("2026-11-19", "2026-11-19T00:00:00Z"),
    ("yesterday", None),
    (None, None),
])
def test_dates_become_utc(value, expected):
    assert to_utc(value) == expected


def _words(n: int, stem: str = "word") -> str:
    return " ".join(f"{stem}{i}" for i in range(n))


def test_site_name_is_cut_from_the_title():
    html = (f'<html><head><title>Storm hits the coast | Coast Times</title>'
            f'<meta property="og:site_name" content="Coast Times"></head>'
            f'<body><article><p>{_words(100)}.</p></article></body></html>')
    article = extract_article(html, "https://coasttimes.example/a")
    assert article.title == "Storm hits the coast"
    assert article.sources["title"] == "html-title"


def test_read_also_link_lists_are_removed_and_the_standfirst_kept():
    teaser = "A standfirst that the page shows above the article and states as its description"
    html = (f'<html><head><meta name="description" content="{teaser}"></head><body>'
            f'<header><p class="lead">{teaser}</p></header><article><p>{_words(80)}.</p>'
            '<ul><li><a href="/1">Read also: another story entirely</a></li>'
            '<li><a href="/2">And yet another story</a></li></ul>'
            f'<p>{_words(80, "more")}.</p></article></body></html>')
    article = extract_article(html, "https://example.org/news/2026/a")
    assert article.body.startswith(teaser)
    assert "another story" not in article.body
    assert "more79" in article.body


def test_a_short_article_with_many_links_is_kept_when_the_page_says_it_is_an_article():
    links = "".join(f'<li><a href="/s{i}">Section number {i}</a></li>' for i in range(60))
    html = (f'<html><head><meta property="og:type" content="article"></head><body>'
            f'<main><nav><ul>{links}</ul></nav><article><p>{_words(110)}.</p></article></main>'
            '</body></html>')
    assert word_count(extract_article(html, "https://example.org/n/1").body) >= 100
    with pytest.raises(NotAnArticle) as caught:  # the same page without article markup
        extract_article(html.replace('content="article"', 'content="website"'), "https://example.org/")
    assert caught.value.reason == "index-page"


def test_japanese_words_are_counted_without_spaces():
    assert word_count("東京都で新しい政策が発表された") >= 7
    assert word_count("one two three") == 3


def test_valid_utf8_wins_over_a_stale_meta_charset():
    body = '<html><head><meta charset="iso-8859-15"></head><body>sanción</body></html>'.encode()
    text, encoding = decode_html(body, "text/html")
    assert encoding == "utf-8" and "sanción" in text
