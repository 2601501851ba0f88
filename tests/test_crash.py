"""Crash safety: SIGKILL the crawl at random moments, resume, and lose nothing.

Each run kills ``newsmon crawl`` once a random number of articles is stored (plus a random
few milliseconds), so the kill lands mid-crawl, between and inside transactions. After the
last run a crawl goes to the end, and the store must hold every article exactly once, the
fetch log must agree with it, the dedup index with the stories, and every article must still
be in the Elasticsearch outbox (``index_state = 'pending'``: no index is configured here).

CI runs a handful of kills; ``NEWSMON_CRASH_RUNS=20`` (or more) runs more, locally.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsmon.mocksite import articles, outlet_definition
from tests.plugins.mocksite import RunningSite, start_site_process

ROOT = Path(__file__).resolve().parents[1]
GENERATED = 120
RUNS = int(os.environ.get("NEWSMON_CRASH_RUNS", "3"))


@pytest.fixture(scope="module")
def site() -> Iterator[RunningSite]:
    running = start_site_process("kolokol", "--generated", str(GENERATED))
    yield running
    running.process.kill()
    running.process.wait(timeout=10)


def _stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet, or locked for a moment
        return 0


def _crawl(env: dict[str, str], *, kill_after: int | None, rng: random.Random) -> int | None:
    """Run one crawl; with kill_after, SIGKILL it once that many articles are stored.
    Returns the number stored at the kill (None when the crawl ended by itself first)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "newsmon.cli", "crawl", "kolokol", "--progress", "0"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        if kill_after is None:
            _out, err = process.communicate(timeout=300)
            assert process.returncode == 0, err[-3000:]
            return None
        db = Path(env["NEWSMON_DB"])
        deadline = time.monotonic() + 180
        while process.poll() is None and _stored(db) < kill_after:
            assert time.monotonic() < deadline, "the crawl stored nothing for three minutes"
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.15))  # the random moment: inside a batch, or between two
        if process.poll() is not None:
            return None
        at_kill = _stored(db)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return at_kill
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_crawl_killed_again_and_again_loses_and_duplicates_nothing(site: RunningSite,
                                                                    tmp_path: Path):
    outlets = tmp_path / "outlets"
    outlets.mkdir()
    (outlets / "kolokol.toml").write_text(outlet_definition("kolokol", site.url), encoding="utf-8")
    db = tmp_path / "store.sqlite3"
    env = {**os.environ, "NEWSMON_DB": str(db), "NEWSMON_OUTLETS": str(outlets),
           "NEWSMON_DATA_DIR": str(tmp_path / "data"), "NEWSMON_CONFIG": "",
           "PYTHONPATH": str(ROOT)}
    expected = {a.path for a in articles("kolokol") if a.kind not in ("private", "duplicate")}
    total = len(expected) + GENERATED
    seed = int(os.environ.get("NEWSMON_CRASH_SEED", str(time.time_ns() % 100_000)))
    rng = random.Random(seed)
    kills = []
    for _ in range(RUNS):
        before = _stored(db)
        kill_at = kills[-1] if kills and before >= total - 5 else before + rng.randint(1, 25)
        kills.append(_crawl(env, kill_after=min(kill_at, total - 1), rng=rng))
        check_store(db, site.url, complete=False)
    _crawl(env, kill_after=None, rng=rng)
    report = check_store(db, site.url, complete=True)
    assert report["articles"] == total, f"seed {seed}, kills at {kills}"
    assert sum(k is not None for k in kills) >= max(1, RUNS // 2), f"seed {seed}: {kills}"


def check_store(db: Path, site_url: str, *, complete: bool) -> dict[str, int]:
    """The store's invariants after a crash (complete=False) or a finished crawl."""
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        def q(sql: str) -> list:
            return connection.execute(sql).fetchall()

        ids = {row[0] for row in q("SELECT id FROM articles")}
        canonical = [row[0] for row in q("SELECT canonical_url FROM articles")]
        assert len(canonical) == len(set(canonical)), "an article is stored twice"
        # every URL leads to one stored article
        assert {row[0] for row in q("SELECT article_id FROM article_urls")} <= ids
        # the fetch log agrees with the store: what it calls stored is there...
        logged = {row[0] for row in q("SELECT article_id FROM fetches WHERE outcome = 'stored'")}
        assert logged <= ids, "the fetch log names articles the store lacks"
        # ...and every stored article has its fetch recorded (once the crawl finished)
        if complete:
            assert ids <= logged, "stored articles missing from the fetch log"
        # the dedup index agrees with the stories
        docs = dict(q("SELECT article_id, story_id FROM dedup_docs"))
        stories = dict(q("SELECT id, story_id FROM articles"))
        # (the dedup stage runs before the store: a kill between them leaves an entry for an
        # article the store lacks, which the resumed crawl fetches, stores and re-joins)
        if complete:
            assert set(docs) == ids
            assert all(docs[i] == stories[i] for i in ids), "dedup and stories disagree"
        # the outbox: with no index configured, every article waits to be synced
        states = {row[0] for row in q("SELECT DISTINCT index_state FROM articles")}
        assert states <= {"pending"}
        return {"articles": len(ids)}


def _limit_file_size(limit: int):
    """For the child: files may not grow past ``limit`` bytes (a full disk, without root);
    SIGXFSZ ignored, so a write past it fails with EFBIG instead of killing the process."""
    import resource

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_stops_the_crawl_with_one_line_and_a_sound_store(site: RunningSite,
                                                                     tmp_path: Path):
    from search.store import SQLiteStore

    outlets = tmp_path / "outlets"
    outlets.mkdir()
    (outlets / "kolokol.toml").write_text(outlet_definition("kolokol", site.url), encoding="utf-8")
    db = tmp_path / "store.sqlite3"
    SQLiteStore(db).close()  # the schema exists; the disk fills while articles come in
    env = {**os.environ, "NEWSMON_DB": str(db), "NEWSMON_OUTLETS": str(outlets),
           "NEWSMON_DATA_DIR": str(tmp_path / "data"), "NEWSMON_CONFIG": "",
           "PYTHONPATH": str(ROOT)}
    full = subprocess.run(
        [sys.executable, "-m", "newsmon.cli", "crawl", "kolokol", "--progress", "0"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
        # what fills first is the WAL (checkpointed only every 1,000 pages, about 4 MB); with
        # extraction in worker processes the downloads run ahead of the articles, and each
        # archived response and fetch-log entry is a commit of its own, so 3 MB leaves room for
        # a few articles before the disk is full, and far less than the whole crawl needs
        preexec_fn=_limit_file_size(db.stat().st_size + 3_000_000))
    assert full.returncode == 4, full.stderr[-3000:]
    last = full.stderr.strip().splitlines()[-1]
    assert last.startswith(f"newsmon: error: cannot write the store {db} (")
    assert "disk is full" in last or "disk I/O error" in last, last
    stored_when_full = check_store(db, site.url, complete=False)["articles"]
    assert 0 < stored_when_full < len(articles("kolokol")) + GENERATED, stored_when_full
    # space again: the store opens and takes writes (the kill test shows a resumed crawl
    # completing a store; not repeated here, to keep the suite fast)
    store = SQLiteStore(db)
    try:
        assert store.count() == stored_when_full
    finally:
        store.close()


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs, remounted read-only by the test (needs CAP_SYS_ADMIN, as root in CI)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_read_only_store_is_one_line_and_untouched(read_only_folder: Path, tmp_path: Path,
                                                    refused_url: str):
    from search.store import SQLiteStore

    db = read_only_folder / "store.sqlite3"
    SQLiteStore(db).close()
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_folder)], check=True)
    before = db.read_bytes()
    outlets = tmp_path / "outlets"
    outlets.mkdir()
    (outlets / "x.toml").write_text("\n".join([
        'id = "x"', 'name = "X"', f'home = "{refused_url}/"', 'allowed_domains = ["127.0.0.1"]',
        "article_pattern = '^https?://[^/]+/news/'", "", "[[editions]]", 'id = "en"',
        'language = "en"', f'feeds = ["{refused_url}/rss.xml"]', ""]), encoding="utf-8")
    env = {**os.environ, "NEWSMON_DB": str(db), "NEWSMON_OUTLETS": str(outlets),
           "NEWSMON_CONFIG": "", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "newsmon.cli", "crawl", "x", "--progress", "0"],
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 4
    assert result.stderr.strip() == f"newsmon: error: cannot write the store {db} (unable to open database file)"
    assert db.read_bytes() == before
    with sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_index_sync_killed_midway_then_rerun_loses_and_duplicates_nothing(
        elasticsearch_url: str, index_name: str, tmp_path: Path):
    from search.elastic import ElasticsearchBackend
    from search.store import SQLiteStore
    from tests.test_elastic import ids_in_index, make_articles

    db = tmp_path / "store.sqlite3"
    store = SQLiteStore(db)
    articles_ = make_articles(400)
    store.upsert(articles_)
    store.close()
    env = {**os.environ, "NEWSMON_DB": str(db), "NEWSMON_INDEX_URL": elasticsearch_url,
           "NEWSMON_INDEX_NAME": index_name, "NEWSMON_CONFIG": "", "PYTHONPATH": str(ROOT)}
    backend = ElasticsearchBackend(elasticsearch_url, name=index_name)
    try:
        backend.init_index()
        sync = subprocess.Popen([sys.executable, "-m", "newsmon.cli", "index", "sync",
                                 "--batch-size", "10"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while sync.poll() is None and _synced(db) < 30:
            assert time.monotonic() < deadline, "index sync made no progress"
            time.sleep(0.02)
        sync.send_signal(signal.SIGKILL)
        sync.wait(timeout=30)
        killed_at = _synced(db)
        assert sync.returncode == -signal.SIGKILL and killed_at < len(articles_)
        again = subprocess.run([sys.executable, "-m", "newsmon.cli", "index", "sync"], env=env,
                               capture_output=True, text=True, timeout=300, check=False)
        assert again.returncode == 0, again.stderr[-2000:]
        assert _synced(db) == len(articles_)
        in_index = ids_in_index(backend)
        assert len(in_index) == len(set(in_index)) == len(articles_)
        assert set(in_index) == {a.id for a in articles_}
    finally:
        backend.drop()
        backend.close()


def _synced(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute(
                "SELECT count(*) FROM articles WHERE index_state = 'synced'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
