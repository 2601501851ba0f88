"""Score the statements engine on a labeled set: mentions and (speaker, statement) pairs.

The set is TOML (``tests/data/statements_eval/``): each item is a short invented passage with
the actors it mentions and the statements it carries. A found statement matches a labeled
one when the speaker is the same (actor id, or the name as written, compared after folding)
and its text contains the labeled phrase. ``python -m pipelines.statements.evaluation DIR``
prints the scores and the fuzzy-threshold sweep used to choose ``statements.fuzzy_threshold``.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.names import fold
from pipelines.statements.engine import StatementEngine


@dataclass
class Item:
    id: str
    language: str
    text: str
    mentions: frozenset[str]
    statements: list[tuple[str, str]]  # (speaker, phrase)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_items(path: Path) -> list[Item]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Item(i["id"], i["language"], i["text"].strip("\n"), frozenset(i.get("mentions", [])),
                 [(s["speaker"], s["contains"]) for s in i.get("statements", [])])
            for i in data["items"]]


def _squash(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _same_speaker(found: str, labeled: str) -> bool:
    return found == labeled or fold(found) == fold(labeled)


def score(engine: StatementEngine, items: list[Item]) -> dict[str, dict[str, Counts]]:
    """{language: {"mentions": Counts, "statements": Counts}}, plus "all"."""
    result: dict[str, dict[str, Counts]] = defaultdict(lambda: {"mentions": Counts(),
                                                                "statements": Counts()})
    for item in items:
        found, mentions = engine.extractor.extract(item.text, item.language)
        for key in (item.language, "all"):
            m = result[key]["mentions"]
            got = {x.actor for x in mentions}
            m.tp += len(got & item.mentions)
            m.fp += len(got - item.mentions)
            m.fn += len(item.mentions - got)
            if got != item.mentions and key == "all":
                m.errors.append(f"{item.id}: mentions {sorted(got)} != {sorted(item.mentions)}")
        unmatched = list(item.statements)
        tp = fp = 0
        wrong = []
        for f in found:
            hit = next((lab for lab in unmatched if _same_speaker(f.speaker, lab[0])
                        and _squash(lab[1]) in _squash(f.text)), None)
            if hit is None:
                fp += 1
                wrong.append(f"{item.id}: extra ({f.speaker!r}, {f.text[:70]!r})")
            else:
                unmatched.remove(hit)
                tp += 1
        for key in (item.language, "all"):
            s = result[key]["statements"]
            s.tp += tp
            s.fp += fp
            s.fn += len(unmatched)
            if key == "all":
                s.errors.extend(wrong)
                s.errors.extend(f"{item.id}: missed {lab!r}" for lab in unmatched)
    return dict(result)


def summary(scores: dict[str, dict[str, Counts]]) -> dict[str, dict[str, float]]:
    return {lang: {f"{what}_{m}": round(getattr(c, m), 4)
                   for what, c in parts.items() for m in ("precision", "recall")}
            for lang, parts in sorted(scores.items())}


def load_spellings(path: Path) -> list[tuple[str, str, str]]:
    """(word, language, actor or "") pairs that measure the fuzzy threshold."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [(w, s["language"], s["actor"]) for s in data.get("spellings", []) for w in s["words"]]


def spelling_counts(engine: StatementEngine, spellings: list[tuple[str, str, str]]) -> Counts:
    """A spelled word is a true positive when it finds its actor, a false one when it finds
    any actor it should not; Cyrillic misspellings labeled "" only count when they match."""
    counts = Counts()
    for word, language, actor in spellings:
        got = {m.actor for m in engine.index.find(word, language)}
        if actor and actor in got:
            counts.tp += 1
        elif actor:
            counts.fn += 1
            counts.errors.append(f"missed {word} -> {actor}")
        if got - {actor}:
            counts.fp += 1
            counts.errors.append(f"{word} -> {sorted(got)}")
    return counts


def sweep(engine: StatementEngine, items: list[Item], spellings: list[tuple[str, str, str]],
          thresholds=(50, 60, 65, 70, 75, 80, 85, 90, 95, 100)) -> list[tuple[float, Counts, Counts]]:
    """Spelling and mention scores per fuzzy threshold (100: only identical keys, i.e. off)."""
    saved = engine.index.fuzzy_threshold
    out = []
    for threshold in thresholds:
        engine.index.fuzzy_threshold = float(threshold)
        out.append((float(threshold), spelling_counts(engine, spellings),
                    score(engine, items)["all"]["mentions"]))
    engine.index.fuzzy_threshold = saved
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path, help="a labeled TOML file (tune.toml or gate.toml)")
    parser.add_argument("--sweep", action="store_true", help="mention scores per fuzzy threshold")
    parser.add_argument("--errors", action="store_true", help="list every miss and extra")
    args = parser.parse_args(argv)
    from pipelines.statements.actors import load_actors

    engine = StatementEngine(load_actors().values())
    items = load_items(args.file)
    scores = score(engine, items)
    for lang, values in summary(scores).items():
        print(lang, values)
    if args.errors:
        for what in ("mentions", "statements"):
            for error in scores["all"][what].errors:
                print(f"  {what}: {error}")
    if args.sweep:
        for threshold, spelled, counts in sweep(engine, items, load_spellings(args.file)):
            print(f"threshold {threshold:5.0f}: spellings P {spelled.precision:.3f}"
                  f" R {spelled.recall:.3f} F1 {spelled.f1:.3f} | mentions P"
                  f" {counts.precision:.3f} R {counts.recall:.3f} F1 {counts.f1:.3f}")


if __name__ == "__main__":
    main()
