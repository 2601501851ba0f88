"""Several ``newsmon crawl`` processes sharing one frontier through a real Redis.

Each test starts redis-server and the mock sites, runs the real CLI in three processes at
once, and asserts on the store, on the processes' statistics and on the mock servers' request
logs (what was fetched, how often).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import redis

from newsmon.mocksite import articles, special_urls
from newsmon.mocksite.generate import generated_path
from search.store import SQLiteStore
from tests.plugins.mocksite import SITES, MockWorld, open_world

PROCESSES = 3


def _stored_paths(site: str, faults: bool = True) -> set[str]:
    return {a.path for a in articles(site, faults=faults) if a.kind not in ("private", "duplicate")}


def _start(world: MockWorld, url: str, outlets: tuple[str, ...], *settings: str) -> list[subprocess.Popen]:
    extra = [arg for setting in settings for arg in ("-s", setting)]
    return [subprocess.Popen(
        [sys.executable, "-m", "newsmon.cli", "crawl", *outlets, "--redis", url, "--json",
         "--progress", "0", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=world.env,
    ) for _ in range(PROCESSES)]


def _finish(processes: list[subprocess.Popen], timeout: float = 240) -> list[dict]:
    stats = []
    for process in processes:
        out, err = process.communicate(timeout=timeout)
        if process.returncode == -signal.SIGKILL:
            continue
        assert process.returncode == 0, err[-3000:]
        stats.append(json.loads(out))
    return stats


def _stored(store: SQLiteStore, site_url: str, path: str) -> bool:
    row = store.db.execute("SELECT article_id FROM article_urls WHERE url = ?",
                           (site_url + path,)).fetchone()
    return row is not None


def _no_frontier_left(url: str) -> list[bytes]:
    server = redis.Redis.from_url(url)
    return [k for k in server.keys("newsmon:*") if not k.startswith(b"newsmon:fetches")]


def test_three_processes_fetch_every_url_once_and_store_every_article_once(
        tmp_path: Path, redis_url: str):
    with open_world(tmp_path, SITES, NEWSMON_CONFIG="") as world:
        stats = _finish(_start(world, redis_url, SITES))
        logs = {name: site.requests() for name, site in world.sites.items()}
        store = SQLiteStore(world.db)
        try:
            for site in SITES:
                base = world.sites[site].url
                expected = _stored_paths(site)
                missing = [p for p in expected if not _stored(store, base, p)]
                assert missing == []
                count = store.db.execute("SELECT count(*) FROM articles WHERE outlet = ?",
                                         (site,)).fetchone()[0]
                assert count == len(expected)
                # each article was inserted by exactly one process
                inserted = sum(s[site].get("newsmon/articles/inserted", 0) for s in stats)
                assert inserted == len(expected)
                # the work was shared: more than one process fetched pages of this site
                workers = [s for s in stats if s[site].get("scheduler/dequeued/redis", 0) > 0]
                assert len(workers) >= 1
                # one process, the last out, cleared the frontier
                assert sum(s[site].get("newsmon/frontier/cleared", 0) for s in stats) == 1
        finally:
            store.close()
    assert len(stats) == PROCESSES
    for site, log in logs.items():
        counts = Counter(log)
        assert 1 <= counts.pop("/robots.txt") <= PROCESSES  # each process reads the rules once
        flaky = special_urls(site).get("flaky")
        if flaky:
            assert counts.pop(flaky) == 2  # a 500, then the retry
        twice = {path: n for path, n in counts.items() if n > 1}
        assert twice == {}, f"{site}: fetched more than once: {twice}"
    assert _no_frontier_left(redis_url) == []


def _leased_by(server: redis.Redis, pid: int) -> int:
    return sum(server.hlen(key) for key in server.keys(f"newsmon:kolokol:inflight:*:{pid}:*"))


def test_a_killed_process_loses_nothing(tmp_path: Path, redis_url: str):
    generated = 40
    with open_world(tmp_path, ("kolokol",), "--no-faults", "--generated", str(generated),
                    "--latency", "0.3", NEWSMON_CONFIG="") as world:
        processes = _start(world, redis_url, ("kolokol",), "NEWSMON_REDIS_HEARTBEAT=0.5",
                           "NEWSMON_REDIS_WORKER_TIMEOUT=5")
        server = redis.Redis.from_url(redis_url)
        victim = processes[0]
        deadline = time.monotonic() + 180
        while _leased_by(server, victim.pid) == 0:  # kill it while it holds requests
            assert victim.poll() is None, "the process finished before it could be killed"
            assert time.monotonic() < deadline, "the process never took a request"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        stats = _finish(processes)
        base = world.sites["kolokol"].url
        store = SQLiteStore(world.db)
        try:
            expected = _stored_paths("kolokol", faults=False)
            expected |= {generated_path("kolokol", n) for n in range(1, generated + 1)}
            missing = sorted(p for p in expected if not _stored(store, base, p))
            assert missing == []
        finally:
            store.close()
    assert len(stats) == PROCESSES - 1
    assert sum(s["kolokol"].get("newsmon/frontier/requeued_from_dead", 0) for s in stats) >= 1
    assert all(s["kolokol"]["finish_reason"] == "finished" for s in stats)
    assert _no_frontier_left(redis_url) == []
