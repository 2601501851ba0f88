"""Article extraction from decoded HTML: trafilatura for text and metadata, htmldate for
timestamps with their time zone, and outlet hints (CSS selectors) that win where given."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

import trafilatura
from htmldate import find_date
from lxml import html as lxml_html
from parsel import Selector

from crawler.urls import canonicalize, same_site

_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{2,}")


class NotAnArticle(Exception):
    """The page is not an article; ``reason`` names why (it becomes a stats counter)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass
class Extracted:
    title: str
    body: str
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    updated: str | None = None
    section: str = ""
    tags: list[str] = field(default_factory=list)
    canonical_url: str = ""
    declared_language: str = ""


def clean_text(text: str) -> str:
    """NFC, single spaces, paragraphs separated by one blank line, no stray control characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n\n".join(line for line in lines if line)).strip()


def to_utc(value: str | None) -> str | None:
    """ISO-8601 in UTC with a Z, from any ISO-like string; None when it cannot be read."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # no zone given: assume UTC, documented
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_PUBLISHED_XPATHS = (
    "//meta[@property='article:published_time']/@content",
    "//meta[@itemprop='datePublished']/@content",
    "//meta[@name='pubdate' or @name='publish-date' or @name='date']/@content",
    "//*[@itemprop='datePublished']/@datetime",
    "//article//time/@datetime",
)
_UPDATED_XPATHS = (
    "//meta[@property='article:modified_time']/@content",
    "//meta[@property='og:updated_time']/@content",
    "//meta[@itemprop='dateModified']/@content",
    "//*[@itemprop='dateModified']/@datetime",
)


def _json_ld_dates(selector: Selector) -> tuple[str | None, str | None]:
    """datePublished/dateModified of the first JSON-LD object that has them."""
    for raw in selector.xpath("//script[@type='application/ld+json']/text()").getall():
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        objects = data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []
        for obj in objects:
            if isinstance(obj, dict) and obj.get("datePublished"):
                return to_utc(str(obj["datePublished"])), to_utc(str(obj.get("dateModified") or ""))
    return None, None


def _first_time(selector: Selector, xpaths: tuple[str, ...]) -> str | None:
    for xpath in xpaths:
        for value in selector.xpath(xpath).getall():
            moment = to_utc(value)
            if moment:
                return moment
    return None


def _dates(html: str, selector: Selector) -> tuple[str | None, str | None]:
    """Published and updated times in UTC: explicit markup first (it carries the time of day
    and the zone), then htmldate's heuristics, which may only find a day."""
    ld_published, ld_updated = _json_ld_dates(selector)
    published = _first_time(selector, _PUBLISHED_XPATHS) or ld_published
    updated = _first_time(selector, _UPDATED_XPATHS) or ld_updated
    if not published:
        fmt = "%Y-%m-%dT%H:%M:%S%z"
        published = to_utc(find_date(html, outputformat=fmt, original_date=True, extensive_search=False))
    return published, (updated if updated and updated != published else None)


def _declared_language(selector: Selector, content_language: str | None) -> str:
    for value in (
        selector.xpath("/html/@lang").get(),
        selector.xpath("//meta[@http-equiv='content-language']/@content").get(),
        selector.xpath("//meta[@property='og:locale']/@content").get(),
        content_language,
    ):
        if value:
            return value.strip().split(",")[0].replace("_", "-").split("-")[0].lower()
    return ""


def _canonical(selector: Selector, page_url: str) -> str:
    """rel=canonical, else og:url, when on the page's own site; else the page URL itself.

    A canonical on another site is ignored: a copy must not claim the original's identity.
    """
    for candidate in (
        selector.xpath("//link[@rel='canonical']/@href").get(),
        selector.xpath("//meta[@property='og:url']/@content").get(),
    ):
        if candidate:
            url = canonicalize(candidate, base=page_url)
            saved_file = page_url.startswith("file:")  # no site to check against: trust it
            if url.startswith(("http://", "https://")) and (saved_file or same_site(url, page_url)):
                return url
    return canonicalize(page_url)


def link_density(tree: lxml_html.HtmlElement) -> float:
    """Share of the main content's text that sits inside links: high on index pages."""
    main = tree.xpath("//main | //*[@role='main'] | //article")
    body = tree.find("body")
    root = main[0] if main else body if body is not None else tree
    total = len(" ".join(root.itertext()).split())
    linked = sum(len(" ".join(a.itertext()).split()) for a in root.iter("a"))
    return linked / total if total else 1.0


def _hint(selector: Selector, css: str | None, *, many: bool = False) -> list[str]:
    if not css:
        return []
    values = selector.css(css).getall()
    texts = []
    for value in values:
        text = clean_text(Selector(text=value).xpath("string()").get() if value.lstrip().startswith("<") else value)
        if text:
            texts.append(text)
    return texts if many else texts[:1]


def _split_authors(value: str | None) -> list[str]:
    if not value:
        return []
    return [a.strip() for a in re.split(r";|,| and | и | og ", value) if a.strip()]


def extract_article(
    html: str,
    url: str,
    *,
    hints: dict[str, str] | None = None,
    content_language: str | None = None,
    min_words: int = 60,
    max_link_density: float = 0.5,
) -> Extracted:
    """Extract one article or raise NotAnArticle(reason)."""
    hints = hints or {}
    try:
        tree = lxml_html.fromstring(html)
    except (ValueError, lxml_html.etree.ParserError) as exc:
        raise NotAnArticle("unparsable-html", str(exc)) from None
    selector = Selector(root=tree, type="html")
    result = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, include_comments=False, include_tables=False,
        favor_precision=True, deduplicate=False,
    )
    doc = result.as_dict() if result is not None and hasattr(result, "as_dict") else (result or {})
    body_parts = _hint(selector, hints.get("body"), many=True)
    body = clean_text("\n\n".join(body_parts)) if body_parts else clean_text(doc.get("text") or "")
    if not body:
        raise NotAnArticle("no-text")
    words = len(body.split())
    if words < min_words:
        density = link_density(tree)
        links = sum(1 for _ in tree.iter("a"))
        # little text but a list of links: a section front or an archive, not a stub
        reason = "index-page" if density > max_link_density or links >= 12 else "too-short"
        raise NotAnArticle(reason, f"{words} words, {links} links, link density {density:.2f}")
    if len(body) < 1500:  # short enough to be the blurbs of a headline list
        density = link_density(tree)
        if density > max_link_density:
            raise NotAnArticle("index-page", f"link density {density:.2f}")
    title = (_hint(selector, hints.get("title")) or [clean_text(doc.get("title") or "")])[0]
    if not title:
        title = clean_text(selector.xpath("//title/text()").get() or "")
    published, updated = _dates(html, selector)
    if hints.get("published"):
        published = to_utc((_hint(selector, hints["published"]) or [None])[0]) or published
    if hints.get("updated"):
        updated = to_utc((_hint(selector, hints["updated"]) or [None])[0]) or updated
    authors = _hint(selector, hints.get("author"), many=True) or _split_authors(doc.get("author"))
    section = selector.xpath("//meta[@property='article:section']/@content").get() or ""
    tags = selector.xpath("//meta[@property='article:tag']/@content").getall()
    if not tags and doc.get("tags"):
        tags = [t.strip() for t in str(doc["tags"]).split(",") if t.strip()]
    if not section and doc.get("categories"):
        section = str(doc["categories"]).split(",")[0].strip()
    return Extracted(
        title=title,
        body=body,
        authors=list(dict.fromkeys(authors)),
        published=published,
        updated=updated,
        section=clean_text(section),
        tags=list(dict.fromkeys(clean_text(t) for t in tags if t.strip())),
        canonical_url=_canonical(selector, url),
        declared_language=_declared_language(selector, content_language),
    )
