"""Quality gate of the statements stage: mentions and (speaker, statement) pairs per language.

Thresholds were chosen on tune.toml; this gates on gate.toml, which was never tuned on.
The baseline (tests/data/statements_baseline.json) records the gate's first measurement.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.config import DEFAULTS
from pipelines.statements.actors import load_actors
from pipelines.statements.engine import StatementEngine
from pipelines.statements.evaluation import load_items, load_spellings, score, summary, sweep

DATA = Path(__file__).parent / "data"
EVAL = DATA / "statements_eval"
BASELINE = json.loads((DATA / "statements_baseline.json").read_text(encoding="utf-8"))
TARGETS = {"mentions_precision": 0.95, "mentions_recall": 0.90,
           "statements_precision": 0.90, "statements_recall": 0.75}


@pytest.fixture(scope="module")
def engine() -> StatementEngine:
    return StatementEngine(load_actors().values(),
                           fuzzy_threshold=DEFAULTS["statements"]["fuzzy_threshold"])


@pytest.fixture(scope="module")
def gate(engine) -> dict[str, dict[str, float]]:
    return summary(score(engine, load_items(EVAL / "gate.toml")))


@pytest.mark.parametrize("language", ["ru", "en", "nb", "all"])
def test_gate_scores_do_not_drop_below_the_baseline(gate, language):
    for metric, recorded in BASELINE["gate"][language].items():
        assert gate[language][metric] >= recorded - 1e-9, (language, metric, gate[language])


def test_gate_meets_the_targets_overall(gate):
    for metric, target in TARGETS.items():
        assert gate["all"][metric] >= target, (metric, gate["all"])


def test_the_gate_set_has_every_language_and_distractors():
    items = load_items(EVAL / "gate.toml")
    assert {i.language for i in items} == {"ru", "en", "nb"}
    assert sum(1 for i in items if i.mentions and not i.statements) >= 6  # named, not speaking
    assert not {i.id for i in items} & {i.id for i in load_items(EVAL / "tune.toml")}


def test_the_default_fuzzy_threshold_is_the_best_measured_on_the_tuning_part(engine):
    results = sweep(engine, load_items(EVAL / "tune.toml"), load_spellings(EVAL / "tune.toml"))
    best = max(results, key=lambda r: (round(r[1].f1, 6), r[0]))
    assert best[0] == DEFAULTS["statements"]["fuzzy_threshold"], [
        (t, round(s.f1, 3)) for t, s, _ in results]
