"""Index benchmark: SQLite (embedded) and Elasticsearch side by side, in one run.

    python benchmarks/bench_index.py                  # 10,000 articles
    python benchmarks/bench_index.py --sizes 100000 --queries 0   # writes only
    python benchmarks/bench_index.py --es-url http://localhost:9200   # a real Elasticsearch
    python benchmarks/bench_index.py --sizes 100000 --queries 300 --sqlite-only

For each size: the same generated articles (the mock site's synthetic ru/en/nb text, 300-800
words each) are written
  1. into a fresh SQLite store (``SQLiteStore.upsert`` in batches): the baseline; batch by
     batch in turn with a second store whose full-text index gets the text as written (no
     word forms), so the cost of the analysis is an A/B in the same run;
  2. into Elasticsearch with bulk requests (``ElasticsearchBackend.upsert``);
  3. into Elasticsearch from the store, as ``newsmon index sync`` does (read, bulk, mark);
then the same queries (words, phrases, OR, exclusions, filters, facets; collapsed by story)
run on both, and the figures are printed with the ratio Elasticsearch / SQLite.

Without --es-url the Elasticsearch side is noida-db (started here, on a free port): an
Elasticsearch-compatible server, so its figures say how newsmon's code path performs over
HTTP, not how a real Elasticsearch cluster would.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsmon.mocksite.generate import synthetic_articles
from search.article import Article
from search.base import SearchRequest
from search.elastic import ElasticsearchBackend
from search.elastic_sync import sync_pending
from search.store import SQLiteStore


def generate(count: int) -> list[Article]:
    """Half kolokol (ru and en), half fjordposten (nb), as the pipelines would store them."""
    result = []
    for site, share in (("kolokol", (count + 1) // 2), ("fjordposten", count // 2)):
        for spec in synthetic_articles(site, share):
            published = datetime.fromisoformat(spec.published).astimezone(UTC)
            result.append(Article(
                canonical_url=f"https://{site}.example{spec.path}", outlet=site,
                edition=spec.edition, language=spec.lang, title=spec.title,
                body="\n\n".join(spec.paragraphs), authors=list(spec.authors),
                published=published.strftime("%Y-%m-%dT%H:%M:%SZ"), section=spec.section,
                tags=list(spec.tags), story_id=f"story-{len(result) // 3}",
            ))
    return result


def queries(articles: Sequence[Article], count: int, seed: int = 7) -> list[SearchRequest]:
    """Query mix drawn from the articles' own words, so every query can match."""
    rng = random.Random(seed)
    requests = []
    for n in range(count):
        article = rng.choice(articles)
        words = [w.strip(".,«»\"") for w in article.body.split() if len(w.strip(".,«»\"")) > 3]
        a, b = rng.sample(words, 2)
        start = rng.randrange(len(words) - 1)
        kind = n % 6
        text = {
            0: a,
            1: f"{a} {b}",
            2: f'"{words[start]} {words[start + 1]}"',
            3: f"{a} OR {b}",
            4: f"{a} -{b}",
            5: a,
        }[kind]
        request = SearchRequest(text, limit=10, collapse=True, facets=kind in (4, 5))
        if kind == 5:
            request.languages = [article.language]
            request.date_from = article.published[:10]
        requests.append(request)
    return requests


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def write_in_batches(write: Callable[[list[Article]], object], articles: list[Article],
                     batch: int) -> float:
    return sum(timed(lambda chunk=articles[i:i + batch]: write(chunk))
               for i in range(0, len(articles), batch))


class TextAsWritten(SQLiteStore):
    """The write baseline: the same store, its full-text index fed the text as written (what
    it held before word forms), so the A/B isolates what the analysis costs."""

    def _indexed_text(self, language: str, text: str) -> str:
        return text


def write_ab(stores: Sequence[SQLiteStore], articles: list[Article], batch: int) -> list[float]:
    """Seconds each store took to upsert every article, batch by batch in turn (A, B, A, B...),
    so that both sides see the same load on a shared machine."""
    seconds = [0.0] * len(stores)
    for i in range(0, len(articles), batch):
        chunk = articles[i:i + batch]
        for n, store in enumerate(stores):
            seconds[n] += timed(lambda s=store, c=chunk: s.upsert(c))
    return seconds


def latencies(search: Callable[[SearchRequest], object], requests: list[SearchRequest]) -> list[float]:
    for request in requests[:10]:  # warm-up
        search(request)
    return [timed(lambda r=request: search(r)) * 1000 for request in requests]


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


class Noida:
    """noida-db in the foreground on a free port (as the tests start it)."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        executable = shutil.which("noida-db")
        if executable is None:
            sys.exit("noida-db is not installed (pip install noida-db), or pass --es-url")
        self.process = subprocess.Popen(
            [executable, "start", "--only", "elasticsearch", "--elasticsearch-port",
             str(self.port), "--data-dir", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url, timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        sys.exit("noida-db did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)


def run(size: int, es_url: str | None, batch: int, query_count: int,
        workdir: Path, baseline_articles: int | None = None) -> dict[str, float]:
    started = time.perf_counter()
    articles = generate(size)
    print(f"\n== {size:,} articles (generated in {time.perf_counter() - started:.1f}s,"
          f" {sum(len(a.body) for a in articles) / size:,.0f} characters each on average)")
    store = SQLiteStore(workdir / f"bench-{size}.sqlite3")
    baseline = TextAsWritten(workdir / f"bench-{size}-baseline.sqlite3")
    figures: dict[str, float] = {}
    compared = min(size, baseline_articles or size)
    ab_seconds, base_seconds = write_ab([store, baseline], articles[:compared], batch)
    baseline.close()
    for suffix in ("", "-wal", "-shm"):
        (workdir / f"bench-{size}-baseline.sqlite3{suffix}").unlink(missing_ok=True)
    seconds = ab_seconds + write_in_batches(store.upsert, articles[compared:], batch)
    figures["sqlite_write"] = size / seconds
    figures["sqlite_write_ratio"] = ab_seconds / base_seconds
    print(f"SQLite store upsert            {figures['sqlite_write']:10,.0f} articles/s"
          f"  ({seconds:.1f}s, word forms)")
    print(f"  A/B on the first {compared:,}: word forms {compared / ab_seconds:,.0f} articles/s,"
          f" baseline (text as written) {compared / base_seconds:,.0f} articles/s:"
          f" writes {figures['sqlite_write_ratio']:.2f}x slower")

    if es_url is None:
        return run_sqlite_queries(store, articles, query_count, figures)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    es = ElasticsearchBackend(es_url, name=name, timeout=120)
    es.init_index()
    seconds = write_in_batches(es.upsert, articles, batch)
    figures["es_write"] = size / seconds
    print(f"Elasticsearch bulk upsert      {figures['es_write']:10,.0f} articles/s"
          f"  ({seconds:.1f}s, batches of {batch})")

    # the path a crawl's backlog takes: read from the store, bulk, mark synced
    synced = ElasticsearchBackend(es_url, name=f"{name}-sync", timeout=120)
    synced.init_index()
    seconds = timed(lambda: sync_pending(store, synced, batch))
    figures["es_sync"] = size / seconds
    print(f"Elasticsearch sync from store  {figures['es_sync']:10,.0f} articles/s  ({seconds:.1f}s)")
    synced.drop()
    es.refresh()

    if query_count < 2:
        print("search latency: skipped (--queries 0)")
        es.drop()
        es.close()
        store.close()
        return figures
    requests = queries(articles, query_count)
    sqlite_ms = latencies(store.search, requests)
    es_ms = latencies(es.search, requests)
    for label, values in (("SQLite", sqlite_ms), ("Elasticsearch", es_ms)):
        key = "sqlite" if label == "SQLite" else "es"
        figures[f"{key}_p50"] = percentile(values, 50)
        figures[f"{key}_p95"] = percentile(values, 95)
        print(f"{label + ' search latency':31}p50 {figures[f'{key}_p50']:7.1f} ms"
              f"   p95 {figures[f'{key}_p95']:7.1f} ms  ({len(values)} queries)")
    print(f"ratio Elasticsearch / SQLite:  write {figures['es_write'] / figures['sqlite_write']:.2f}x"
          f" throughput, search p50 {figures['es_p50'] / figures['sqlite_p50']:.2f}x"
          f" and p95 {figures['es_p95'] / figures['sqlite_p95']:.2f}x latency")
    es.drop()
    es.close()
    store.close()
    return figures


def run_sqlite_queries(store: SQLiteStore, articles: list[Article], query_count: int,
                       figures: dict[str, float]) -> dict[str, float]:
    """The SQLite side alone (--sqlite-only): the same query mix, more queries."""
    if query_count >= 2:
        values = latencies(store.search, queries(articles, query_count))
        figures["sqlite_p50"] = percentile(values, 50)
        figures["sqlite_p95"] = percentile(values, 95)
        print(f"{'SQLite search latency':31}p50 {figures['sqlite_p50']:7.1f} ms"
              f"   p95 {figures['sqlite_p95']:7.1f} ms  ({len(values)} queries)")
    store.close()
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000],
                        help="article counts (default: 10000; add 100000 for the large run)")
    parser.add_argument("--es-url", help="an Elasticsearch to use instead of starting noida-db")
    parser.add_argument("--bulk-size", type=int, default=500, help="articles per batch")
    parser.add_argument("--queries", type=int,
                        help="queries per backend (default: 300 with --es-url; 10 on noida-db,"
                             " which takes seconds per query; 0: measure writes only)")
    parser.add_argument("--baseline-articles", type=int,
                        help="write only the first N articles to the baseline store as well"
                             " (default: all; the A/B of a large size takes twice as long)")
    parser.add_argument("--sqlite-only", action="store_true",
                        help="measure the embedded store alone (no Elasticsearch side)")
    args = parser.parse_args(argv)
    if args.queries is None:
        args.queries = 300 if args.es_url else 10
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop noida-db (finally)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="bench-index-") as folder:
        workdir = Path(folder)
        noida = None if args.es_url or args.sqlite_only else Noida(workdir / "noida")
        url = None if args.sqlite_only else args.es_url or noida.url
        if url is not None:
            print(f"Elasticsearch side: {args.es_url or 'noida-db (Elasticsearch-compatible)'}")
        try:
            for size in args.sizes:
                run(size, url, args.bulk_size, args.queries, workdir, args.baseline_articles)
        finally:
            if noida is not None:
                noida.stop()


if __name__ == "__main__":
    main()
