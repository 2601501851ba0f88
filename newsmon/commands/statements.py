"""``newsmon actors``, ``newsmon statements ACTOR|rebuild``: who said what, with sources."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from newsmon.context import Context
from newsmon.render import as_json, one_line, write_csv
from search.errors import NotFound, QueryError

CSV_COLUMNS = ["statement_id", "speaker", "speaker_name", "first_published", "kind", "text",
               "translation", "outlet", "language", "published", "first_report", "article_id",
               "url", "paragraph", "start", "end"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("actors", help="the watched actors (bundled and your own folders)")
    p.add_argument("--json", action="store_true", help="JSON Lines")
    p.set_defaults(handler=actors)

    p = subparsers.add_parser(
        "statements", help="an actor's statements in time order with their sources;"
                           " `statements rebuild` re-reads every stored article")
    p.add_argument("actor", metavar="ACTOR|rebuild",
                   help="actor id or name (see `newsmon actors`), or `rebuild`")
    p.add_argument("--since", metavar="DATE", help="first reported on or after (YYYY-MM-DD)")
    p.add_argument("--story", metavar="ID", help="only statements carried by this story")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON Lines, one statement a line")
    fmt.add_argument("--csv", action="store_true", help="CSV, one report a row")
    p.set_defaults(handler=statements)


def engine_for(ctx: Context):
    from pipelines.statements.engine import StatementEngine, StatementOptions

    values = ctx.config.section("statements")
    return StatementEngine.from_options(StatementOptions(
        actor_dirs=tuple(str(d) for d in ctx.config.actor_dirs),
        fuzzy_threshold=float(values["fuzzy_threshold"]),
        pivot=ctx.config.section("translate")["pivot"],
    ))


def actors(args: argparse.Namespace, ctx: Context) -> int:
    engine = engine_for(ctx)
    from pipelines.statements.engine import RESPONSE_ORDER

    rows = sorted(engine.actors.values(), key=lambda a: (RESPONSE_ORDER.get(a.kind, 3), a.id))
    if args.json:
        for a in rows:
            print(as_json({"id": a.id, "kind": a.kind, "name": a.name, "parent": a.parent,
                           "names": a.names, "roles": a.roles, "source": str(a.source)}),
                  file=ctx.out)
        return 0
    width = max(len(a.id) for a in rows)
    for a in rows:
        names = sorted({n for values in a.names.values() for n in values})
        parent = f"  (part of {a.parent})" if a.parent else ""
        print(f"{a.id.ljust(width)}  {a.kind:<8}  {one_line(a.name)}{parent}", file=ctx.out)
        print(f"{'':{width}}  {'':8}  names: {one_line(', '.join(names))}", file=ctx.out)
    print(f"{len(rows)} actors", file=ctx.out)
    return 0


def statements(args: argparse.Namespace, ctx: Context) -> int:
    if args.actor == "rebuild":
        return rebuild(args, ctx)
    engine = engine_for(ctx)
    actor_id = resolve_actor(engine, args.actor)
    since = _date(args.since) if args.since else None
    story_id = None
    if args.story:
        ctx.store.dedup_index()  # a store that never ran dedup has no story tables yet
        story_id = ctx.store.resolve_story(args.story)
        if story_id is None:
            raise NotFound(f"no story or article with id {args.story}")
    found = statement_source(ctx).statements_for_actor(actor_id, since=since, story_id=story_id)
    if args.json:
        for s in found:
            print(as_json(s), file=ctx.out)
        return 0
    if args.csv:
        write_csv(ctx.out, (row for s in found for row in csv_rows(s)), CSV_COLUMNS)
        return 0
    actor = engine.actors[actor_id]
    print(f"{actor.name} ({actor.id}, {actor.kind}): {len(found)} statements", file=ctx.out)
    for s in found:
        print("\n".join(statement_lines(s)), file=ctx.out)
    return 0


def resolve_actor(engine, text: str) -> str:
    """An actor id, or the one actor a name or role names (any language, any case form)."""
    if text in engine.actors:
        return text
    ids = {a for lang in ("en", "ru", "nb", "uk") for a in engine.mentions(text, lang)}
    if len(ids) == 1:
        return ids.pop()
    if ids:
        raise QueryError(f"'{text}' names several actors: {', '.join(sorted(ids))}")
    raise NotFound(f"no watched actor '{text}' (see `newsmon actors`)")


def statement_lines(s: dict[str, Any], indent: str = "  ") -> list[str]:
    when = (s["first_published"] or "")[:16].replace("T", " ")
    lines = [f"{indent}{when}  {one_line(s['text'])}"]
    for r in s["reports"]:
        first = "first " if r["first_report"] else ""
        lines.append(f"{indent}    {first}{r['kind']}: {r['outlet']} · {r['language'] or '?'}"
                     f" · {(r['published'] or '')[:10]} · {one_line(r['url'])}")
        if r["translation"] and r["translation"] != r["text"]:
            lines.append(f"{indent}      [translation] {one_line(r['translation'])}")
    return lines


def csv_rows(s: dict[str, Any]):
    for r in s["reports"]:
        yield {"statement_id": s["id"], "speaker": s["speaker_actor"] or s["speaker_name"],
               "speaker_name": r["speaker_name"], "first_published": s["first_published"],
               **{k: r[k] for k in ("kind", "text", "translation", "outlet", "language",
                                    "published", "first_report", "article_id", "url",
                                    "paragraph", "start", "end")}}


def statement_source(ctx: Context):
    """Where statements are read: Elasticsearch when ``index.url`` is set, else the store."""
    if ctx.config.section("index")["url"]:
        from search.elastic_statements import StatementIndex

        return StatementIndex(ctx.backend)
    return ctx.store


def responses(ctx: Context, story_id: str) -> list[dict[str, Any]]:
    """Who responded to a story (see ``StatementEngine.responses``)."""
    return engine_for(ctx).responses(statement_source(ctx), story_id)


def response_lines(entries: list[dict[str, Any]]) -> list[str]:
    lines = []
    for e in entries:
        outlets = sorted({r["outlet"] for s in e["statements"] for r in s["reports"]})
        languages = sorted({r["language"] for s in e["statements"] for r in s["reports"]
                            if r["language"]})
        lines.append(f"{one_line(e['name'])} [{e['kind']}]: {len(e['statements'])} statements"
                     f" in {', '.join(outlets)} ({', '.join(languages)})")
        for s in e["statements"]:
            lines.extend(statement_lines(s, indent="  "))
    return lines


def rebuild(args: argparse.Namespace, ctx: Context) -> int:
    engine = engine_for(ctx)
    articles, reports = engine.rebuild(ctx.store)
    print(f"rebuilt statements: {articles} articles, {reports} reports, "
          f"{len(engine.actors)} watched actors", file=ctx.out)
    return 0


def _date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise QueryError(f"not a date (YYYY-MM-DD): {value}") from None
