"""Extraction on saved HTML fixtures: encodings, metadata, hints, non-articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.normalize.encoding import decode_html
from pipelines.normalize.extract import NotAnArticle, clean_text, extract_article, to_utc

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
