"""Translation workers fed through a real Redis: a worker killed mid-batch loses nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from crawler.config import load_config
from pipelines.translate import argos
from pipelines.translate.queue import GROUP, STREAM
from search.store import SQLiteStore
from tests.plugins.argos import ArgosPackages
from tests.plugins.mocksite import open_world


def _pending_of(server: redis.Redis, consumer_pid: int) -> int:
    consumers = server.xinfo_consumers(STREAM, GROUP) if server.exists(STREAM) else []
    return sum(int(c["pending"]) for c in consumers
               if (c["name"].decode() if isinstance(c["name"], bytes) else c["name"]).endswith(
                   f":{consumer_pid}"))


def test_a_killed_translation_worker_loses_nothing(
        tmp_path: Path, redis_url: str, argos_packages: ArgosPackages, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "newsmon.toml"
    config.write_text("[translate]\nduring_crawl = false\n", encoding="utf-8")
    with open_world(tmp_path, ("kolokol",), "--no-faults", NEWSMON_CONFIG=str(config)) as world:
        monkeypatch.setenv("NEWSMON_DATA_DIR", world.env["NEWSMON_DATA_DIR"])
        monkeypatch.setenv("NEWSMON_CONFIG", str(config))
        argos.install_file(argos.ArgosDirs.from_config(load_config()), argos_packages.ru_en)

        crawl = world.newsmon("crawl", "kolokol", "--redis", redis_url, "--json", "--progress", "0")
        queued = json.loads(crawl.stdout)["kolokol"]["newsmon/translate/queued"]
        server = redis.Redis.from_url(redis_url)
        assert server.xlen(STREAM) == queued > 0

        worker = [sys.executable, "-m", "newsmon.cli", "translate", "--worker", "--redis", redis_url]
        first = subprocess.Popen(worker, env=world.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        deadline = time.monotonic() + 120
        while _pending_of(server, first.pid) == 0:  # it has read a batch and not acknowledged it
            assert first.poll() is None, first.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "the worker never took a batch"
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        left = _pending_of(server, first.pid)
        assert left > 0  # killed mid-batch: its entries are still pending in the group

        second = world.newsmon("translate", "--worker", "--redis", redis_url, "--drain",
                               "--min-idle", "0.5", timeout=300)
        assert "claimed" in second.stderr  # it took over the dead worker's entries
        assert server.xpending(STREAM, GROUP)["pending"] == 0

        store = SQLiteStore(world.db)
        try:
            russian = [a for a in store.iter_articles() if a.language == "ru"]
            assert russian
            assert {a.translation("en").status for a in russian} == {"done"}
        finally:
            store.close()
