"""``newsmon crawl [OUTLET...]``: run the spiders in this process and summarize."""

from __future__ import annotations

import argparse
import json

from newsmon.context import Context
from newsmon.crawling import NothingFetched, nothing_fetched, run_crawl, summary_lines
from search.errors import ConfigError, StoreUnwritable


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("crawl", help="crawl outlets into the store")
    p.add_argument("outlets", nargs="*", metavar="OUTLET", help="outlet ids (default: all)")
    p.add_argument("--outlets-dir", action="append", default=[], metavar="DIR",
                   help="also load outlet definitions from DIR (repeatable)")
    p.add_argument("--progress", type=float, default=5.0, metavar="SECONDS",
                   help="print progress every SECONDS (0: never; default 5)")
    p.add_argument("--limit", type=int, default=0, help="stop after N articles per outlet")
    p.add_argument("--json", action="store_true", help="print the final statistics as JSON")
    p.add_argument("--redis", metavar="URL",
                   help="share one frontier with other crawl processes through this Redis "
                        "(redis://HOST:PORT/DB or unix:///PATH; see [redis] in the config)")
    p.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a Scrapy setting (repeatable)")
    p.set_defaults(handler=crawl)


def crawl(args: argparse.Namespace, ctx: Context) -> int:
    overrides: dict[str, object] = {"NEWSMON_PROGRESS_INTERVAL": args.progress}
    if args.outlets_dir:
        dirs = ctx.config.values["crawl"]["outlet_dirs"]
        ctx.config.values["crawl"]["outlet_dirs"] = [*dirs, *args.outlets_dir]
    if args.redis:
        ctx.config.values["redis"]["url"] = args.redis
    if args.limit:
        overrides["CLOSESPIDER_ITEMCOUNT"] = args.limit
    for assignment in args.set:
        name, sep, value = assignment.partition("=")
        if not sep or not name:
            raise ConfigError(f"-s expects NAME=VALUE, got {assignment!r}")
        overrides[name] = value
    summaries = run_crawl(ctx.config, args.outlets, overrides)
    if args.json:
        print(json.dumps({s.outlet: s.stats for s in summaries}, default=str, indent=1), file=ctx.out)
    else:
        print(f"crawl finished; store: {ctx.config.store_path}", file=ctx.out)
        for summary in summaries:
            for line in summary_lines(summary):
                print(line, file=ctx.out)
    for summary in summaries:
        if summary.stats.get("finish_reason") == "store_unwritable":
            raise StoreUnwritable(
                f"cannot write the store {ctx.config.store_path}"
                f" ({summary.stats.get('newsmon/store/unwritable', 'unknown error')}): the crawl"
                " stopped; what was stored is intact, rerun once there is space")
    if (why := nothing_fetched(summaries)) is not None:
        raise NothingFetched(why)
    return 0
