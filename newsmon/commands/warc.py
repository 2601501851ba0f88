"""``newsmon ingest-warc FILE...``: index archived news (CC-NEWS, a colleague's WARCs, newsmon's own)."""

from __future__ import annotations

import argparse
from pathlib import Path

from newsmon.context import Context
from newsmon.crawling import run_ingest
from search.errors import NotFound


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ingest-warc", aliases=["import-warc"],
                              help="run WARC files through the crawl's pipelines into the store")
    p.add_argument("files", nargs="+", metavar="FILE", help=".warc or .warc.gz files, oldest first")
    p.set_defaults(handler=ingest)


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
