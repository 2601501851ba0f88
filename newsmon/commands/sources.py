"""``newsmon sources``: the outlets newsmon knows, from their definition files."""

from __future__ import annotations

import argparse

from crawler.outlets import load_outlets
from newsmon.context import Context
from newsmon.render import as_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sources", help="list outlet definitions")
    p.add_argument("--outlets-dir", action="append", default=[], metavar="DIR",
                   help="also load outlet definitions from DIR (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=sources)


def sources(args: argparse.Namespace, ctx: Context) -> int:
    outlets = load_outlets([*ctx.config.outlet_dirs, *args.outlets_dir])
    for outlet in outlets.values():
        editions = [
            {"id": e.id, "language": e.language, "feeds": list(e.feeds), "sitemaps": list(e.sitemaps)}
            for e in outlet.editions
        ]
        if args.json:
            print(as_json({
                "id": outlet.id, "name": outlet.name, "home": outlet.home,
                "editions": editions, "download_delay": outlet.download_delay,
                "concurrency": outlet.concurrency, "hints": outlet.hints,
                "file": str(outlet.source),
            }), file=ctx.out)
            continue
        languages = ", ".join(f"{e['id']} ({e['language']})" for e in editions)
        feeds = sum(len(e["feeds"]) for e in editions)
        sitemaps = sum(len(e["sitemaps"]) for e in editions)
        print(f"{outlet.id:<14} {outlet.name:<22} editions: {languages}; "
              f"{feeds} feeds, {sitemaps} sitemaps; {outlet.source}", file=ctx.out)
    return 0
