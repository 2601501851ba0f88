"""``newsmon ingest-warc FILE...``: index archived news (CC-NEWS, a colleague's WARCs, newsmon's own);
``newsmon export-warc``: the archived records of chosen articles as one WARC file."""

from __future__ import annotations

import argparse
from pathlib import Path

from newsmon.context import Context
from newsmon.crawling import run_ingest
from search.base import SearchRequest
from search.errors import NewsmonError, NotFound


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ingest-warc", aliases=["import-warc"],
                              help="run WARC files through the crawl's pipelines into the store")
    p.add_argument("files", nargs="+", metavar="FILE", help=".warc or .warc.gz files, oldest first")
    p.set_defaults(handler=ingest)

    p = subparsers.add_parser("export-warc", help="the archived responses of chosen articles, as one WARC")
    p.add_argument("ids", nargs="*", metavar="ID", help="article ids")
    p.add_argument("--query", help="also every article matching this search")
    p.add_argument("-o", "--output", required=True, metavar="FILE.warc.gz")
    p.set_defaults(handler=export)


def ingest(args: argparse.Namespace, ctx: Context) -> int:
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        raise NotFound(f"no such WARC file: {', '.join(missing)}")
    summaries = run_ingest(ctx.config, [str(Path(f).resolve()) for f in args.files])
    broken = 0
    for s in summaries:
        stored = s.count("newsmon/articles/inserted") + s.count("newsmon/articles/updated")
        skipped = s.count("newsmon/warc/skipped/not_ok") + s.count("newsmon/warc/skipped/not_article")
        dropped = sum(s.prefixed("newsmon/dropped/").values())
        broken += s.count("newsmon/warc/broken")
        print(f"{s.outlet}: {s.count('newsmon/warc/responses')} responses, {stored} articles stored"
              f" ({s.count('newsmon/articles/unchanged')} unchanged,"
              f" {s.count('newsmon/articles/duplicates')} duplicates), {skipped} non-article records"
              f" skipped, {dropped} dropped by the pipelines, {s.count('newsmon/warc/broken')} broken",
              file=ctx.out)
    return 1 if broken else 0


def export(args: argparse.Namespace, ctx: Context) -> int:
    """Copy each chosen article's response records, byte for byte, after a new warcinfo record."""
    from crawler.archive import WarcFileWriter

    ids = list(dict.fromkeys(args.ids))
    if args.query:
        offset = 0
        while True:
            result = ctx.store.search(SearchRequest(args.query, limit=500, offset=offset, collapse=False))
            ids.extend(h.id for h in result.hits if h.id not in ids)
            offset += len(result.hits)
            if not result.hits or result.next_cursor is None:
                break
    if not ids:
        raise NewsmonError("no articles chosen: give ids or --query")
    target = Path(args.output)
    if target.exists():
        raise NewsmonError(f"{target} exists")
    records: dict[str, bytes] = {}
    for article_id in ids:
        if ctx.store.get(article_id) is None:
            raise NotFound(f"no article with id {article_id}")
        for capture in ctx.store.captures(article_id):
            ref = ctx.store.warc_record(capture["warc_record_id"])
            if ref is None or ref.record_id in records:
                continue
            try:
                with open(ref.path, "rb") as stream:
                    stream.seek(ref.offset)
                    records[ref.record_id] = stream.read(ref.length)
            except OSError as exc:
                raise NewsmonError(f"cannot read archived record {ref.record_id}: {exc}") from None
    header = WarcFileWriter.warcinfo_bytes(target.name)
    target.write_bytes(header + b"".join(records.values()))
    print(f"wrote {len(records)} response records of {len(ids)} articles to {target}", file=ctx.out)
    return 0
