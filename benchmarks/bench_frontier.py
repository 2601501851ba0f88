"""Shared-frontier benchmark: 1, 2, 4 ``newsmon crawl`` processes on one Redis.

    python benchmarks/bench_frontier.py [--articles 300] [--outlets 2] [--latency 0.05]
        [--concurrency 2] [--processes 1 2 4] [--delay 0.1]

Several mock outlets, each its own server on its own port, each answer delayed by
``--latency`` seconds (so a crawl waits on the network as on the web). For each process count:
a fresh Redis and store, the processes started together, and from the servers' request logs:
throughput (articles fetched per second, first to last article request: process start-up is
left out), duplicate fetches (any URL but robots.txt fetched more than once; must be 0), and the
scaling factor against one process. Then a politeness run: two processes, outlets with
``download_delay = --delay``: the smallest gap between two requests to one outlet, which the
shared per-host pace keeps at or above the delay.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsmon.mocksite import outlet_definition
from tests.plugins.mocksite import start_site_process
from tests.plugins.redisserver import start_redis

SITE = "kolokol"
ARTICLE = re.compile(r"/news/\d{4}/")


def outlet_text(outlet_id: str, url: str, concurrency: int, delay: float) -> str:
    text = outlet_definition(SITE, url, faults=False).replace(f'id = "{SITE}"', f'id = "{outlet_id}"')
    text = re.sub(r"download_delay = [0-9.]+", f"download_delay = {delay}", text)
    return re.sub(r"concurrency = \d+", f"concurrency = {concurrency}", text)


def run(processes: int, args: argparse.Namespace, delay: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-frontier-") as tmp:
        workdir = Path(tmp)
        (workdir / "redis").mkdir()
        (workdir / "outlets").mkdir()
        redis_process, redis_url = start_redis(workdir / "redis")
        sites = [start_site_process(SITE, "--no-faults", "--generated", str(args.articles),
                                    "--latency", str(args.latency)) for _ in range(args.outlets)]
        try:
            ids = [f"{SITE}{i}" for i in range(len(sites))]
            for outlet_id, site in zip(ids, sites, strict=True):
                (workdir / "outlets" / f"{outlet_id}.toml").write_text(
                    outlet_text(outlet_id, site.url, args.concurrency, delay), encoding="utf-8")
            (workdir / "newsmon.toml").write_text("[translate]\nenabled = false\n", encoding="utf-8")
            env = {**os.environ, "NEWSMON_DB": str(workdir / "bench.sqlite3"),
                   "NEWSMON_OUTLETS": str(workdir / "outlets"), "NEWSMON_DATA_DIR": str(workdir / "data"),
                   "NEWSMON_CONFIG": str(workdir / "newsmon.toml"), "PYTHONPATH": str(ROOT)}
            command = [sys.executable, "-m", "newsmon.cli", "crawl", *ids, "--redis", redis_url,
                       "--progress", "0", "-s", "AUTOTHROTTLE_ENABLED=False"]
            started = time.perf_counter()
            crawls = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True) for _ in range(processes)]
            for crawl in crawls:
                _, err = crawl.communicate()
                if crawl.returncode != 0:
                    raise RuntimeError(f"crawl failed: {err[-2000:]}")
            wall = time.perf_counter() - started
            logs = [site_log(site.url) for site in sites]
        finally:
            for site in sites:
                site.process.kill()
            redis_process.kill()
    articles = [(t, path) for log in logs for _m, path, t in log if ARTICLE.search(path)]
    times = sorted(t for t, _ in articles)
    duplicates = sum(n - 1 for log in logs
                     for path, n in Counter(p for _m, p, _t in log if p != "/robots.txt").items())
    gaps = [b - a for log in logs for a, b in zip([t for *_, t in log][:-1], [t for *_, t in log][1:])]
    gaps.sort()
    return {"processes": processes, "articles": len(articles), "wall": wall,
            "rate": (len(articles) - 1) / (times[-1] - times[0]), "duplicates": duplicates,
            "min_gap": gaps[0] if gaps else 0.0, "p05_gap": gaps[len(gaps) // 20] if gaps else 0.0,
            "short": sum(g < delay * 0.9 for g in gaps), "gaps": len(gaps)}


def site_log(url: str) -> list[list]:
    with urllib.request.urlopen(url + "/__log?times=1", timeout=30) as response:
        return json.load(response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="generated articles per outlet")
    parser.add_argument("--outlets", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=2, help="per outlet, per process")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--delay", type=float, default=0.1, help="download_delay in the politeness run")
    args = parser.parse_args()
    print(f"{args.outlets} outlets x {args.articles} articles, {args.latency * 1000:.0f} ms latency, "
          f"concurrency {args.concurrency} per outlet per process; machine: {os.cpu_count()} cores")
    base = None
    for n in args.processes:
        r = run(n, args, 0.0)
        base = base or r["rate"]
        print(f"{n} process(es): {r['articles']} article fetches, {r['rate']:6.1f} articles/s "
              f"(x{r['rate'] / base:4.2f}), wall {r['wall']:5.1f} s incl. start-up, "
              f"duplicate fetches {r['duplicates']}")
    r = run(2, args, args.delay)
    print(f"politeness, 2 processes, download_delay {args.delay} s: gaps between two requests to "
          f"one outlet: smallest {r['min_gap']:.3f} s, 5th percentile {r['p05_gap']:.3f} s, "
          f"{r['short']} of {r['gaps']} shorter than 0.9 x delay; duplicate fetches {r['duplicates']}")


if __name__ == "__main__":
    main()
