"""``newsmon search``, ``newsmon show`` and ``newsmon stats``: read the index."""

from __future__ import annotations

import argparse

from newsmon.commands.arguments import add_filter_arguments, positive_int
from newsmon.context import Context
from newsmon.render import as_json, hit_lines, hit_record, one_line, safe_text, write_csv
from search.base import SORTS, STATUSES, SearchRequest
from search.errors import NotFound, QueryError

CSV_COLUMNS = ["id", "title", "url", "outlet", "language", "published", "score", "snippet",
               "translated_title", "story_id", "story_size", "matched_form", "versions",
               "removed_at"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("search", help="full-text search (deduplicated by story)")
    p.add_argument("query", help='words, "a phrase", -excluded, a OR b')
    add_filter_arguments(p)
    p.add_argument("--sort", choices=SORTS, default="relevance")
    p.add_argument("--limit", type=positive_int, default=10, help="hits per page (default 10)")
    p.add_argument("--page", type=positive_int, default=1, help="page number (default 1)")
    p.add_argument("--all", action="store_true", help="every article, not one per story")
    p.add_argument("--status", choices=STATUSES,
                   help="only articles edited since first seen, removed, or still online")
    p.add_argument("--facets", action="store_true", help="also count hits per outlet, language, day")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON Lines, one hit per line")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    p.set_defaults(handler=search)

    p = subparsers.add_parser("show", help="one article in full, with its metadata")
    p.add_argument("id", help="article id (from search results)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=show)

    p = subparsers.add_parser("stats", help="counts per outlet, language and day")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=stats)


def search(args: argparse.Namespace, ctx: Context) -> int:
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise QueryError("--from is after --to")
    request = SearchRequest(
        query=args.query, outlets=args.outlet, languages=args.language,
        date_from=args.date_from, date_to=args.date_to, sort=args.sort,
        limit=args.limit, offset=(args.page - 1) * args.limit,
        collapse=not args.all, facets=args.facets, status=args.status or "",
    )
    if args.cross_lingual:
        result = ctx.cross_lingual_search(request)
    else:
        result = ctx.backend.search(request)
    if ctx.backend is not ctx.store:  # Elasticsearch: edits and removals live in the store
        for hit in result.hits:
            hit.versions, hit.removed_at = ctx.store.evidence_summary(hit.id)
    out = ctx.out
    if args.json:
        for hit in result.hits:
            print(as_json(hit_record(hit)), file=out)
        return 0
    if args.csv:
        write_csv(out, (hit_record(h) for h in result.hits), CSV_COLUMNS)
        return 0
    unit = "articles" if args.all else "stories"
    first = request.offset + 1 if result.hits else 0
    counted = f"{result.total}" if result.total_exact else f"{result.total}+"
    print(f"{counted} {unit} match; showing {first}-{request.offset + len(result.hits)}", file=out)
    color = out.isatty() if hasattr(out, "isatty") else False
    for number, hit in enumerate(result.hits, start=request.offset + 1):
        print("\n".join(hit_lines(number, hit, color=color)), file=out)
    for name, counts in result.facets.items():
        print(f"by {name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=out)
    return 0


def show(args: argparse.Namespace, ctx: Context) -> int:
    article = ctx.store.get(args.id)
    if article is None:
        raise NotFound(f"no article with id {args.id}")
    if args.json:
        print(as_json(article), file=ctx.out)
        return 0
    out = ctx.out
    meta = [
        ("id", article.id), ("outlet", article.outlet), ("edition", article.edition),
        ("language", f"{article.language} ({article.language_source}, p={article.language_probability})"),
        ("published", article.published or ""), ("updated", article.updated or ""),
        ("authors", ", ".join(article.authors)), ("section", article.section),
        ("tags", ", ".join(article.tags)), ("url", article.canonical_url),
        ("also at", ", ".join(u for u in article.urls if u != article.canonical_url)),
        ("story", article.story_id), ("fetched", f"{article.fetched_at} (HTTP {article.http_status})"),
        ("raw sha256", article.raw_sha256),
    ]
    print(one_line(article.title), file=out)
    print("=" * min(len(one_line(article.title)), 78), file=out)
    for name, value in meta:
        if value:
            print(f"{name:>10}: {one_line(str(value))}", file=out)
    print(file=out)
    print(safe_text(article.body), file=out)
    for t in article.translations:
        print(f"\n--- translation into {t.target}: {t.status}"
              + (f" ({t.model} {t.model_version})" if t.model else "") + " ---", file=out)
        if t.title or t.body:
            print(one_line(t.title), file=out)
            print(file=out)
            print(safe_text(t.body), file=out)
    return 0


def stats(args: argparse.Namespace, ctx: Context) -> int:
    figures = ctx.store.stats()
    if args.json:
        print(as_json(figures), file=ctx.out)
        return 0
    out = ctx.out
    print(f"store: {ctx.config.store_path}", file=out)
    print(f"articles: {figures['articles']} (under {figures['urls']} URLs)", file=out)
    for key in ("by_outlet", "by_language", "by_day", "fetches", "translations", "index_state"):
        counts = figures.get(key) or {}
        if counts:
            label = key.replace("by_", "per ").replace("_", " ")
            print(f"{label}:", file=out)
            for name, count in counts.items():
                print(f"  {one_line(str(name)):<24} {count}", file=out)
    analysis = figures.get("search_analysis") or {}
    if analysis:
        print("word forms (embedded search), per language of the text:", file=out)
        for language, name in analysis.items():
            print(f"  {one_line(language or 'unknown'):<24} {one_line(name)}", file=out)
    pending = (figures.get("index_state") or {}).get("pending", 0)
    if ctx.config.section("index")["url"]:
        print(f"pending for Elasticsearch: {pending} (push with `newsmon index sync`)", file=out)
    return 0


