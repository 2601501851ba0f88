"""Items: what spiders yield (a fetched page) and what pipelines make of it (an Article)."""

from __future__ import annotations

from dataclasses import dataclass, field

from search.article import Article, Translation

__all__ = ["Article", "PageItem", "Translation"]


@dataclass
class PageItem:
    """A fetched article page before extraction; NormalizePipeline turns it into an Article."""

    url: str  # final URL, after redirects
    outlet: str
    edition: str
    edition_language: str
    status: int
    body: bytes = field(repr=False)
    content_type: str = ""
    content_language: str = ""
    fetched_at: str = ""
    requested_urls: list[str] = field(default_factory=list)  # before redirects
    hints: dict[str, str] = field(default_factory=dict)  # the outlet's CSS selectors
    warc_record_id: str = ""  # the archived response (crawler.archive), if archiving is on
