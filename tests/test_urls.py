from __future__ import annotations

import pytest

from crawler.urls import canonicalize


@pytest.mark.parametrize("url, expected", [
    ("HTTPS://Meduza.IO:443/news/a?utm_source=rss&utm_medium=feed#top", "https://meduza.io/news/a"),
    ("http://example.org/a?id=3&fbclid=x&gclid=y", "http://example.org/a?id=3"),
    ("http://127.0.0.1:8080/news/x?utm_campaign=y", "http://127.0.0.1:8080/news/x"),
    ("https://example.org", "https://example.org/"),
    ("https://example.org/a?b=2&a=1", "https://example.org/a?a=1&b=2"),
])
def test_canonicalize(url: str, expected: str):
    assert canonicalize(url) == expected


def test_relative_links_are_resolved():
    assert canonicalize("/news/x?utm_source=a", base="https://example.org/rss") == "https://example.org/news/x"
