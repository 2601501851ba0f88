"""Benchmark: newsmon's extraction against plain trafilatura on real pages, in the same run.

    python benchmarks/bench_extract.py                  # the whole devset
    python benchmarks/bench_extract.py --half tune      # only the tuning half
    python benchmarks/bench_extract.py --worst 15       # more per-page worst cases

Reads ``../shared/devset/news-pages`` (relative to the repository root; ``$NEWSMON_DEVSET``
or ``--devset`` point elsewhere).
Scores body precision/recall/F1 over word shingles, title exact, date same day, authors
found, language, pages dropped, and pages/s for newsmon and for trafilatura (default and
favor_precision, with metadata; the cost of plain ``trafilatura.extract``, text only, too),
extractors taking turns page by page, then prints newsmon's worst pages and the pages newsmon
drops that trafilatura extracts 100+ words from.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.normalize.evaluation import (
    devset_root,
    evaluate_timed,
    load_devset,
    newsmon_extractor,
    plain_trafilatura,
    summary,
    tokens,
    trafilatura_extractor,
)

COLUMNS = ["body_precision", "body_recall", "body_f1", "title", "date", "authors", "language",
           "dropped"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devset", type=Path, default=devset_root(ROOT))
    parser.add_argument("--half", choices=["all", "tune", "gate"], default="all")
    parser.add_argument("--worst", type=int, default=10)
    args = parser.parse_args()

    pages = [p for p in load_devset(args.devset) if args.half in ("all", p.half)]
    runs = {
        "newsmon": newsmon_extractor(),
        "trafilatura default": trafilatura_extractor(),
        "trafilatura favor_precision": trafilatura_extractor(favor_precision=True),
    }
    evaluate_timed(pages[:5], {**runs, "plain": plain_trafilatura})  # warm up lazy imports
    results = evaluate_timed(pages, {**runs, "trafilatura.extract, text only": plain_trafilatura})

    print(f"{len(pages)} pages ({args.half})")
    print(f"{'':32}" + "".join(f"{c:>15}" for c in COLUMNS) + f"{'pages/s':>10}")
    for name, (scores, _outputs, spent) in results.items():
        figures = summary(scores)
        cells = "".join(f"{figures[c]:>15}" for c in COLUMNS) if name in runs else " " * 15 * len(COLUMNS)
        print(f"{name:32}" + cells + f"{len(pages) / spent:>10.1f}")
    ours = results["newsmon"][2]
    for name in list(results)[1:]:
        print(f"cost of newsmon / {name}: {ours / results[name][2]:.2f}x")
    best = max(summary(results[n][0])["body_f1"] for n in list(runs)[1:])
    print(f"newsmon body F1 minus trafilatura's best: {summary(results['newsmon'][0])['body_f1'] - best:+.4f}")

    scores, outputs, _ = results["newsmon"]
    trafilatura = {name: results[name] for name in list(runs)[1:]}
    print(f"\nnewsmon's {args.worst} worst pages by body F1 (vs trafilatura default):")
    default_scores = {s.id: s for s in trafilatura["trafilatura default"][0]}
    for s in sorted(scores, key=lambda s: s.f1)[:args.worst]:
        print(f"  {s.id:40} F1 {s.f1:.3f} P {s.precision:.3f} R {s.recall:.3f}"
              f"  traf {default_scores[s.id].f1:.3f}  {s.dropped}")
    print("\nmetadata misses (newsmon): title / date / authors")
    by_id = {p.id: p for p in pages}
    for s, out in zip(scores, outputs):
        page = by_id[s.id]
        if not s.title:
            print(f"  title   {s.id:40} {out.title[:60]!r} != {page.title[:60]!r}")
        if not s.date:
            print(f"  date    {s.id:40} {out.published} != {page.published}")
        if s.authors is not None and s.authors < 1:
            print(f"  authors {s.id:40} {out.authors} != {page.authors}")
        if not s.language:
            print(f"  lang    {s.id:40} {out.language} != {page.language}")
    print("\npages newsmon drops that trafilatura extracts 100+ words from:")
    for name, (_s, traf_outputs, _t) in trafilatura.items():
        for page, ours_out, theirs in zip(pages, outputs, traf_outputs):
            if ours_out.dropped and theirs.body and len(tokens(theirs.body)) >= 100:
                print(f"  {page.id:40} {ours_out.dropped:12} ({name}: {len(tokens(theirs.body))} words)")


if __name__ == "__main__":
    main()
