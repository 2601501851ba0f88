"""What story matching looks at in one article, computed once per article."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from pipelines.dedup.actors import OrganisationFinder
from pipelines.dedup.options import DedupOptions
from pipelines.dedup.quotes import QuoteFinder
from pipelines.dedup.text import content_terms, shingles, signals, words
from pipelines.names import NameNormalizer
from search.article import Article


@dataclass
class Features:
    shingles: set[str]  # word shingles of the article's own text
    pivot_terms: set[str]  # content-word stems of its pivot-language text; empty when none
    signals: set[str]  # numbers, dates, URLs, names, organisations; q: statements (quotes.py)
    ts: int  # publication time (else fetch time), epoch seconds
    key: str  # fingerprint of the inputs: unchanged key = nothing to redo


def pivot_text(article: Article, pivot: str) -> str | None:
    """The article in the pivot language: itself, or its finished translation; else None."""
    if article.language == pivot:
        return article.title + "\n" + article.body
    translation = article.translation(pivot)
    if translation is not None and translation.status == "done" and translation.body.strip():
        return translation.title + "\n" + translation.body
    return None


def article_features(article: Article, options: DedupOptions, names: NameNormalizer,
                     organisations: OrganisationFinder | None = None,
                     quotes: QuoteFinder | None = None) -> Features:
    body = article.body
    if len(words(body)) < options.shingle_size * 3:
        body = article.title + "\n" + body  # a brief: its headline is a good part of its text
    pivot = pivot_text(article, options.pivot)
    ts = article_time(article)
    day = datetime.fromtimestamp(ts, UTC).date()
    # the article's own text only: a translation's names and numbers are the original's, and
    # counting them twice would make two translated articles look closer than two without
    found = signals(article.title + "\n" + article.body, article.language, names, day,
                    organisations)
    if quotes is not None:  # who said which of these (the statements of its body)
        found |= quotes.tokens(article.body, article.language, found, names, day, organisations)
    key_source = "\x00".join((article.text_sha256, article.language, pivot or "",
                              article.published or ""))
    return Features(
        shingles=shingles(body, options.shingle_size),
        pivot_terms=content_terms(pivot, options.pivot) if pivot is not None else set(),
        signals=found,
        ts=ts,
        key=hashlib.sha256(key_source.encode("utf-8")).hexdigest()[:24],
    )


def article_time(article: Article) -> int:
    """Epoch seconds of publication, else of the fetch, else now (naive times are UTC)."""
    for value in (article.published, article.fetched_at):
        if not value:
            continue
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())
    return int(datetime.now(UTC).timestamp())
