"""``newsmon watch add/list/remove/run``: saved searches and their alerts, for cron."""

from __future__ import annotations

import argparse

from newsmon import watch
from newsmon.commands.arguments import add_filter_arguments
from newsmon.commands.statements import statement_lines
from newsmon.context import Context
from newsmon.render import as_json, one_line
from search.errors import NotFound


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("watch", help="saved searches: alerts of new matches (cron-friendly)")
    sub = p.add_subparsers(dest="watch_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="save a search under a name (replaces one of that name)")
    add.add_argument("name")
    add.add_argument("query", nargs="?", default="",
                     help="same syntax as `newsmon search` (not with --actor)")
    add.add_argument("--actor", default="",
                     help="watch this actor's new statements instead (id or any name, see"
                          " `newsmon actors`)")
    add_filter_arguments(add)
    add.add_argument("--webhook", default="", help="POST new matches as JSON to this http(s) URL")
    add.set_defaults(handler=add_search)

    ls = sub.add_parser("list", help="the saved searches")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=list_searches)

    rm = sub.add_parser("remove", help="forget a saved search")
    rm.add_argument("name")
    rm.set_defaults(handler=remove_search)

    run = sub.add_parser("run", help="report matches new since the last run, deliver webhooks")
    run.add_argument("name", nargs="*", help="only these saved searches (default: all)")
    run.add_argument("--json", action="store_true", help="one JSON object per saved search")
    run.add_argument("--no-webhook", action="store_true", help="queue alerts, deliver later")
    run.set_defaults(handler=run_searches)


def add_search(args: argparse.Namespace, ctx: Context) -> int:
    saved = watch.save(ctx, watch.SavedSearch(
        name=args.name, query=args.query, outlets=args.outlet, languages=args.language,
        date_from=args.date_from, date_to=args.date_to, cross_lingual=args.cross_lingual,
        webhook=args.webhook, actor=args.actor,
    ))
    what = f"new statements of {saved.actor}" if saved.actor else saved.query
    print(f"saved search {saved.name!r}: {what}", file=ctx.out)
    return 0


def list_searches(args: argparse.Namespace, ctx: Context) -> int:
    rows = ctx.store.saved_searches()
    if args.json:
        for row in rows:
            print(as_json(row), file=ctx.out)
        return 0
    for row in rows:
        hook = f" → {one_line(row['webhook'])}" if row["webhook"] else ""
        actor = row["options"].get("actor")
        what = f"statements of {one_line(actor)}" if actor else one_line(row["query"])
        print(f"{one_line(row['name'])}: {what}{hook}"
              f" ({row['seen']} reported, last run {row['last_run'] or 'never'},"
              f" {row['undelivered']} undelivered)", file=ctx.out)
    return 0


def remove_search(args: argparse.Namespace, ctx: Context) -> int:
    if not ctx.store.delete_saved_search(args.name):
        raise NotFound(f"no saved search named {args.name!r}")
    print(f"removed {args.name!r}", file=ctx.out)
    return 0


def run_searches(args: argparse.Namespace, ctx: Context) -> int:
    reports = watch.run(ctx, args.name, deliver=not args.no_webhook)
    failed = False
    for report in reports:
        failed |= bool(report.undelivered)
        if args.json:
            print(as_json(report), file=ctx.out)
            continue
        print(f"{one_line(report.name)}: {len(report.new)} new", file=ctx.out)
        for item in report.new:
            if report.actor:
                print("\n".join(statement_lines(item, indent="  ")), file=ctx.out)
                continue
            print(f"  {(item['published'] or '')[:10] or 'no date'} {item['outlet']}"
                  f" [{item['language']}] {one_line(item['title'])}  {one_line(item['url'])}",
                  file=ctx.out)
        if report.delivered:
            print(f"  webhook: {report.delivered} alert(s) delivered", file=ctx.out)
        for error in report.undelivered:
            print(f"  webhook: not delivered ({one_line(error)}); kept for the next run",
                  file=ctx.err)
    return 4 if failed else 0
