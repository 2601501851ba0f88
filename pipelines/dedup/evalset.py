"""The labeled deduplication set, and pairwise precision/recall of story assignment on it.

Sources are hand-written articles, one TOML file per event (``tests/data/dedup_eval``). Each
source article is republished deterministically as an exact copy and as near copies (outlet
boilerplate, a cut last paragraph, a new headline, light edits, all of them combined). Every pair
of items is labeled: same event or not, and why (exact, near, cross_language, same_language;
different-event, distractor).

The set has two parts (``part`` in each file): ``tune`` (the e* files), on which the thresholds
were chosen, and ``gate`` (the g* files), written afterwards and held back: the quality gate's
targets apply to it. Run ``python -m pipelines.dedup.evalset tests/data/dedup_eval`` to print
the scores and margins of both parts, ``--items`` to write the labeled items as JSON lines,
``--record FILE`` to store the scores as the baseline the quality gate
(tests/test_dedup_quality.py) compares with.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import tempfile
import tomllib
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.dedup.engine import Deduplicator
from pipelines.dedup.options import DedupOptions
from search.article import Article, Translation
from search.errors import ConfigError

VARIANTS = ("original", "exact", "boilerplate", "cut", "headline", "edits", "combined")

_BOILERPLATE = {
    "ru": (
        "Подписывайтесь на наш Telegram-канал, чтобы первыми узнавать главные новости.",
        "Читайте также: как устроена система исполнения наказаний в России.",
        "Материал перепечатан с разрешения редакции.",
    ),
    "en": (
        "Sign up for our morning newsletter to get the day's top stories in your inbox.",
        "Read more: how Russia's prison system works.",
        "This article was republished with permission.",
    ),
    "nb": (
        "Abonner på nyhetsbrevet vårt og få dagens viktigste saker rett i innboksen.",
        "Les også: slik fungerer fengselssystemet i Russland.",
        "Saken er publisert med tillatelse.",
    ),
}
_REPUBLISHERS = {"exact": "mirror", "boilerplate": "aggregator", "cut": "wire",
                 "headline": "portal", "edits": "digest", "combined": "reposter"}


@dataclass
class Source:
    event: str
    key: str  # language key inside the event file
    outlet: str
    language: str
    published: str
    url: str
    title: str
    body: str
    pivot_title: str = ""
    pivot_body: str = ""
    part: str = "tune"
    distractor_of: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.event}/{self.key}"


@dataclass
class Item:
    """One article of the labeled set."""

    name: str  # event/key/variant
    event: str
    source: str  # event/key of the hand-written article it derives from
    variant: str
    article: Article
    part: str = "tune"
    distractor_of: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "event": self.event, "source": self.source,
                "variant": self.variant, "article": self.article.to_dict()}


@dataclass
class Report:
    items: int = 0
    pairs: int = 0
    true_positives: int = 0
    false_positives: int = 0
    positives: Counter = field(default_factory=Counter)  # labeled same-story pairs per category
    found: Counter = field(default_factory=Counter)  # ... of which assigned one story
    false_merges: list[tuple[str, str]] = field(default_factory=list)
    missed: list[tuple[str, str, str]] = field(default_factory=list)
    negatives: Counter = field(default_factory=Counter)  # labeled different-event pairs per kind
    wrong: Counter = field(default_factory=Counter)  # ... of which assigned one story
    margins: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        decided = self.true_positives + self.false_positives
        return self.true_positives / decided if decided else 1.0

    def recall(self, category: str | None = None) -> float:
        if category is None:
            total, hit = sum(self.positives.values()), sum(self.found.values())
        else:
            total, hit = self.positives[category], self.found[category]
        return hit / total if total else 1.0

    def scores(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "pairs": self.pairs,
            "precision": round(self.precision, 4),
            "recall": round(self.recall(), 4),
            "recall_by_kind": {k: round(self.recall(k), 4) for k in sorted(self.positives)},
            "positive_pairs": dict(sorted(self.positives.items())),
            "negative_pairs": dict(sorted(self.negatives.items())),
            "false_merges": len(self.false_merges),
            "false_merges_by_kind": {k: self.wrong[k] for k in sorted(self.negatives)},
        }


PARTS = ("tune", "gate")


def load_sources(directory: str | Path, part: str | None = None) -> list[Source]:
    """The sources of one part of the set (``tune`` or ``gate``), or of both."""
    if part is not None and part not in PARTS:
        raise ConfigError(f"unknown part {part!r} of the evaluation set (use one of {PARTS})")
    sources = []
    files = sorted(Path(directory).glob("*.toml"))
    if not files:
        raise ConfigError(f"no evaluation sources (*.toml) in {directory}")
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            file_part = data.get("part", "tune")
            if file_part not in PARTS:
                raise ConfigError(f"{path}: part must be one of {PARTS}, got {file_part!r}")
            if part is not None and file_part != part:
                continue
            for entry in data["article"]:
                pivot = entry.get("pivot", {})
                sources.append(Source(
                    event=data["event"], key=entry["key"], outlet=entry["outlet"],
                    language=entry["language"], published=entry["published"], url=entry["url"],
                    title=entry["title"], body=entry["body"].strip(),
                    pivot_title=pivot.get("title", ""), pivot_body=pivot.get("body", "").strip(),
                    part=file_part, distractor_of=tuple(data.get("distractor_of", ())),
                ))
        except (KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: not a valid evaluation source: {exc!r}") from None
    return sources


def build_items(sources: list[Source], *, translations: bool, pivot: str = "en") -> list[Item]:
    """Every source article and its copies, in publication order."""
    items = []
    for source in sources:
        for n, variant in enumerate(VARIANTS):
            rng = random.Random(zlib.crc32(f"{source.name}/{variant}".encode()))
            title, body = _transform(source, variant, rng)
            pivot_title, pivot_body = source.pivot_title, source.pivot_body
            if variant in ("cut", "combined") and pivot_body:
                pivot_body = _cut(pivot_body)
            url = source.url if variant == "original" else (
                f"https://{_REPUBLISHERS[variant]}.example/{source.language}/"
                f"{source.url.rsplit('/', 1)[-1]}-{variant}"
            )
            published = datetime.fromisoformat(source.published) + timedelta(hours=n)
            article = Article(
                canonical_url=url,
                outlet=source.outlet if variant == "original" else _REPUBLISHERS[variant],
                title=title,
                body=body,
                language=source.language,
                published=published.strftime("%Y-%m-%dT%H:%M:%SZ"),
                translations=[
                    Translation(target=pivot, status="done", title=pivot_title, body=pivot_body,
                                model="hand-written", source_language=source.language)
                ] if translations and pivot_body and source.language != pivot else [],
            )
            items.append(Item(f"{source.name}/{variant}", source.event, source.name, variant,
                              article, source.part, source.distractor_of))
    items.sort(key=lambda item: (item.article.published, item.name))
    return items


POSITIVE = ("exact", "near", "cross_language", "same_language")


def label(a: Item, b: Item) -> str:
    """Why two items are (not) the same story: exact | near | cross_language | same_language
    (two outlets' own write-ups in one language) | distractor (a different event chosen to
    share the spokesman, the body and the region) | different-event."""
    if a.event != b.event:
        if a.event in b.distractor_of or b.event in a.distractor_of:
            return "distractor"
        return "different-event"
    if a.source != b.source:
        if a.article.language != b.article.language:
            return "cross_language"
        return "same_language"
    if {a.variant, b.variant} == {"original", "exact"}:
        return "exact"
    return "near"


def evaluate(items: list[Item], options: DedupOptions, workdir: str | Path) -> Report:
    """Run every item through story assignment and the store, then score all pairs."""
    from search.store import SQLiteStore

    store = SQLiteStore(Path(workdir) / "dedup-eval.sqlite3")
    trace: list = []
    try:
        dedup = Deduplicator(store, options)
        for item in items:
            dedup.assign(item.article)
            store.upsert([item.article])
        dedup.trace = trace
        dedup.settle(dedup.index.all_docs())  # the final judgement of every pair (margins)
        story = {}
        for item in items:
            stored = store.article_for_url(item.article.canonical_url)
            if stored is None:
                raise RuntimeError(f"evaluation article {item.name} was not stored")
            article_id, story_id = stored
            story[item.name] = dedup.resolve(story_id or article_id)
    finally:
        store.close()
    report = Report(items=len(items))
    for a, b in itertools.combinations(items, 2):
        report.pairs += 1
        kind = label(a, b)
        same = story[a.name] == story[b.name]
        if kind not in POSITIVE:
            report.negatives[kind] += 1
            if same:
                report.wrong[kind] += 1
                report.false_positives += 1
                report.false_merges.append((a.name, b.name))
            continue
        report.positives[kind] += 1
        if same:
            report.found[kind] += 1
            report.true_positives += 1
        else:
            report.missed.append((kind, a.name, b.name))
    report.margins = margins(items, trace, options)
    return report


def margins(items: list[Item], trace: list, options: DedupOptions) -> dict[str, dict[str, Any]]:
    """Per way of linking: the weakest agreement of a same-event pair that passes the other
    conditions, the strongest of a different-event pair, and the threshold between them."""
    from pipelines.dedup.engine import Deduplicator

    event = {item.article.id: item for item in items}
    last = {frozenset((j.a, j.b)): j for j in trace}
    paths = {
        "translation": (options.cross_signals_min, lambda j: j.overlap is not None
                        and j.overlap >= options.cross_threshold),
        "signals": (options.signal_threshold,
                    lambda j: j.gap <= options.signal_window_hours * 3600),
    }
    out: dict[str, dict[str, Any]] = {}
    for path, (threshold, eligible) in paths.items():
        same, other = [], []
        for j in last.values():
            a, b = event.get(j.a), event.get(j.b)
            if a is None or b is None or a.source == b.source:
                continue
            if j.rare < Deduplicator.min_shared_signals or not eligible(j):
                continue
            (same if a.event == b.event else other).append(j.agreement)
        out[path] = {
            "threshold": threshold,
            "weakest_same_event": round(min(same), 3) if same else None,
            "strongest_other_event": round(max(other), 3) if other else None,
            "same_event_pairs_below": sum(1 for v in same if v < threshold),
        }
    return out


def run(directory: str | Path, options: DedupOptions, part: str | None = None
        ) -> dict[str, Report]:
    """Both scenarios: with translations into the pivot language, and with none."""
    sources = load_sources(directory, part)
    reports = {}
    for scenario, translations in (("with_translations", True), ("without_translations", False)):
        with tempfile.TemporaryDirectory(prefix="newsmon-dedup-eval-") as workdir:
            items = build_items(sources, translations=translations, pivot=options.pivot)
            reports[scenario] = evaluate(items, options, workdir)
    return reports


# -- transformations ------------------------------------------------------------------------
def _transform(source: Source, variant: str, rng: random.Random) -> tuple[str, str]:
    title, body = source.title, source.body
    if variant in ("boilerplate", "combined"):
        body = _boilerplate(body, source.language)
    if variant in ("cut", "combined"):
        body = _cut(body)
    if variant in ("headline", "combined"):
        title = _headline(source.body)
    if variant == "edits":
        body = _edit(body, rng, share=0.06)
    if variant == "combined":
        body = _edit(body, rng, share=0.04)
    return title, body


def _paragraphs(body: str) -> list[str]:
    return [p.strip() for p in body.split("\n\n") if p.strip()]


def _boilerplate(body: str, language: str) -> str:
    lines = _BOILERPLATE.get(language, _BOILERPLATE["en"])
    return "\n\n".join([lines[0], *_paragraphs(body), lines[1], lines[2]])


def _cut(body: str) -> str:
    """Drop the last paragraph, as republishers trimming a wire copy do."""
    paragraphs = _paragraphs(body)
    return "\n\n".join(paragraphs[:-1] if len(paragraphs) > 2 else paragraphs)


def _headline(body: str) -> str:
    first = _paragraphs(body)[0].split(". ")[0].split()
    return " ".join(first[:9]).rstrip(",.:;") + "…"


def _edit(body: str, rng: random.Random, share: float) -> str:
    """Light copy-editing: drop a word, swap two letters, double a word, in ``share`` of words."""
    out = []
    for paragraph in _paragraphs(body):
        words = paragraph.split(" ")
        edited = []
        for word in words:
            if rng.random() >= share or len(word) < 4:
                edited.append(word)
                continue
            action = rng.choice(("drop", "swap", "double"))
            if action == "swap":
                i = rng.randrange(1, len(word) - 2)
                edited.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
            elif action == "double":
                edited.extend((word, word))
            # drop: nothing
        out.append(" ".join(edited))
    return "\n\n".join(out)


# -- command line ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.dedup.evalset", description=__doc__)
    parser.add_argument("sources", help="folder of event TOML files (tests/data/dedup_eval)")
    parser.add_argument("--items", metavar="FILE", help="write the labeled items as JSON lines")
    parser.add_argument("--record", metavar="FILE", help="write the scores as the new baseline")
    parser.add_argument("--missed", action="store_true", help="list missed and false pairs")
    parser.add_argument("--part", choices=PARTS, help="only this part (default: each)")
    args = parser.parse_args(argv)
    options = DedupOptions.defaults()
    parts = [args.part] if args.part else list(PARTS)
    if args.items:
        sources = load_sources(args.sources, args.part)
        with open(args.items, "w", encoding="utf-8") as out:
            for translations in (True, False):
                for item in build_items(sources, translations=translations):
                    row = {"translations": translations, **item.to_dict()}
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
    reports = {part: run(args.sources, options, part) for part in parts}
    scores = {part: {name: report.scores() for name, report in by_scenario.items()}
              for part, by_scenario in reports.items()}
    print(json.dumps(scores, indent=2))
    for part, by_scenario in reports.items():
        for name, report in by_scenario.items():
            print(f"margins {part}/{name}: {json.dumps(report.margins)}")
            if args.missed:
                for pair in report.false_merges:
                    print(f"{part}/{name}: FALSE MERGE {pair[0]} ~ {pair[1]}")
                for kind, a, b in report.missed:
                    print(f"{part}/{name}: missed {kind}: {a} ~ {b}")
    if args.record:
        Path(args.record).write_text(json.dumps(scores, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
