"""A self-contained fake news website for tests, benchmarks and ``newsmon demo``.

Two invented outlets, each served by its own server (so each has its own robots.txt):
``kolokol`` (Russian, with an English edition under /en/) and ``fjordposten`` (Norwegian
Bokmål). Their pages carry the faults a real crawl meets (see ``special_urls``). This module
holds what the content is (articles, special URLs, the outlet definition); server.py serves
it and generate.py makes synthetic articles for benchmarks.

    from newsmon.mocksite import articles, outlet_definition, special_urls, start_site
    with start_site("kolokol") as site:  # or: python -m newsmon.mocksite.server --site kolokol
        Path("outlets/kolokol.toml").write_text(outlet_definition("kolokol", site.url))
        ...                              # crawl site.url, then look at site.requests()
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from string import Template
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsmon.mocksite.server import MockSite, start_site

__all__ = ["SITES", "ArticleSpec", "MockSite", "articles", "outlet_definition", "site_config",
           "special_urls", "start_site"]

CONTENT = Path(__file__).parent / "content"
ACTORS = CONTENT / "actors"  # the invented officials and advocates the sample articles quote
SITES = ("kolokol", "fjordposten")
FAULT_KINDS = ("legacy-encoding", "duplicate")  # articles served only with faults


@dataclass(frozen=True)
class ArticleSpec:
    """One article. kind: clean | legacy-encoding | duplicate | private (| generated).

    ``encoding`` is how the page bytes are encoded and ``charset_declared`` where that is said:
    both (header and <meta>), header, meta or none. ``text`` is the body exactly as written;
    ``search_words`` occur in its text and in no other outlet's articles (for search tests).
    """

    site: str
    path: str
    edition: str
    lang: str
    title: str
    authors: tuple[str, ...]
    published: str  # ISO 8601 with offset
    section: str
    tags: tuple[str, ...]
    paragraphs: tuple[str, ...]
    updated: str | None = None
    kind: str = "clean"
    encoding: str = "utf-8"
    charset_declared: str = "both"
    canonical_utm: bool = False  # canonical and og:url carry ?utm_source=rss&utm_medium=feed
    flaky: bool = False
    redirect_from: str | None = None
    amp_path: str | None = None
    duplicate_of: str | None = None
    translation_of: str | None = None
    retells: str | None = None  # "site:path" of the story this one retells
    search_words: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


# The @cache'd readers below hold the packaged content files, parsed once. What they return is
# immutable (frozen dataclasses, tuples, read-only mappings), so no caller can change what
# another sees.
@cache
def site_config(site: str) -> Mapping[str, Any]:
    """The site's content/<site>/site.toml: editions, UI strings, special paths (read-only)."""
    if site not in SITES:
        raise ValueError(f"unknown mock site {site!r}; choose from {SITES}")
    return _read_only(tomllib.loads((CONTENT / site / "site.toml").read_text(encoding="utf-8")))


def _read_only(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _read_only(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_read_only(v) for v in value)
    return value


@cache
def _articles(site: str) -> tuple[ArticleSpec, ...]:
    specs = []
    for file in sorted((CONTENT / site / "articles").glob("*.toml")):
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
        body = tuple(p.strip() for p in raw.pop("body").split("\n\n") if p.strip())
        raw |= {k: tuple(raw[k]) for k in ("authors", "tags", "search_words") if k in raw}
        lang = site_config(site)["editions"][raw["edition"]]["lang"]
        specs.append(spec := ArticleSpec(site=site, lang=lang, paragraphs=body, **raw))
        if spec.amp_path:
            specs.append(replace(spec, path=spec.amp_path, amp_path=None, kind="duplicate",
                                 duplicate_of=spec.path, canonical_utm=False, flaky=False,
                                 redirect_from=None))
    specs.sort(key=lambda a: (datetime.fromisoformat(a.published), a.path), reverse=True)
    return tuple(specs)


def articles(site: str, *, faults: bool = True) -> list[ArticleSpec]:
    """The hand-written articles a server with these settings serves, newest first."""
    return [a for a in _articles(site) if faults or a.kind not in FAULT_KINDS]


def special_urls(site: str, *, faults: bool = True) -> dict[str, str]:
    """Name -> path of each page a crawl test may care about; all reachable from a feed/sitemap.

    Always: ``robots`` (disallows /private/), ``private`` (an article under /private/, listed
    in sitemap-articles.xml: a polite crawler never fetches it), ``archive`` (an index page of
    headlines at an article-looking URL: not an article), ``home_<edition>``,
    ``section_<edition>``, ``feed_<edition>``, ``about``, ``sitemap_index`` (points to
    ``news_sitemap``, ``articles_sitemap`` and, with ``generated=N``, /sitemap-generated.xml),
    and for fjordposten ``iso-8859-1`` (an article whose charset is only in the HTTP header).

    Only with faults (kolokol): ``not_found`` (in the ru feed, answers 404); ``flaky`` (a real
    article: its first GET answers 500, later ones 200); ``redirect_from`` (in the ru feed,
    answers 301 to ``redirect_to``); ``binary`` (a PNG at an article-looking URL, in
    sitemap-articles.xml); ``broken_feed`` (RSS cut off inside its third item); ``duplicate``
    (an AMP copy of ``duplicate_of``: same title and text, its canonical points to itself);
    ``cp1251`` (no charset in header or markup); ``koi8-r`` (charset only in <meta>).
    """
    config = site_config(site)
    out = {"robots": "/robots.txt", "sitemap_index": "/sitemap.xml", "about": "/about/",
           "news_sitemap": "/sitemap-news.xml", "articles_sitemap": "/sitemap-articles.xml",
           "archive": config["special"]["archive"]}
    for ed, e in config["editions"].items():
        out |= {f"home_{ed}": e["home"], f"section_{ed}": e["section"], f"feed_{ed}": e["feed"]}
    for a in articles(site, faults=faults):
        out |= {"private": a.path} if a.kind == "private" else {}
        out |= {a.encoding: a.path} if a.encoding != "utf-8" else {}
        out |= {"duplicate": a.path, "duplicate_of": a.duplicate_of} if a.duplicate_of else {}
        out |= {"flaky": a.path} if faults and a.flaky else {}
        if faults and a.redirect_from:
            out |= {"redirect_from": a.redirect_from, "redirect_to": a.path}
    keys = ("not_found", "binary", "broken_feed") if faults else ()
    return out | {k: v for k, v in config["special"].items() if k in keys}


def outlet_definition(site: str, base_url: str, *, faults: bool = True) -> str:
    """TOML text of the newsmon outlet definition for this mock site served at base_url.

    Without faults the broken feed is left out, as the server does not serve it then.
    """
    base, broken = base_url.rstrip("/"), site_config(site)["special"].get("broken_feed")
    template = Template((CONTENT / site / "outlet.toml").read_text(encoding="utf-8"))
    text = template.safe_substitute(base=base)  # safe: the article pattern ends in "$'"
    return text if faults or not broken else text.replace(f', "{base}{broken}"', "")


def __getattr__(name: str) -> Any:
    """Import the server lazily, so ``python -m newsmon.mocksite.server`` loads it only once."""
    if name in ("MockSite", "start_site"):
        from newsmon.mocksite import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
