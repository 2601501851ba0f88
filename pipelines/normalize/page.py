"""A fetched page to a normalized Article: the normalize stage's engine, usable without Scrapy.

``newsmon extract`` and the crawl's NormalizePipeline both call ``page_to_article``.
"""

from __future__ import annotations

import hashlib

from crawler.items import Article, PageItem
from crawler.urls import canonicalize
from pipelines.normalize.encoding import BinaryContent, decode_html
from pipelines.normalize.extract import NotAnArticle, extract_article
from search.base import strip_marks

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def looks_like_html(content_type: str, body: bytes) -> bool:
    mime = content_type.split(";")[0].strip().lower()
    if mime:
        return mime in _HTML_TYPES
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def page_to_article(page: PageItem, *, min_words: int, max_bytes: int) -> Article:
    """Decode, extract and normalize one page; raises NotAnArticle(reason) for non-articles."""
    return explained_article(page, min_words=min_words, max_bytes=max_bytes)[0]


def explained_article(page: PageItem, *, min_words: int, max_bytes: int
                      ) -> tuple[Article, dict[str, str]]:
    """``page_to_article``, plus which source won each field (``newsmon extract --explain``)."""
    if page.status != 200:
        raise NotAnArticle("http-status", str(page.status))
    if len(page.body) > max_bytes:
        raise NotAnArticle("too-large", f"{len(page.body)} bytes")
    if not looks_like_html(page.content_type, page.body):
        raise NotAnArticle("not-html", page.content_type or "unknown type")
    try:
        html, encoding = decode_html(page.body, page.content_type or None)
    except BinaryContent as exc:
        raise NotAnArticle("binary", str(exc)) from None
    extracted = extract_article(
        html, page.url, hints=page.hints, content_language=page.content_language,
        min_words=min_words,
    )
    urls = [canonicalize(u) for u in [page.url, *page.requested_urls]]
    article = Article(
        canonical_url=extracted.canonical_url,
        outlet=page.outlet,
        edition=page.edition,
        title=strip_marks(extracted.title),
        body=strip_marks(extracted.body),
        urls=list(dict.fromkeys([extracted.canonical_url, *urls])),
        authors=[strip_marks(a) for a in extracted.authors],
        published=extracted.published,
        updated=extracted.updated,
        section=strip_marks(extracted.section),
        tags=[strip_marks(t) for t in extracted.tags],
        declared_language=extracted.declared_language,
        language=page.edition_language,  # provisional; LanguagePipeline decides
        language_source="edition",
        fetched_at=page.fetched_at,
        http_status=page.status,
        raw_sha256=hashlib.sha256(page.body).hexdigest(),
        warc_record_id=page.warc_record_id,
    )
    return article, {**extracted.sources, "encoding": encoding}


def normalize_pages(pages: list[PageItem], min_words: int, max_bytes: int) -> list[Article | str]:
    """Each page's Article, or the reason it is none: a batch for a worker process (ingest-warc)."""
    results: list[Article | str] = []
    for page in pages:
        try:
            results.append(page_to_article(page, min_words=min_words, max_bytes=max_bytes))
        except NotAnArticle as exc:
            results.append(exc.reason)
    return results
