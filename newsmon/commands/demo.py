"""``newsmon demo``: serve the bundled sample site on 127.0.0.1, crawl it, search it.

Works offline: it shows the real spiders, pipelines, store and search on a small site of
Russian, English and Norwegian articles shipped with newsmon (``newsmon/mocksite``).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from newsmon.commands.serve import add_arguments as add_serve_arguments
from newsmon.context import Context
from newsmon.crawling import run_crawl, summary_lines
from newsmon.render import hit_lines
from search.base import SearchRequest
from search.store import SQLiteStore

DEMO_QUERIES = [
    ("пытки", "a Russian word: Russian articles"),
    ("whistleblower", "an English word: the English edition"),
    ("fengselsvesenet", "a Norwegian word: Norwegian articles"),
    ('"prison service" OR fengselsvesenet', "a phrase OR a word"),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="crawl and search a bundled sample site, offline")
    p.add_argument("--dir", type=Path, help="keep the demo store and outlets here (default: a temp dir)")
    p.add_argument("--serve", action="store_true", help="then serve the web app on the demo store")
    add_serve_arguments(p)
    p.set_defaults(handler=demo)


def show_responses(ctx: Context, story_id: str) -> None:
    from newsmon.commands.statements import response_lines, responses

    print("\n".join(response_lines(responses(ctx, story_id))), file=ctx.out)


def demo(args: argparse.Namespace, ctx: Context) -> int:
    from newsmon.mocksite import ACTORS, outlet_definition, start_site

    out = ctx.out
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="newsmon-demo-"))
    outlets_dir = workdir / "outlets"
    outlets_dir.mkdir(parents=True, exist_ok=True)
    store_path = workdir / "demo.sqlite3"
    sites = [start_site(name, faults=False) for name in ("kolokol", "fjordposten")]
    try:
        for site, name in zip(sites, ("kolokol", "fjordposten")):
            (outlets_dir / f"{name}.toml").write_text(outlet_definition(name, site.url, faults=False), encoding="utf-8")
            print(f"serving the sample outlet '{name}' at {site.url}", file=out)
        config = ctx.config
        config.values["store"]["path"] = str(store_path)
        config.values["crawl"]["outlet_dirs"] = [str(outlets_dir)]
        config.values["index"]["url"] = ""  # the demo always uses the embedded store
        config.values["statements"]["actor_dirs"] = [str(ACTORS)]
        print(f"crawling them into a fresh store {store_path} ...", file=out, flush=True)
        summaries = run_crawl(config, ["kolokol", "fjordposten"], {"NEWSMON_PROGRESS_INTERVAL": 0})
    finally:
        for site in sites:
            site.stop()
    for summary in summaries:
        print("\n".join(summary_lines(summary)), file=out)
    store = SQLiteStore(store_path)
    try:
        for query, why in DEMO_QUERIES:
            result = store.search(SearchRequest(query=query, limit=3))
            print(f"\n$ newsmon search '{query}'    # {why}: {result.total} stories", file=out)
            for number, hit in enumerate(result.hits, start=1):
                print("\n".join(hit_lines(number, hit, color=False)), file=out)
        leak = store.story_of_url(f"{sites[0].url}/news/2026/11/19/leak-video")
        if leak:
            print(f"\n$ newsmon story {leak} --responses    # who responded to the leak story",
                  file=out)
            show_responses(ctx, leak)
    finally:
        store.close()
    print(f"\nTry it yourself: NEWSMON_DB={store_path} newsmon search 'колония'", file=out)
    if args.serve:
        from newsmon.web.server import run_server

        print("Open the web app below; stop it with Ctrl+C.", file=out, flush=True)
        return run_server(ctx, host=args.host, port=args.port)
    return 0
