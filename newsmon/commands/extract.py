"""``newsmon extract PAGE...``: what the pipelines make of saved pages or URLs; stores nothing."""

from __future__ import annotations

import argparse
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from crawler.items import PageItem
from crawler.outlets import load_outlets
from newsmon.context import Context
from newsmon.render import as_json
from pipelines.language.detect import LanguageDetector, apply_language
from pipelines.normalize.extract import NotAnArticle
from pipelines.normalize.page import explained_article
from search.errors import NotFound

FIELDS = ["title", "body", "authors", "published", "updated", "section", "tags", "language",
          "language_probability", "language_source", "canonical_url", "raw_sha256"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("extract", help="extract saved HTML files or URLs as JSON Lines")
    p.add_argument("pages", nargs="+", metavar="PAGE", help="a saved HTML file or an http(s) URL")
    p.add_argument("--outlet", help="apply this outlet's extraction hints and edition language")
    p.add_argument("--url", help="the page's original URL (for one saved file)")
    p.add_argument("--explain", action="store_true",
                   help="add which source won each field (JSON-LD, meta, <title>, extractor mode)")
    p.set_defaults(handler=extract)


def _load(page: str, user_agent: str, timeout: float) -> tuple[str, bytes, str, str, int]:
    """(url, body, content type, content language, status) of a file or a URL."""
    if page.startswith(("http://", "https://")):
        request = urllib.request.Request(page, headers={"User-Agent": user_agent})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return (response.url, response.read(), response.headers.get("Content-Type", ""),
                        response.headers.get("Content-Language", ""), response.status)
        except urllib.error.HTTPError as exc:
            return page, b"", exc.headers.get("Content-Type", ""), "", exc.code
    path = Path(page)
    return path.resolve().as_uri(), path.read_bytes(), "", "", 200


def extract(args: argparse.Namespace, ctx: Context) -> int:
    crawl = ctx.config.section("crawl")
    language = ctx.config.section("language")
    hints: dict[str, str] = {}
    edition_language = outlet_id = ""
    if args.outlet:
        outlets = load_outlets(ctx.config.outlet_dirs)
        if args.outlet not in outlets:
            raise NotFound(f"unknown outlet {args.outlet} (see `newsmon sources`)")
        outlet = outlets[args.outlet]
        hints, outlet_id = dict(outlet.hints), outlet.id
        edition_language = outlet.edition_for(args.url or "").language
    detector = LanguageDetector(
        seed=language["seed"], min_chars=language["min_chars"],
        min_probability=language["min_probability"],
    )
    failures = 0
    for page in args.pages:
        try:
            url, body, content_type, content_language, status = _load(
                page, crawl["user_agent"], float(crawl["timeout"]))
        except (OSError, urllib.error.URLError) as exc:
            print(as_json({"page": page, "error": f"cannot read: {exc}"}), file=ctx.out)
            failures += 1
            continue
        item = PageItem(
            url=args.url if args.url and len(args.pages) == 1 else url, outlet=outlet_id,
            edition="", edition_language=edition_language, status=status, body=body,
            content_type=content_type, content_language=content_language,
            fetched_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), hints=hints,
        )
        try:
            article, sources = explained_article(
                item, min_words=crawl["min_words"], max_bytes=crawl["max_page_bytes"])
        except NotAnArticle as exc:
            print(as_json({"page": page, "dropped": exc.reason, "detail": str(exc)}), file=ctx.out)
            failures += 1
            continue
        apply_language(article, detector, edition_language)
        record = {"page": page, **{name: getattr(article, name) for name in FIELDS}}
        if args.explain:
            record["explain"] = {**sources, "language": article.language_source}
        print(as_json(record), file=ctx.out)
    return 1 if failures else 0
