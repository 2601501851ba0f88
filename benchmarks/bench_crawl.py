"""Crawl benchmark: newsmon end to end against trafilatura alone, on the same pages.

    python benchmarks/bench_crawl.py [--articles 2000]

1. Serve the mock site with N generated articles (a separate process: its memory and CPU are
   not newsmon's, but it shares this machine's cores).
2. Crawl it with ``newsmon crawl`` into a fresh store, in a subprocess: articles/s end to end
   (HTTP, Scrapy, extraction, language, store) and the crawl's peak RSS.
3. Baseline, in the same run: the same pages, downloaded beforehand, through
   ``trafilatura.extract`` in a plain loop.
Prints the figures and the ratio end-to-end / trafilatura-alone.

With ``--archive``: also the cost of WARC archiving (crawls with ``archive.enabled`` off and
on, alternated, same run), WARC bytes per article, and ``newsmon ingest-warc`` of the crawl's
WARC files into a fresh store, in articles/s against trafilatura alone on the same pages.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsmon.mocksite import outlet_definition
from newsmon.mocksite.generate import generated_path

SITE = "kolokol"


def start_server(count: int) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "newsmon.mocksite.server", "--site", SITE, "--no-faults",
         "--generated", str(count)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    return process, process.stdout.readline().split(" ", 1)[1].strip()


def outlet_ids(count: int) -> list[str]:
    return [SITE] if count == 1 else [f"{SITE}{i}" for i in range(count)]


def crawl(urls: list[str], workdir: Path, env_extra: dict[str, str]) -> tuple[dict, float, int, float]:
    """Crawl one outlet per server; summed statistics, seconds, peak RSS (KiB), CPU seconds."""
    outlets = workdir / "outlets"
    outlets.mkdir(parents=True)
    ids = outlet_ids(len(urls))
    for outlet_id, url in zip(ids, urls, strict=True):
        text = outlet_definition(SITE, url, faults=False).replace(f'id = "{SITE}"', f'id = "{outlet_id}"')
        (outlets / f"{outlet_id}.toml").write_text(text, encoding="utf-8")
    env = {**os.environ, "NEWSMON_DB": str(workdir / "bench.sqlite3"), "NEWSMON_OUTLETS": str(outlets),
           "NEWSMON_DATA_DIR": str(workdir / "data"), **env_extra}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "newsmon.cli", "crawl", *ids, "--json", "--progress", "0",
         "-s", "AUTOTHROTTLE_ENABLED=False"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=workdir,
    )
    tree = TreeCPU(process.pid)
    with ThreadPoolExecutor(2) as readers:  # drain both pipes while sampling the tree's CPU
        out, err = readers.submit(process.stdout.read), readers.submit(process.stderr.read)
        while process.poll() is None:
            tree.sample()
            time.sleep(0.2)
        stdout, stderr = out.result(), err.result()
    if process.returncode != 0:
        sys.exit(f"the crawl failed (exit {process.returncode}):\n{stderr[-3000:]}")
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    per_outlet = json.loads(stdout)
    stats: dict = {}
    for outlet_stats in per_outlet.values():
        for key, value in outlet_stats.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                stats[key] = stats.get(key, 0) + value
    stats["elapsed_time_seconds"] = max(float(s.get("elapsed_time_seconds", 0)) for s in per_outlet.values())
    # the worker pool's processes are the fork server's children, not the crawl's: rusage of
    # the crawl's children misses them, so the tree's CPU comes from /proc samples
    return stats, elapsed, usage.ru_maxrss, max(tree.seconds(), usage.ru_utime + usage.ru_stime)


class TreeCPU:
    """CPU seconds of a process and all its descendants, from /proc, sampled while it runs."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.last: dict[int, float] = {}  # pid -> latest user+system seconds seen
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        parents: dict[int, int] = {}
        times: dict[int, float] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended between listing and reading
                continue
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / self.tick
        tree, grew = {self.root}, True
        while grew:
            found = {pid for pid, parent in parents.items() if parent in tree} - tree
            tree |= found
            grew = bool(found)
        for pid in tree & times.keys():
            self.last[pid] = max(self.last.get(pid, 0.0), times[pid])

    def seconds(self) -> float:
        return sum(self.last.values())




def archive_overhead(url: str, workdir: Path, translate: bool, rounds: int = 2) -> dict[str, float]:
    """Crawl rates with archiving off and on (alternated), WARC bytes, and ingest-warc's rate."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    warc_files: list[Path] = []
    stored = 0
    for n in range(rounds):
        for archive in (False, True):
            run = workdir / f"archive-{archive}-{n}"
            config = run / "newsmon.toml"
            run.mkdir(parents=True)
            config.write_text(f"[translate]\nenabled = {str(translate).lower()}\n"
                              f"[archive]\nenabled = {str(archive).lower()}\n", encoding="utf-8")
            stats, _seconds, _peak, _cpu = crawl([url], run, {"NEWSMON_CONFIG": str(config)})
            stored = stats.get("newsmon/articles/inserted", 0)
            rates[archive].append(stored / float(stats["elapsed_time_seconds"]))
            if archive:
                warc_files = sorted((run / "data" / "warc").glob("*.warc.gz"))
    ingest_dir = workdir / "ingest"
    ingest_dir.mkdir()
    config = ingest_dir / "newsmon.toml"
    config.write_text(f"[translate]\nenabled = {str(translate).lower()}\n", encoding="utf-8")
    env = {**os.environ, "NEWSMON_DB": str(ingest_dir / "ingest.sqlite3"),
           "NEWSMON_DATA_DIR": str(ingest_dir / "data"), "NEWSMON_CONFIG": str(config),
           "NEWSMON_OUTLETS": str(workdir / f"archive-True-{rounds - 1}" / "outlets")}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "newsmon.cli", "ingest-warc", *map(str, warc_files)],
                   capture_output=True, text=True, env=env, cwd=ingest_dir, check=True)
    ingest_seconds = time.perf_counter() - started
    off, on = sum(rates[False]) / rounds, sum(rates[True]) / rounds
    return {"rate_off": off, "rate_on": on, "overhead": 1 - on / off,
            "warc_bytes_per_article": sum(p.stat().st_size for p in warc_files) / max(stored, 1),
            "ingest_rate": stored / ingest_seconds, "ingest_seconds": ingest_seconds}


def download(url: str, count: int) -> list[tuple[str, bytes]]:
    def fetch(n: int) -> tuple[str, bytes]:
        page = url + generated_path(SITE, n)
        with urllib.request.urlopen(page, timeout=30) as response:
            return page, response.read()

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(fetch, range(1, count + 1)))


def trafilatura_alone(pages: list[tuple[str, bytes]]) -> float:
    started = time.perf_counter()
    for page_url, body in pages:
        trafilatura.extract(body.decode("utf-8"), url=page_url, with_metadata=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--outlets", type=int, default=1,
                        help="split the articles over this many outlets, each its own server")
    parser.add_argument("--translate", action="store_true",
                        help="keep the translation stage on (default: off, it has its own benchmark)")
    parser.add_argument("--archive", action="store_true",
                        help="also measure WARC archiving overhead and ingest-warc throughput")
    parser.add_argument("--off", nargs="*", default=[], choices=["dedup", "statements", "archive"],
                        help="stages to switch off, to see what each costs")
    args = parser.parse_args()
    archive: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as tmp:
        workdir = Path(tmp)
        config = workdir / "newsmon.toml"
        config.write_text(f"[translate]\nenabled = {str(args.translate).lower()}\n"
                          + "".join(f"[{stage}]\nenabled = false\n" for stage in args.off),
                          encoding="utf-8")
        env_extra = {"NEWSMON_CONFIG": str(config)}
        servers = [start_server(args.articles // args.outlets) for _ in range(args.outlets)]
        try:
            stats, crawl_seconds, peak_kib, cpu = crawl([url for _, url in servers], workdir, env_extra)
            pages = [page for _, url in servers for page in download(url, args.articles // args.outlets)]
            if args.archive:
                archive = archive_overhead(servers[0][1], workdir / "archive", args.translate)
        finally:
            for server, _ in servers:
                server.kill()
        alone_seconds = trafilatura_alone(pages)
    stored = stats.get("newsmon/articles/inserted", 0) + stats.get("newsmon/articles/duplicates", 0)
    e2e_rate = stored / crawl_seconds
    alone_rate = len(pages) / alone_seconds
    print(f"articles generated:           {args.articles} over {args.outlets} outlet(s); "
          f"machine: {os.cpu_count()} cores")
    print(f"stored by the crawl:          {stored} (dropped: "
          f"{ {k.split('/')[-1]: v for k, v in stats.items() if k.startswith('newsmon/dropped/')} })")
    print(f"newsmon crawl, end to end:    {crawl_seconds:7.1f} s  {e2e_rate:7.1f} articles/s "
          f"(whole process, startup included)")
    crawl_only = float(stats.get("elapsed_time_seconds", crawl_seconds))
    print(f"newsmon crawl, spider open to close: {crawl_only:5.1f} s  {stored / crawl_only:7.1f} articles/s")
    print(f"trafilatura.extract alone:    {alone_seconds:7.1f} s  {alone_rate:7.1f} articles/s")
    print(f"ratio end-to-end / alone:     {e2e_rate / alone_rate:7.2f}")
    print(f"peak RSS of the crawl:        {peak_kib / 1024:7.1f} MiB")
    if archive:
        print(f"crawl, archive off / on:      {archive['rate_off']:7.1f} / {archive['rate_on']:.1f}"
              f" articles/s (spider open to close): overhead {archive['overhead']:.1%}")
        print(f"WARC bytes per article:       {archive['warc_bytes_per_article']:7.0f} (gzip per record,"
              " request and response)")
        print(f"ingest-warc, end to end:      {archive['ingest_seconds']:7.1f} s"
              f"  {archive['ingest_rate']:7.1f} articles/s; ratio to trafilatura alone "
              f"{archive['ingest_rate'] / alone_rate:.2f}")
    print(f"CPU of the crawl process tree: {cpu:6.1f} s = {cpu / crawl_seconds:4.2f} cores on average")


if __name__ == "__main__":
    main()
