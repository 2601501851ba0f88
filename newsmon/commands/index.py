"""``newsmon index init|migrate|sync|status``: manage the Elasticsearch index.

The SQLite store stays the system of record; these commands create the index, rebuild it
under a new mapping version without a moment of empty search, and push what is pending.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from newsmon.commands.arguments import positive_int
from newsmon.context import Context
from search.errors import ConfigError

if TYPE_CHECKING:  # the Elasticsearch client takes half a second to import: only when used
    from search.elastic import ElasticsearchBackend
    from search.elastic_sync import SyncReport


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "index", help="Elasticsearch index: init, migrate, sync, status (needs index.url)"
    )
    actions = p.add_subparsers(dest="index_action", metavar="ACTION", required=True)

    a = actions.add_parser("init", help="create or update the index template, index and alias")
    a.set_defaults(handler=init)

    a = actions.add_parser(
        "migrate", help="build the next index version, copy, swap the alias (no empty moment)"
    )
    a.add_argument("--keep-old", action="store_true", help="keep the previous index version")
    a.set_defaults(handler=migrate_command)

    a = actions.add_parser("sync", help="push articles that are pending in the store")
    a.add_argument("--batch-size", type=positive_int, default=None,
                   help="articles per bulk request (default: index.bulk_size)")
    a.add_argument("--retry-quarantined", action="store_true",
                   help="also retry articles Elasticsearch rejected before")
    a.add_argument("--all", action="store_true",
                   help="check every stored article against the index, push what differs")
    a.set_defaults(handler=sync)

    a = actions.add_parser("status", help="index, mapping version and sync counts")
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=status)


def _backend(ctx: Context) -> ElasticsearchBackend:
    if not ctx.config.section("index")["url"]:
        raise ConfigError(
            "no Elasticsearch configured: set index.url in newsmon.toml or NEWSMON_INDEX_URL"
            " (e.g. http://localhost:9200)"
        )
    from search.elastic import ElasticsearchBackend

    backend = ctx.backend
    if not isinstance(backend, ElasticsearchBackend):
        raise ConfigError(
            "no Elasticsearch configured: set index.url in newsmon.toml or NEWSMON_INDEX_URL"
            " (e.g. http://localhost:9200)"
        )
    return backend


def init(args: argparse.Namespace, ctx: Context) -> int:
    result = _backend(ctx).init_index()
    print(f"{result['alias']} -> {result['index']}: {result['action']}", file=ctx.out)
    return 0


def migrate_command(args: argparse.Namespace, ctx: Context) -> int:
    from search.elastic_sync import migrate

    backend = _backend(ctx)
    result = migrate(ctx.store, backend, keep_old=args.keep_old,
                     batch_size=int(ctx.config.section("index")["bulk_size"]))
    if result.get("old") is None:
        print(f"{result['alias']} -> {result['index']}: {result['action']}", file=ctx.out)
        return 0
    print(
        f"{result['alias']}: {result['old']} -> {result['index']}; copied {result['copied']},"
        f" pushed from the store {result['pushed']}, quarantined {result['quarantined']};"
        f" old index {'deleted' if result['old_deleted'] else 'kept'}",
        file=ctx.out,
    )
    return 0


def sync(args: argparse.Namespace, ctx: Context) -> int:
    from search.elastic_sync import ALL_STATES, pending_count, sync_pending

    backend = _backend(ctx)
    backend.init_index()
    states: tuple[str, ...] = ("pending",)
    if args.all:
        states = ALL_STATES
    elif args.retry_quarantined:
        states = ("pending", "quarantined")
    batch = args.batch_size or int(ctx.config.section("index")["bulk_size"])
    report = sync_pending(ctx.store, backend, batch, states=states)
    left = pending_count(ctx.store)
    print(_summary(report, left), file=ctx.out)
    from search.elastic_statements import StatementIndex

    pushed = StatementIndex(backend).push(ctx.store, batch)
    print(f"statements: {pushed.written} indexed, {pushed.deleted} deleted,"
          f" {len(pushed.rejected)} rejected", file=ctx.out)
    for article_id, error in list(report.quarantined.items())[:10]:
        print(f"  quarantined {article_id}: {error}", file=ctx.out)
    if len(report.quarantined) > 10:
        print(f"  ... and {len(report.quarantined) - 10} more (newsmon index status)", file=ctx.out)
    return 1 if left else 0


def _summary(report: SyncReport, left: int) -> str:
    return (
        f"indexed {report.indexed}, unchanged {report.unchanged},"
        f" quarantined {len(report.quarantined)}, refused for now {len(report.temporary)};"
        f" {left} still pending"
    )


def status(args: argparse.Namespace, ctx: Context) -> int:
    from search.elastic_sync import ALL_STATES

    backend = _backend(ctx)
    states = ctx.store.stats()["index_state"]
    quarantined = ctx.store.quarantined_examples(5)
    report = {"store": {state: states.get(state, 0) for state in ALL_STATES}}
    report["elasticsearch"] = backend.status()
    if args.json:
        report["quarantined_examples"] = quarantined
        print(json.dumps(report, ensure_ascii=False), file=ctx.out)
        return 0
    es = report["elasticsearch"]
    print(f"elasticsearch {es['url']} (server {es['server']})", file=ctx.out)
    print(f"  alias {es['alias']} -> {es['index'] or '-'}: {es['state']}", file=ctx.out)
    if es.get("index"):
        print(f"  documents {es['documents']}, mapping version {es['live_mapping_version']}"
              f" (this newsmon: {es['mapping_version']})", file=ctx.out)
    store = report["store"]
    print(f"store: {store['synced']} synced, {store['pending']} pending,"
          f" {store['quarantined']} quarantined", file=ctx.out)
    for article_id, error in quarantined.items():
        print(f"  quarantined {article_id}: {error}", file=ctx.out)
    return 0
