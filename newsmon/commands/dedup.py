"""``newsmon story ID`` and ``newsmon dedup rebuild|update``: look at and maintain stories."""

from __future__ import annotations

import argparse
import sys

from newsmon.context import Context
from newsmon.render import as_json, one_line
from search.errors import NotFound


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "story", help="the articles of one story (every outlet and language that carried it)"
    )
    p.add_argument("id", help="story id from search results (an old, merged id still works),"
                              " or an article id")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--responses", action="store_true",
                   help="who responded to the story (officials first, by first report)")
    p.set_defaults(handler=story)

    p = subparsers.add_parser("dedup", help="maintain the story index (deduplication)")
    sub = p.add_subparsers(dest="dedup_command", metavar="ACTION", required=True)
    r = sub.add_parser("rebuild", help="recompute every story from the stored articles"
                                       " (after changing [dedup] settings); ids are kept")
    r.set_defaults(handler=rebuild)
    u = sub.add_parser("update", help="cluster stored articles the index lacks, and those"
                                      " whose translation arrived after the crawl")
    u.set_defaults(handler=update)


def _deduplicator(ctx: Context, *, rebuilding: bool = False):
    from pipelines.dedup import Deduplicator, DedupOptions

    return Deduplicator(ctx.store, DedupOptions.from_config(ctx.config), rebuilding=rebuilding)


def story(args: argparse.Namespace, ctx: Context) -> int:
    store = ctx.store
    store.dedup_index()  # a store that never ran dedup has no story tables yet
    story_id = store.resolve_story(args.id)
    if story_id is None:
        raise NotFound(f"no story or article with id {args.id}")
    members = store.story_members(story_id)
    if not members:
        raise NotFound(f"story {story_id} has no stored articles")
    outlets = sorted({m["outlet"] for m in members})
    languages = sorted({m["language"] for m in members if m["language"]})
    if args.responses:
        from newsmon.commands.statements import response_lines, responses

        entries = responses(ctx, story_id)
        if args.json:
            print(as_json({"story_id": story_id, "responses": entries}), file=ctx.out)
            return 0
        print(f"story {story_id}: responses from {len(entries)} speakers", file=ctx.out)
        print("\n".join(response_lines(entries)), file=ctx.out)
        return 0
    if args.json:
        print(as_json({
            "story_id": story_id, "requested_id": args.id, "size": len(members),
            "outlets": outlets, "languages": languages, "members": members,
        }), file=ctx.out)
        return 0
    out = ctx.out
    if story_id != args.id:
        if any(m["id"] == args.id for m in members):
            print(f"article {args.id} belongs to story {story_id}", file=out)
        else:
            print(f"story {args.id} was merged into story {story_id}", file=out)
    print(f"story {story_id}: {len(members)} articles, {len(outlets)} outlets"
          f" ({', '.join(outlets)}), languages {', '.join(languages) or '-'}", file=out)
    rows = [("published", "lang", "outlet", "title / url")]
    for m in members:
        rows.append(((m["published"] or "")[:16], m["language"] or "-", m["outlet"],
                     one_line(m["title"])))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  "
              + row[3], file=out)
        if n:
            for url in members[n - 1]["urls"]:
                print(" " * (sum(widths) + 6) + one_line(url), file=out)
    return 0


def rebuild(args: argparse.Namespace, ctx: Context) -> int:
    dedup = _deduplicator(ctx, rebuilding=True)  # (after a change of settings, too)
    progress = _progress(ctx, ctx.store.count())
    report = dedup.rebuild(progress=progress)
    if progress:
        print(file=ctx.err)
    print(f"rebuilt: {report.articles} articles in {report.stories} stories;"
          f" {report.kept_ids} stories kept their id, {report.aliased_ids} old ids now point"
          f" to another story; {report.changed_articles} articles changed story", file=ctx.out)
    return 0


def update(args: argparse.Namespace, ctx: Context) -> int:
    dedup = _deduplicator(ctx)
    progress = _progress(ctx, 0)
    outcomes = dedup.update(progress=progress)
    if progress:
        print(file=ctx.err)
    done = sum(v for k, v in outcomes.items() if k != "settled")
    detail = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "nothing to do"
    print(f"clustered {done} articles: {detail}", file=ctx.out)
    return 0


def _progress(ctx: Context, total: int):
    """Progress on stderr, every 1000 articles, only on a terminal."""
    err = ctx.err
    if not (hasattr(err, "isatty") and err.isatty()):
        return None

    def report(n: int) -> None:
        if n % 1000 == 0:
            suffix = f"/{total}" if total else ""
            print(f"\r{n}{suffix} articles", end="", file=err)
            if err is sys.stderr:
                err.flush()

    return report
