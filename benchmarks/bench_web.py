"""Web benchmark: requests/s and latency of the search API under a bounded load, in one run.

    python benchmarks/bench_web.py                        # 10,000 articles
    python benchmarks/bench_web.py --articles 100000      # the size the README quotes

Generated articles (the mock site's synthetic ru/en/nb text, as ``bench_index.py`` writes
them) go into a fresh embedded store; ``newsmon serve`` serves it on 127.0.0.1 (port 0); a
second process sends the same query mix to ``/api/search`` (collapsed by story, with facets,
as the search page asks) from ``--connections`` keep-alive connections for ``--seconds``.

The baseline is the same queries through ``SQLiteStore.search`` called directly in this
process, one at a time: the ratio says what HTTP, FastAPI and JSON add on top of the search.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def api_paths(count: int, articles: list) -> list[str]:
    """The benchmark's query mix as /api/search URLs (every request asks for facets)."""
    from bench_index import queries

    paths = []
    for request in queries(articles, count):
        params: list[tuple[str, str]] = [("q", request.query), ("per_page", "10")]
        params += [("language", code) for code in request.languages]
        if request.date_from:
            params.append(("from", request.date_from))
        paths.append("/api/search?" + urlencode(params))
    return paths


# -- the load process -------------------------------------------------------------------------

def load(url: str, paths: list[str], connections: int, seconds: float) -> dict:
    """Send the paths round-robin from N keep-alive connections for a while; time each one."""
    parts = urlsplit(url)
    stop = time.monotonic() + seconds
    results: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections

    def worker(slot: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        n = slot
        while time.monotonic() < stop:
            path = paths[n % len(paths)]
            n += connections
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                ok = False
            elapsed = (time.perf_counter() - start) * 1000
            if ok:
                results[slot].append(elapsed)
            else:
                errors[slot] += 1
        conn.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    latencies = [v for slot in results for v in slot]
    return {"requests": len(latencies), "errors": sum(errors), "seconds": round(wall, 2),
            "rps": round(len(latencies) / wall, 1),
            "p50_ms": round(percentile(latencies, 0.50), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1)}


# -- the benchmark ------------------------------------------------------------------------------

def direct(store, paths: list[str], seconds: float) -> dict:
    """The same requests through the store in this process, one at a time: the baseline."""
    from urllib.parse import parse_qs

    from search.base import SearchRequest

    requests = []
    for path in paths:
        query = parse_qs(urlsplit(path).query)
        requests.append(SearchRequest(query["q"][0], languages=query.get("language", []),
                                      date_from=query.get("from", [None])[0], limit=10,
                                      collapse=True, facets=True))
    for request in requests[:10]:
        store.search(request)
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    began = time.perf_counter()
    n = 0
    while time.monotonic() < stop:
        start = time.perf_counter()
        store.search(requests[n % len(requests)])
        latencies.append((time.perf_counter() - start) * 1000)
        n += 1
    wall = time.perf_counter() - began
    return {"requests": n, "rps": round(n / wall, 1),
            "p50_ms": round(percentile(latencies, 0.50), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300, help="distinct queries in the mix")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # internal: run as the load process
    args = parser.parse_args(argv)

    if args.load:
        spec = json.loads(Path(args.load).read_text(encoding="utf-8"))
        print(json.dumps(load(spec["url"], spec["paths"], spec["connections"], spec["seconds"])))
        return

    from bench_index import generate

    from search.store import SQLiteStore

    work = Path(tempfile.mkdtemp(prefix="newsmon-bench-web-"))
    db = work / "bench.sqlite3"
    print(f"newsmon web benchmark: {args.articles} articles, {args.connections} connections,"
          f" {args.seconds:.0f} s; {platform.python_version()}, {os.cpu_count()} CPUs", flush=True)
    started = time.perf_counter()
    articles = generate(args.articles)
    store = SQLiteStore(db)
    for i in range(0, len(articles), 1000):
        store.upsert(articles[i:i + 1000])
    print(f"store built in {time.perf_counter() - started:.1f} s", flush=True)
    paths = api_paths(args.queries, articles)
    del articles

    baseline = direct(store, paths, min(args.seconds, 10.0))
    store.close()
    env = {**os.environ, "NEWSMON_DB": str(db), "NEWSMON_DATA_DIR": str(work / "data"),
           "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "newsmon.cli", "serve", "--port", "0"],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = server.stdout.readline()
        match = re.match(r"serving at (http://\S+/)", line)
        if not match:
            raise SystemExit(f"the server did not start: {line!r}")
        spec = work / "load.json"
        spec.write_text(json.dumps({"url": match.group(1), "paths": paths,
                                    "connections": args.connections, "seconds": args.seconds}),
                        encoding="utf-8")
        loader = subprocess.run([sys.executable, __file__, "--load", str(spec)],
                                capture_output=True, text=True, check=True,
                                timeout=args.seconds + 120)
        web = json.loads(loader.stdout)
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"direct SQLiteStore.search (1 caller): {baseline['rps']} searches/s,"
          f" p50 {baseline['p50_ms']} ms, p95 {baseline['p95_ms']} ms")
    print(f"GET /api/search ({args.connections} connections): {web['rps']} requests/s,"
          f" p50 {web['p50_ms']} ms, p95 {web['p95_ms']} ms, p99 {web['p99_ms']} ms,"
          f" {web['errors']} errors of {web['requests'] + web['errors']}")
    ratio = web["rps"] / baseline["rps"] if baseline["rps"] else 0.0
    print(f"web / direct throughput: {ratio:.2f}; p95 added by HTTP+JSON under load:"
          f" {web['p95_ms'] - baseline['p95_ms']:.1f} ms")
    print(json.dumps({"articles": args.articles, "direct": baseline, "web": web,
                      "ratio": round(ratio, 2)}))


if __name__ == "__main__":
    main()
