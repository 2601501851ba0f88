"""Quality gate for story clustering: pairwise precision and recall on the labeled set.

The set is built by pipelines/dedup/evalset.py from the hand-written sources in
tests/data/dedup_eval; the scores may not drop below tests/data/dedup_baseline.json (recorded with
``python -m pipelines.dedup.evalset tests/data/dedup_eval --record tests/data/dedup_baseline.json``)
nor below the project's targets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.dedup import DedupOptions
from pipelines.dedup.evalset import Report, build_items, label, load_sources, run
from pipelines.dedup.text import words

DATA = Path(__file__).parent / "data"
SOURCES = DATA / "dedup_eval"
BASELINE = json.loads((DATA / "dedup_baseline.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    return run(SOURCES, DedupOptions.defaults())


@pytest.mark.parametrize("scenario", ["with_translations", "without_translations"])
def test_scores_do_not_drop_below_the_baseline(reports: dict[str, Report], scenario: str):
    report, baseline = reports[scenario], BASELINE[scenario]
    scores = report.scores()
    assert scores["positive_pairs"] == baseline["positive_pairs"], "the labeled set changed:" \
        " re-record the baseline"
    assert report.precision >= baseline["precision"], report.false_merges[:10]
    for kind, recall in baseline["recall_by_kind"].items():
        assert report.recall(kind) >= recall, [m for m in report.missed if m[0] == kind][:10]
    assert len(report.false_merges) <= baseline["false_merges"]


@pytest.mark.parametrize("scenario", ["with_translations", "without_translations"])
def test_targets(reports: dict[str, Report], scenario: str):
    report = reports[scenario]
    assert report.precision >= 0.98
    assert report.recall("exact") == 1.0
    assert report.recall("near") >= 0.95
    assert report.false_merges == [], "different events on the same topic were merged"
    if scenario == "with_translations":
        assert report.recall("translation") >= 0.95


def test_the_labeled_set_has_every_kind_of_pair():
    items = build_items(load_sources(SOURCES), translations=True)
    kinds = {}
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            kinds[label(a, b)] = kinds.get(label(a, b), 0) + 1
    assert kinds["exact"] >= 20 and kinds["near"] >= 400 and kinds["translation"] >= 500
    assert kinds["different-event"] >= 10_000
    languages = {item.article.language for item in items}
    assert languages == {"ru", "en", "nb"}
    events = {item.event for item in items}
    assert len(events) >= 10  # all on one topic (prison torture videos): hard negatives


def test_copies_are_deterministic_and_do_what_they_claim():
    sources = load_sources(SOURCES)
    first = build_items(sources, translations=False)
    again = build_items(sources, translations=False)
    assert [i.article.to_dict() for i in first] == [i.article.to_dict() for i in again]
    by_name = {item.name: item.article for item in first}
    original = by_name["e01-leak/ru/original"]
    assert by_name["e01-leak/ru/exact"].body == original.body
    assert by_name["e01-leak/ru/exact"].canonical_url != original.canonical_url
    assert "Telegram" in by_name["e01-leak/ru/boilerplate"].body
    assert by_name["e01-leak/ru/cut"].body.count("\n\n") == original.body.count("\n\n") - 1
    assert by_name["e01-leak/ru/headline"].title != original.title
    edited = words(by_name["e01-leak/ru/edits"].body)
    assert edited != words(original.body)
    assert len(set(edited) & set(words(original.body))) >= 0.85 * len(set(words(original.body)))
    assert not by_name["e01-leak/ru/original"].translations  # this scenario has none
    with_translation = build_items(sources, translations=True)
    assert any(item.article.translations for item in with_translation)
