"""Extraction quality gate: on every mock article page, how much of the true text is kept
(recall) and how much of the page's boilerplate is left out (precision, by paragraphs).

The baseline lives in tests/data/extraction_baseline.json; the gate fails when a change makes
either figure drop below it. Raise the baseline when extraction gets better.
"""

from __future__ import annotations

import json
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

from lxml import html as lxml_html

from crawler.items import PageItem
from crawler.outlets import parse_outlet
from newsmon.mocksite import articles, outlet_definition, start_site
from pipelines.normalize.extract import clean_text
from pipelines.normalize.page import page_to_article

BASELINE = Path(__file__).parent / "data" / "extraction_baseline.json"


def _boilerplate(page: str) -> list[str]:
    """Texts of the page that are not the article: navigation, related links, footer."""
    tree = lxml_html.fromstring(page)
    parts = tree.xpath("//nav|//aside|//footer")
    return [clean_text(" ".join(p.itertext())) for p in parts if clean_text(" ".join(p.itertext()))]


def _fetch(url: str) -> tuple[bytes, str]:
    """The page and its content type; the mock site's flaky page fails once, so ask twice."""
    for attempt in range(2):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            if exc.code != 500 or attempt:
                raise
    raise AssertionError("unreachable")


def measure() -> dict[str, float]:
    kept = total = leaked = boiler = 0
    for site_name in ("kolokol", "fjordposten"):
        with start_site(site_name, faults=True) as site:
            outlet = parse_outlet(tomllib.loads(outlet_definition(site_name, site.url)), Path("mock"))
            for spec in articles(site_name):
                body, content_type = _fetch(site.url + spec.path)
                item = PageItem(url=site.url + spec.path, outlet=site_name, edition=spec.edition,
                                edition_language=spec.lang, status=200, body=body,
                                content_type=content_type, hints=dict(outlet.hints))
                article = page_to_article(item, min_words=60, max_bytes=10**7)
                for paragraph in spec.paragraphs:
                    total += 1
                    kept += clean_text(paragraph) in article.body
                page = body.decode(spec.encoding)
                for text in _boilerplate(page):
                    boiler += 1
                    leaked += text in article.body
    return {"recall": kept / total, "boilerplate_excluded": 1 - leaked / boiler}


def test_extraction_does_not_fall_below_the_baseline():
    figures = measure()
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    print("extraction quality:", figures, "baseline:", baseline)
    for name, floor in baseline.items():
        assert figures[name] >= floor, f"{name} fell to {figures[name]:.3f} (baseline {floor})"
