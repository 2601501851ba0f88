"""The search interface every index backend implements, and the shapes it returns.

The CLI, the pipelines and the web layer only talk to ``SearchBackend``; the embedded SQLite
backend (``search.store``) and Elasticsearch (``search.elastic``) both implement it, and one
contract test suite (``tests/test_search_contract.py``) runs against both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from search.article import Article

# Snippets mark matched terms with these private-use characters; each renderer turns them into
# its own markup (ANSI bold, **term**, <mark> after HTML-escaping), so untrusted text is never
# mixed with markup before it is escaped.
MARK_START = "\ue000"
MARK_END = "\ue001"
_NO_MARKS = str.maketrans("", "", MARK_START + MARK_END)


def strip_marks(text: str) -> str:
    """Text without the snippet marks: crawled text must never carry a highlight of its own."""
    return text.translate(_NO_MARKS)


SORTS = ("relevance", "newest", "oldest")
STATUSES = ("edited", "removed", "online")


@dataclass
class SearchRequest:
    """A query with its filters and paging, independent of the backend."""

    query: str
    outlets: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    date_from: str | None = None  # ISO date or datetime, inclusive, on `published`
    date_to: str | None = None  # inclusive
    sort: str = "relevance"
    limit: int = 10
    offset: int = 0
    search_after: list | None = None  # opaque cursor from SearchResult.next_cursor (deep paging)
    collapse: bool = True  # one hit per story (see the dedup docs); False = every article
    facets: bool = False
    status: str = ""  # "" = all; "edited", "removed" or "online" (evidence; SQLite store only)
    # page by cursor through the index as it was at the first page (Elasticsearch opens a point
    # in time; the SQLite store reads its table as it is at each page)
    point_in_time: bool = False


@dataclass
class SearchHit:
    id: str
    title: str
    url: str
    outlet: str
    language: str
    published: str | None
    score: float
    snippet: str  # matched terms between MARK_START and MARK_END
    translated_title: str = ""
    translated_snippet: str = ""
    translation_language: str = ""
    story_id: str = ""
    story_size: int = 1
    story_outlets: list[str] = field(default_factory=list)
    story_languages: list[str] = field(default_factory=list)
    matched_form: str = ""  # which query form matched (cross-lingual search)
    versions: int = 1  # > 1: the outlet changed the text since newsmon first saw it
    removed_at: str = ""  # when newsmon first found the article gone (404/410, sent home)


# Matching stories (or articles) are counted exactly up to this many; beyond, a search says
# "at least TOTAL_CAP" (total_exact False), as Elasticsearch's track_total_hits does: counting
# every match of a common word costs the embedded store a pass over most of the index.
TOTAL_CAP = 1000


def capped_total(counted: int) -> tuple[int, bool]:
    """(total, exact) of a count: above TOTAL_CAP, TOTAL_CAP and not exact."""
    return (counted, True) if counted <= TOTAL_CAP else (TOTAL_CAP, False)


@dataclass
class SearchResult:
    total: int  # matching articles (or stories when collapsed), at most TOTAL_CAP
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # outlet/language/day
    next_cursor: list | None = None
    total_exact: bool = True  # False: more than `total` match (counting stopped at TOTAL_CAP)


@dataclass
class UpsertReport:
    """What an upsert batch did, article by article."""

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # same text as a stored article
    failed: dict[str, str] = field(default_factory=dict)  # id -> error


class SearchBackend(Protocol):
    """Index and search articles."""

    def upsert(self, articles: Sequence[Article]) -> UpsertReport: ...

    def get(self, article_id: str) -> Article | None: ...

    def search(self, request: SearchRequest) -> SearchResult: ...

    def stats(self) -> dict[str, dict[str, int] | int]: ...

    def close(self) -> None: ...
