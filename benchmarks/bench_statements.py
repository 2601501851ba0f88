"""Benchmark: the statements stage's cost per article, against the normalize stage, and with
1,000 more actors (it must stay flat in the number of actors).

    python benchmarks/bench_statements.py               # the mock site's pages, 20 rounds
    python benchmarks/bench_statements.py --rounds 5    # quicker

Pages are the bundled mock site's article pages (Russian, English, Norwegian; most carry
statements). The normalize stage is ``pipelines.normalize.page_to_article`` (decoding,
trafilatura, metadata) on each page; the statements stage is ``StatementEngine.store_article``
(mentions, quotes, speakers, translation alignment, matching and writing to a SQLite store)
on the resulting articles. Both are timed in the same run; the figures are per article and
the ratio statements / normalize. Rounds interleave the stages; the first round warms the
engines' word-key caches and is reported apart ("cold").
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--generated", type=int, default=1000)
    args = parser.parse_args(argv)

    items = pages()
    articles = [page_to_article(p, min_words=60, max_bytes=5_000_000) for p in items]
    example = list(load_actors([DEMO_ACTORS]).values())
    sets = {"example actors": example,
            f"+{args.generated} generated": example + generated_actors(args.generated)}
    with tempfile.TemporaryDirectory() as tmp:
        engines, stores = {}, {}
        for n, (label, actors) in enumerate(sets.items()):
            engines[label] = StatementEngine(actors)
            stores[label] = SQLiteStore(Path(tmp) / f"bench{n}.sqlite3")
            stores[label].upsert(articles)
        times: dict[str, list[float]] = {"normalize": [], **{label: [] for label in sets}}
        reports = {}
        # rounds interleave the stages, so that a busy machine slows them alike
        for round_ in range(args.rounds + 1):
            start = time.perf_counter()
            for page in items:
                page_to_article(page, min_words=60, max_bytes=5_000_000)
            times["normalize"].append((time.perf_counter() - start) / len(items))
            for label in sets:
                start = time.perf_counter()
                reports[label] = sum(engines[label].store_article(stores[label], a)
                                     for a in articles)
                times[label].append((time.perf_counter() - start) / len(articles))
        for store in stores.values():
            store.close()
    normalize = statistics.median(times["normalize"][1:])
    print(f"{len(items)} article pages, {args.rounds} rounds (after one warm-up round)")
    print(f"normalize stage: {normalize * 1000:.2f} ms/article (median)")
    medians = {}
    for label, actors in sets.items():
        median = medians[label] = statistics.median(times[label][1:])
        print(f"statements, {label} ({len(actors)} actors): {median * 1000:.2f} ms/article"
              f" (first, cold round {times[label][0] * 1000:.2f}); ratio to normalize"
              f" {median / normalize:.2f}; {reports[label]} reports per round")
    first, last = medians.values()
    print(f"flatness: {last / first:.2f}x the per-article cost with {args.generated} more actors")


if __name__ == "__main__":
    main()
