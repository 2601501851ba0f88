"""Benchmark: story assignment cost per article as the collection grows (it must stay flat).

    python benchmarks/bench_dedup.py                       # probes at 10,000 and 100,000 articles
    python benchmarks/bench_dedup.py --sizes 1000,10000    # quicker

A synthetic collection is loaded into a store (bulk, in batches), spread over time at a steady
rate (default 300 articles a day, so the 7-day window always holds about 2,100 articles); 15 %
of the articles are near copies of a recent one and 10 % carry a translation into the pivot
language, a third of those translating a recent English article; half the articles quote
someone (a number and a name in the quote, which story matching reads as statements). At each size, ``--probe``
further articles go through ``Deduplicator.assign`` one by one, one transaction each, as in a
crawl, and the time per article is reported: wall time and this process's CPU time, measured
in the same run (on a shared machine the CPU time is the steadier figure), and the engine's work
per article (LSH neighbours, postings rows, candidates judged, docs re-grouped). Baseline: the probe at the first size, in the same
run; the figure to watch is the ratio of the last size to it (1.0 = flat). Load time is
reported too, but is not the cost of a crawl (batches share a transaction).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.dedup import Deduplicator, DedupOptions
from search.article import Article, Translation
from search.store import SQLiteStore

START = datetime(2025, 1, 1, tzinfo=UTC)
SYLLABLES = {  # space-separated, per language
    "en": "ba be bi bo ca co da de di do fa fe ga go ha he la le li lo ma me mi mo na ne no"
          " pa pe po ra re ri ro sa se si so ta te ti to va ve wa we",
    "ru": "ба бе би бо ва ве ви во га го да де ди до за зе ки ко ла ле ли ло ма ме ми мо на не"
          " ни но па пе по ра ре ри ро са се си со та те ти то",
    "nb": "bå be bi bø da de di dø fa fe fi fo ga ge gi gå ha he hi hå ka ke ki kø la le li lø"
          " ma me mi mø na ne ni nø ra re ri rø sa se si sø ta te ti tø",
}


class Corpus:
    """Random news-like texts: Zipf-distributed words, names and numbers, steady dates."""

    def __init__(self, seed: int, per_day: int) -> None:
        self.rng = random.Random(seed)
        self.per_day = per_day
        self.vocab = {lang: self._words(lang, 20000) for lang in SYLLABLES}
        self.names = [w.capitalize() for w in self._words("en", 6000)]
        self.weights = [1.0 / (rank + 1) for rank in range(20000)]
        self.name_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(6000)]
        self.recent: list[Article] = []
        self.count = 0

    def _words(self, lang: str, n: int) -> list[str]:
        rng, seen, out = random.Random(lang), set(), []
        syllables = SYLLABLES[lang].split()
        while len(out) < n:
            word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
            if word not in seen:
                seen.add(word)
                out.append(word)
        return out

    def _text(self, lang: str, paragraphs: int = 4) -> str:
        out = []
        for _ in range(paragraphs):
            words = self.rng.choices(self.vocab[lang], self.weights, k=40)
            for _ in range(2):
                words.insert(self.rng.randrange(1, 40), self.rng.choices(self.names, self.name_weights)[0])
            words.insert(self.rng.randrange(1, 40), str(self.rng.randint(2, 3000)))
            out.append(" ".join(words) + ".")
        if paragraphs > 1 and self.rng.random() < 0.5:  # a statement (story matching reads them)
            out.insert(self.rng.randrange(1, paragraphs), self._quote(lang))
        return "\n\n".join(out)

    def _quote(self, lang: str) -> str:
        said = " ".join(self.rng.choices(self.vocab[lang], self.weights, k=12))
        said += f" {self.rng.randint(2, 3000)} {self.rng.choices(self.names, self.name_weights)[0]}"
        speaker = " ".join(self.rng.choices(self.names, self.name_weights, k=2))
        return {"en": f'"{said[0].upper() + said[1:]}," said {speaker}.',
                "ru": f"«{said[0].upper() + said[1:]}», — заявил {speaker}.",
                "nb": f"– {said[0].upper() + said[1:]}, sier {speaker}."}[lang]

    def next(self) -> Article:
        self.count += 1
        n = self.count
        published = START + timedelta(days=n / self.per_day)
        roll = self.rng.random()
        lang = self.rng.choice(("en", "en", "ru", "ru", "nb"))
        translations = []
        if roll < 0.15 and self.recent:  # a near copy of a recent article
            base = self.rng.choice(self.recent)
            paragraphs = base.body.split("\n\n")
            lang, title = base.language, "Copy: " + base.title
            body = "\n\n".join(["Subscribe to our newsletter.", *paragraphs[:-1]])
            translations = base.translations
        else:
            title = self._text(lang, 1)[:80]
            body = self._text(lang)
            if lang != "en" and roll < 0.25:  # translated into the pivot language
                english = [a for a in self.recent[-50:] if a.language == "en"]
                if roll < 0.18 and english:  # the same story as a recent English article
                    source = self.rng.choice(english)
                    pivot = source.body.replace(" the", " a")
                else:
                    pivot = self._text("en")
                translations = [Translation(target="en", status="done", title=title, body=pivot)]
        article = Article(
            canonical_url=f"https://outlet{n % 50}.example/{lang}/{n}", outlet=f"outlet{n % 50}",
            title=title, body=body, language=lang, translations=translations,
            published=published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        self.recent = (self.recent + [article])[-500:]
        return article


@dataclass
class Probe:
    times: list[float]  # wall seconds per article
    cpu: float  # CPU seconds of this process per article (what other users of the machine
    # do not change, unlike wall time)
    settle: float  # wall seconds per article of settling the probe, as a crawl's end does
    work: dict[str, float]  # engine work per article (Deduplicator.work)


def probe(dedup: Deduplicator, corpus: Corpus, count: int) -> Probe:
    """Assign ``count`` new articles one by one (one transaction each), then settle them."""
    times = []
    articles = [corpus.next() for _ in range(count)]
    dedup.work.clear()
    cpu_started = time.process_time()
    for article in articles:
        started = time.perf_counter()
        dedup.assign(article)
        times.append(time.perf_counter() - started)
    cpu = (time.process_time() - cpu_started) / count
    work = {k: v / count for k, v in sorted(dedup.work.items())}
    started = time.perf_counter()
    dedup.settle()
    return Probe(times, cpu, (time.perf_counter() - started) / count, work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="collection sizes to probe at")
    parser.add_argument("--probe", type=int, default=1000, help="articles timed at each size")
    parser.add_argument("--per-day", type=int, default=300, help="articles published per day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache-mb", type=int, default=64,
                        help="SQLite page cache of the connection, as DedupPipeline sets it"
                             " (0 = SQLite's default 2 MB)")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    corpus = Corpus(args.seed, args.per_day)
    results = []
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-dedup-") as tmp:
        store = SQLiteStore(Path(tmp) / "bench.sqlite3")
        if args.cache_mb:
            store.tune_for_matching(args.cache_mb)
        dedup = Deduplicator(store, DedupOptions.defaults())
        loaded, load_seconds = 0, 0.0
        for size in sizes:
            started = time.perf_counter()
            while loaded < size:
                batch = [corpus.next() for _ in range(min(1000, size - loaded))]
                dedup.assign_many(batch)
                # the load stands for earlier crawls, each settled when it closed
                with store.transaction():
                    store.dedup_index().mark_settled(store.dedup_index().unsettled_docs())
                loaded += len(batch)
                print(f"\rloaded {loaded}", end="", file=sys.stderr, flush=True)
            load_seconds += time.perf_counter() - started
            print(file=sys.stderr)
            result = probe(dedup, corpus, args.probe)
            loaded += args.probe
            stories = store.dedup_index().story_count()
            size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
            results.append((size, result))
            times = result.times
            print(f"at {size:>7} articles: {1000 * statistics.mean(times):.2f} ms/article mean"
                  f" wall, {1000 * result.cpu:.2f} CPU, {1000 * statistics.median(times):.2f}"
                  f" median, {1000 * statistics.quantiles(times, n=20)[18]:.2f} p95; {stories}"
                  f" stories; store {size_mb:.0f} MB; load so far {load_seconds:.0f} s;"
                  f" settling the probe {1000 * result.settle:.2f} ms/article; work per article"
                  f" {', '.join(f'{k} {v:.1f}' for k, v in result.work.items())}", flush=True)
        store.close()
    base_size, base = results[0]
    print(f"\nbaseline: probe at {base_size} articles, {1000 * statistics.mean(base.times):.2f}"
          f" ms/article wall, {1000 * base.cpu:.2f} ms CPU")
    for size, result in results[1:]:
        print(f"ratio at {size} / {base_size} articles (1.0 = flat):"
              f" wall {statistics.mean(result.times) / statistics.mean(base.times):.2f},"
              f" CPU {result.cpu / base.cpu:.2f}, settling {result.settle / base.settle:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
