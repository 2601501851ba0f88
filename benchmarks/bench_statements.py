"""Benchmark: the statements stage's cost per article, against the normalize stage, and with
1,000 more actors (it must stay flat in the number of actors).

    python benchmarks/bench_statements.py               # the mock site's pages, 20 rounds
    python benchmarks/bench_statements.py --rounds 5    # quicker

Pages are the bundled mock site's article pages (Russian, English, Norwegian; most carry
statements). The normalize stage is ``pipelines.normalize.page_to_article`` (decoding,
trafilatura, metadata) on each page; the statements stage is ``StatementEngine.store_article``
(mentions, quotes, speakers, translation alignment, matching and writing to a SQLite store)
on the resulting articles. Both are timed in the same run; the figures are per article and
the ratio statements / normalize. The engine is built fresh for each actor set; its word-key
cache warms up during the first round, which is reported apart ("cold").
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.items import PageItem
from newsmon.mocksite import ACTORS as DEMO_ACTORS
from newsmon.mocksite.server import MockSite
from pipelines.normalize.page import page_to_article
from pipelines.statements.actors import Actor, load_actors
from pipelines.statements.engine import StatementEngine
from search.store import SQLiteStore

LANGUAGES = {"ru": "ru", "en": "en", "nb": "nb"}
SYLLABLES_LATIN = ["ba", "ko", "ri", "ve", "tu", "lan", "mor", "sel", "dak", "vin", "por", "hes", "tal", "gur", "nik", "zem", "bal"]
SYLLABLES_CYRILLIC = ["ба", "ко", "ри", "ве", "ту", "лан", "мор", "сел", "дак", "вин", "пор", "хес", "тал", "гур", "ник", "зем", "бал"]


def pages() -> list[PageItem]:
    out = []
    for site in ("kolokol", "fjordposten"):
        mock = MockSite(site, faults=False)
        try:
            for spec in mock.listed():
                response = mock.article_page(spec)
                if response.status != 200:
                    continue
                out.append(PageItem(
                    url=mock.url + spec.path, outlet=site, edition=spec.edition,
                    edition_language=LANGUAGES.get(spec.edition, spec.edition), status=200,
                    body=response.body, content_type=response.ctype))
        finally:
            mock.stop()
    return out


def generated_actors(count: int, seed: int = 7) -> list[Actor]:
    """Persons with a Latin and a Cyrillic name each, and one body in ten with a role phrase."""
    rng = random.Random(seed)
    actors = []
    for n in range(count):
        picks = [rng.randrange(len(SYLLABLES_LATIN)) for _ in range(3)]
        first = "".join(SYLLABLES_LATIN[i] for i in picks[:1]).capitalize() + "a"
        last = "".join(SYLLABLES_LATIN[i] for i in picks).capitalize() + f"ov{n}"
        last_ru = "".join(SYLLABLES_CYRILLIC[i] for i in picks).capitalize() + f"ов{n}"
        if n % 10:
            actors.append(Actor(f"gen{n}", "person", f"{first} {last}",
                                {"en": (f"{first} {last}",), "ru": (last_ru,)}))
        else:
            actors.append(Actor(f"gen{n}", "body", f"{last} agency",
                                {"en": (f"{last} Agency",), "ru": (f"агентство {last_ru}",)},
                                {"en": (f"spokesman for the {last} agency",)}))
    return actors


def time_statements(actors: list[Actor], articles, rounds: int) -> tuple[float, list[float], int]:
    """(cold seconds per article, warm seconds per article per round, reports per round)."""
    engine = StatementEngine(actors)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.sqlite3")
        store.upsert(articles)
        per_round, reports = [], 0
        for _ in range(rounds + 1):
            start = time.perf_counter()
            reports = sum(engine.store_article(store, a) for a in articles)
            per_round.append((time.perf_counter() - start) / len(articles))
        store.close()
    return per_round[0], per_round[1:], reports


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--generated", type=int, default=1000)
    args = parser.parse_args(argv)

    items = pages()
    normalize_times, articles = [], []
    for round_ in range(args.rounds):
        start = time.perf_counter()
        made = [page_to_article(p, min_words=60, max_bytes=5_000_000) for p in items]
        normalize_times.append((time.perf_counter() - start) / len(items))
        if round_ == 0:
            articles = made
    for article in articles:  # what LanguagePipeline would say; the edition's is right here
        article.language = article.language or "en"
    normalize = statistics.median(normalize_times)
    print(f"{len(items)} article pages, {args.rounds} rounds")
    print(f"normalize stage:          {normalize * 1000:7.2f} ms/article (median)")

    example = list(load_actors([DEMO_ACTORS]).values())
    results = {}
    for label, actors in (("example actors", example),
                          (f"+{args.generated} generated", example
                           + generated_actors(args.generated))):
        cold, warm, reports = time_statements(actors, articles, args.rounds)
        median = statistics.median(warm)
        results[label] = median
        print(f"statements, {label:>16} ({len(actors):>4} actors): {median * 1000:7.2f} ms/article"
              f" (cold first round {cold * 1000:.2f}), ratio to normalize {median / normalize:.2f},"
              f" {reports} reports per round")
    first, last = results.values()
    print(f"flatness: {last / first:.2f}x per-article cost with {args.generated} more actors")


if __name__ == "__main__":
    main()
