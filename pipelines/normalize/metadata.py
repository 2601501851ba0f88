"""What a news page says about itself: schema.org JSON-LD and Open Graph / ``article:*`` tags.

Publishers fill these for search engines and social networks, so they are the page's own,
usually exact, statement of headline, dates, authors, language and kind (article or not).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import html as lxml_html

# schema.org types whose objects are one article (a NewsArticle is the usual case)
ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "reviewnewsarticle", "backgroundnewsarticle", "askpublicnewsarticle", "blogposting",
    "liveblogposting", "report", "scholarlyarticle", "techarticle", "socialmediaposting",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass
class PageMeta:
    """The page's own statements; empty strings where it makes none."""

    article_type: str = ""  # the JSON-LD @type of the article object found, e.g. NewsArticle
    og_type: str = ""
    headline: str = ""  # JSON-LD
    og_title: str = ""
    site_name: str = ""
    published: str = ""  # JSON-LD datePublished
    modified: str = ""
    authors: list[str] = field(default_factory=list)  # JSON-LD author names
    meta_authors: list[str] = field(default_factory=list)  # <meta name=author>, article:author
    article_body: str = ""
    section: str = ""  # JSON-LD articleSection
    keywords: list[str] = field(default_factory=list)  # JSON-LD keywords
    descriptions: list[str] = field(default_factory=list)  # JSON-LD, og: and <meta> summaries
    in_language: str = ""

    @property
    def says_article(self) -> bool:
        return bool(self.article_type) or self.og_type == "article"


def _objects(data: Any) -> list[dict[str, Any]]:
    """Every dict in a JSON-LD document, @graph and nested lists flattened (not deeper)."""
    found, stack = [], [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            found.append(item)
            if "@graph" in item:
                stack.append(item["@graph"])
    return found


def _types(obj: dict[str, Any]) -> list[str]:
    kind = obj.get("@type", "")
    kinds = kind if isinstance(kind, list) else [kind]
    return [str(k).rsplit("/", 1)[-1].lower() for k in kinds]


def _names(value: Any) -> list[str]:
    """Author names from a string, a Person/Organization object, or a list of either."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() and not value.startswith("http") else []
    if isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, list):
            return [str(n).strip() for n in name if str(n).strip()]
        return [str(name).strip()] if name and str(name).strip() else []
    if isinstance(value, list):
        return [n for item in value for n in _names(item)]
    return []


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name") or ""
    return str(value).strip() if value else ""


def json_ld_objects(tree: lxml_html.HtmlElement) -> list[dict[str, Any]]:
    objects = []
    for raw in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(_CONTROL.sub(" ", raw))
        except ValueError:
            continue
        objects.extend(_objects(data))
    return objects


def _meta_tags(tree: lxml_html.HtmlElement) -> dict[str, list[str]]:
    """The page's <meta> values by property or name, in page order (one pass over the page)."""
    tags: dict[str, list[str]] = {}
    for element in tree.iter("meta"):
        content = (element.get("content") or "").strip()
        if not content:
            continue
        for key in {element.get("property"), element.get("name")} - {None}:
            tags.setdefault(key, []).append(content)
    return tags


def _meta(tags: dict[str, list[str]], *names: str) -> list[str]:
    return [value for name in names for value in tags.get(name, [])]


def read_page_meta(tree: lxml_html.HtmlElement) -> PageMeta:
    meta = PageMeta()
    tags = _meta_tags(tree)
    for obj in json_ld_objects(tree):
        kinds = [k for k in _types(obj) if k in ARTICLE_TYPES]
        if not kinds or meta.article_type:
            continue
        meta.article_type = kinds[0]
        meta.headline = _text(obj.get("headline") or obj.get("name"))
        meta.published = _text(obj.get("datePublished"))
        meta.modified = _text(obj.get("dateModified"))
        meta.authors = list(dict.fromkeys(_names(obj.get("author"))))
        body = obj.get("articleBody")
        meta.article_body = body.strip() if isinstance(body, str) else ""
        meta.in_language = _text(obj.get("inLanguage"))
        meta.section = _text(obj.get("articleSection"))
        keywords = obj.get("keywords") or []
        keywords = keywords.split(",") if isinstance(keywords, str) else keywords
        meta.keywords = [str(k).strip() for k in keywords if isinstance(k, str) and k.strip()]
        meta.descriptions.append(_text(obj.get("description")))
    meta.descriptions += _meta(tags, "og:description", "description", "twitter:description")
    meta.descriptions = list(dict.fromkeys(d for d in meta.descriptions if d))
    if not meta.keywords:
        for value in _meta(tags, "news_keywords", "keywords")[:1]:
            meta.keywords = [k.strip() for k in value.split(",") if k.strip()]
    meta.og_type = (_meta(tags, "og:type") or [""])[0].lower()
    meta.og_title = (_meta(tags, "og:title") or [""])[0]
    meta.site_name = (_meta(tags, "og:site_name") or [""])[0]
    meta.meta_authors = [a for a in _meta(tags, "author", "article:author", "sailthru.author")
                         if not a.startswith("http")]
    return meta
