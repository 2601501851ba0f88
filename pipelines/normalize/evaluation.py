"""Scoring extraction against the real-page development set (``../shared/devset/news-pages``).

Shared by ``benchmarks/bench_extract.py`` and the quality gate in the test suite, so both
measure the same thing: body precision/recall/F1 over word shingles, title exact match, date
same day (in the page's own zone), authors found, language, and pages dropped.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import trafilatura

from crawler.items import PageItem
from pipelines.language.detect import LanguageDetector, apply_language
from pipelines.normalize.extract import NotAnArticle
from pipelines.normalize.page import page_to_article

SHINGLE = 3  # words per shingle: order matters, so a shuffled or repeated text scores low
# Chinese and Japanese are written without spaces: each character counts as a word there.
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")
# Invisible formatting characters (soft hyphen, zero-width space/joiners, word joiner, BOM) sit
# inside words on some pages and in some expected bodies: "Brenn\u00adpunkt" is one word.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060\ufeff]")


@dataclass(frozen=True)
class DevPage:
    id: str
    url: str
    html: bytes
    title: str
    body: str
    authors: list[str]
    published: str
    language: str  # langdetect on the expected body: the reference the extracted one must meet

    @property
    def half(self) -> str:
        """'tune' or 'gate': a fixed split by a hash of the id, the same on every machine."""
        return "gate" if hashlib.sha256(self.id.encode()).digest()[0] % 2 else "tune"


@dataclass
class Output:
    """What one extractor made of one page (None: dropped, with the reason)."""

    body: str | None
    title: str = ""
    published: str | None = None
    authors: list[str] = field(default_factory=list)
    language: str = ""
    dropped: str = ""


@dataclass
class PageScore:
    id: str
    precision: float
    recall: float
    f1: float
    title: bool
    date: bool
    authors: float | None  # share of expected authors found; None when none expected
    language: bool
    dropped: str


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)).lower())


def shingles(text: str) -> Counter[tuple[str, ...]]:
    words = tokens(text)
    if len(words) < SHINGLE:
        return Counter([tuple(words)]) if words else Counter()
    return Counter(tuple(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


def body_scores(extracted: str, expected: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the extracted text's shingles against the expected ones."""
    got, want = shingles(extracted), shingles(expected)
    common = sum((got & want).values())
    precision = common / sum(got.values()) if got else 0.0
    recall = common / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return precision, recall, f1


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def same_day(extracted: str | None, expected: str) -> bool:
    """Same calendar day in the expected value's own zone (a page's day is its local day)."""
    if not extracted or not expected:
        return False
    try:
        want = datetime.fromisoformat(expected)
        got = datetime.fromisoformat(extracted)
    except ValueError:
        return False
    if want.tzinfo is not None and got.tzinfo is not None:
        got = got.astimezone(want.tzinfo)
    return got.date() == want.date()


def authors_found(extracted: list[str], expected: list[str]) -> float | None:
    if not expected:
        return None
    got = [_norm(a) for a in extracted]
    hits = sum(1 for name in expected if any(_norm(name) in g or g and g in _norm(name) for g in got))
    return hits / len(expected)


def score(page: DevPage, out: Output) -> PageScore:
    precision, recall, f1 = body_scores(out.body or "", page.body)
    return PageScore(
        id=page.id, precision=precision, recall=recall, f1=f1,
        title=_norm(out.title) == _norm(page.title),
        date=same_day(out.published, page.published),
        authors=authors_found(out.authors, page.authors),
        language=bool(out.language) and out.language == page.language,
        dropped=out.dropped,
    )


def summary(scores: list[PageScore]) -> dict[str, float]:
    """Mean figures over pages; a dropped page counts as zero everywhere."""
    n = len(scores)
    with_authors = [s.authors for s in scores if s.authors is not None]
    return {
        "pages": n,
        "body_precision": round(sum(s.precision for s in scores) / n, 4),
        "body_recall": round(sum(s.recall for s in scores) / n, 4),
        "body_f1": round(sum(s.f1 for s in scores) / n, 4),
        "title": round(sum(s.title for s in scores) / n, 4),
        "date": round(sum(s.date for s in scores) / n, 4),
        "authors": round(sum(with_authors) / len(with_authors), 4) if with_authors else 0.0,
        "language": round(sum(s.language for s in scores) / n, 4),
        "dropped": sum(1 for s in scores if s.dropped),
    }


def devset_root(repository: Path) -> Path:
    """``../shared/devset/news-pages`` beside the repository, or ``$NEWSMON_DEVSET`` if set."""
    override = os.environ.get("NEWSMON_DEVSET")
    return Path(override) if override else repository.parent / "shared" / "devset" / "news-pages"


def load_devset(root: Path, detector: LanguageDetector | None = None) -> list[DevPage]:
    """The pages of ``news-pages/`` in manifest order; raises FileNotFoundError when absent."""
    detector = detector or LanguageDetector()
    pages = []
    with open(root / "manifest.jsonl", encoding="utf-8") as manifest:
        for line in manifest:
            row = json.loads(line)
            reference = detector.detect(_INVISIBLE.sub("", row["body"]))
            pages.append(DevPage(
                id=row["id"], url=row["url"], html=gzip.decompress((root / row["file"]).read_bytes()),
                title=row["title"], body=row["body"], authors=list(row["authors"] or []),
                published=row["published"], language=reference[0] if reference else "",
            ))
    return pages


def newsmon_extractor(min_words: int = 60) -> Callable[[DevPage], Output]:
    """newsmon's own path: normalize pipeline (decode, extract) then language detection."""
    detector = LanguageDetector()

    def run(page: DevPage) -> Output:
        item = PageItem(url=page.url, outlet="", edition="", edition_language="", status=200,
                        body=page.html, content_type="text/html")
        try:
            article = page_to_article(item, min_words=min_words, max_bytes=10**8)
        except NotAnArticle as exc:
            return Output(body=None, dropped=exc.reason)
        apply_language(article, detector, "")
        return Output(body=article.body, title=article.title, published=article.published,
                      authors=article.authors, language=article.language)

    return run


def trafilatura_extractor(**options: object) -> Callable[[DevPage], Output]:
    """Plain trafilatura with metadata (its default settings unless ``options`` say otherwise)."""
    detector = LanguageDetector()

    def run(page: DevPage) -> Output:
        doc = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True, **options)
        if doc is None or not doc.text:
            return Output(body=None, dropped="no-text")
        guess = detector.detect(doc.text)
        authors = [a.strip() for a in re.split(r";|,", doc.author or "") if a.strip()]
        return Output(body=doc.text, title=doc.title or "", published=doc.date,
                      authors=authors, language=guess[0] if guess else "")

    return run


def evaluate(pages: Iterable[DevPage], extractor: Callable[[DevPage], Output]
             ) -> tuple[list[PageScore], list[Output]]:
    """Scores and outputs of one extractor on the pages."""
    outputs = [extractor(page) for page in pages]
    return [score(page, out) for page, out in zip(pages, outputs)], outputs


def evaluate_timed(pages: list[DevPage], extractors: dict[str, Callable[[DevPage], Output]]
                   ) -> dict[str, tuple[list[PageScore], list[Output], float]]:
    """Like ``evaluate`` for several extractors, taking turns page by page, so that a change of
    machine load between them does not skew the seconds spent (scoring is not counted)."""
    results: dict[str, tuple[list[PageScore], list[Output], float]] = {
        name: ([], [], 0.0) for name in extractors}
    for page in pages:
        for name, extractor in extractors.items():
            scores, outputs, spent = results[name]
            start = time.perf_counter()
            out = extractor(page)
            spent += time.perf_counter() - start
            outputs.append(out)
            scores.append(score(page, out))
            results[name] = (scores, outputs, spent)
    return results


def plain_trafilatura(page: DevPage) -> Output:
    """``trafilatura.extract`` as it comes, text only: the cost baseline."""
    text = trafilatura.extract(page.html, url=page.url)
    return Output(body=text, dropped="" if text else "no-text")
