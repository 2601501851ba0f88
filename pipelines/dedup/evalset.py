"""The labeled deduplication set, and pairwise precision/recall of story assignment on it.

Sources are hand-written articles, one TOML file per event (``tests/data/dedup_eval``). Each
source article is republished deterministically as an exact copy and as near copies (outlet
boilerplate, a cut last paragraph, a new headline, light edits, all of them combined). Every pair
of items is labeled: same event or not, and why (exact, near, translation, different-event).

Run ``python -m pipelines.dedup.evalset tests/data/dedup_eval`` to print the scores, ``--items``
to write the labeled items as JSON lines, ``--record FILE`` to store the scores as the baseline
the quality gate (tests/test_dedup_quality.py) compares with.
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
            "false_merges": len(self.false_merges),
        }


def load_sources(directory: str | Path) -> list[Source]:
    sources = []
    files = sorted(Path(directory).glob("*.toml"))
    if not files:
        raise ConfigError(f"no evaluation sources (*.toml) in {directory}")
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            for entry in data["article"]:
                pivot = entry.get("pivot", {})
                sources.append(Source(
                    event=data["event"], key=entry["key"], outlet=entry["outlet"],
                    language=entry["language"], published=entry["published"], url=entry["url"],
                    title=entry["title"], body=entry["body"].strip(),
                    pivot_title=pivot.get("title", ""), pivot_body=pivot.get("body", "").strip(),
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
                              article))
    items.sort(key=lambda item: (item.article.published, item.name))
    return items


def label(a: Item, b: Item) -> str:
    """Why two items are (not) the same story: exact | near | translation | different-event."""
    if a.event != b.event:
        return "different-event"
    if a.source != b.source:
        return "translation"
    if {a.variant, b.variant} == {"original", "exact"}:
        return "exact"
    return "near"


def evaluate(items: list[Item], options: DedupOptions, workdir: str | Path) -> Report:
    """Run every item through story assignment and the store, then score all pairs."""
    from search.store import SQLiteStore

    store = SQLiteStore(Path(workdir) / "dedup-eval.sqlite3")
    try:
        dedup = Deduplicator(store, options)
        for item in items:
            dedup.assign(item.article)
            store.upsert([item.article])
        dedup.settle()
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
        if kind == "different-event":
            if same:
                report.false_positives += 1
                report.false_merges.append((a.name, b.name))
            continue
        report.positives[kind] += 1
        if same:
            report.found[kind] += 1
            report.true_positives += 1
        else:
            report.missed.append((kind, a.name, b.name))
    return report


def run(directory: str | Path, options: DedupOptions) -> dict[str, Report]:
    """Both scenarios: with translations into the pivot language, and with none."""
    sources = load_sources(directory)
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
    args = parser.parse_args(argv)
    options = DedupOptions.defaults()
    if args.items:
        sources = load_sources(args.sources)
        with open(args.items, "w", encoding="utf-8") as out:
            for translations in (True, False):
                for item in build_items(sources, translations=translations):
                    row = {"translations": translations, **item.to_dict()}
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
    reports = run(args.sources, options)
    scores = {name: report.scores() for name, report in reports.items()}
    print(json.dumps(scores, indent=2))
    if args.missed:
        for name, report in reports.items():
            for pair in report.false_merges:
                print(f"{name}: FALSE MERGE {pair[0]} ~ {pair[1]}")
            for kind, a, b in report.missed:
                print(f"{name}: missed {kind}: {a} ~ {b}")
    if args.record:
        Path(args.record).write_text(json.dumps(scores, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
