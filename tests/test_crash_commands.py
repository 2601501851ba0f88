"""Crash safety of the commands that rewrite a store: SIGKILL ``newsmon translate --pending``
and ``newsmon dedup rebuild`` at random moments, run them again, and check the store.

translate: killed at a random point of its progress, counted half in sentences translated
(the cache fills batch by batch) and half in articles saved. After every kill the articles
already translated stay as they were (never done twice), each one's translation is exactly
what its sentences' cached translations give, and the version snapshot agrees with it; the
last run translates the rest, and the cache then holds each sentence once.

dedup rebuild: one transaction, so a kill leaves either the stories as they were or the
finished rebuild; the dedup index always agrees with the stories, and the run after the kills
gives the stories an uninterrupted rebuild of a copy gives.

CI runs a handful of kills of each; ``NEWSMON_CRASH_RUNS=20`` (or more) runs more, locally,
with ``NEWSMON_CRASH_SEED`` to repeat one sequence (as tests/test_crash.py).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import redis

from newsmon.mocksite.generate import synthetic_article
from pipelines.translate.queue import STREAM, TranslationQueue
from pipelines.translate.splitter import split_text
from search.article import Article
from search.store import SQLiteStore
from search.translation_cache import TranslationCache
from tests.plugins.argos import ArgosPackages

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("NEWSMON_CRASH_RUNS", "3"))
MODEL, VERSION = "translate-ru_en", "1.0"


def _seed() -> int:
    return int(os.environ.get("NEWSMON_CRASH_SEED", str(time.time_ns() % 100_000)))


def _articles(count: int, *, retellings: bool = False) -> list[Article]:
    """The mock site's synthetic articles (Russian and English, 300-800 words each); with
    retellings, every fourth one is also told by a second outlet without its first paragraph."""
    articles = []
    for n in range(1, count + 1):
        spec = synthetic_article("kolokol", n)
        paragraphs = list(spec.paragraphs)
        articles.append(Article(
            canonical_url=f"https://kolokol.example{spec.path}", outlet="kolokol",
            title=spec.title, body="\n\n".join(paragraphs), language=spec.lang,
            published=spec.published))
        if retellings and n % 4 == 0:
            articles.append(Article(
                canonical_url=f"https://retold.example{spec.path}", outlet="retold",
                title=spec.title, body="\n\n".join(paragraphs[1:] or paragraphs),
                language=spec.lang, published=spec.published))
    return articles


def _environment(tmp_path: Path, db: Path) -> dict[str, str]:
    return {**os.environ, "NEWSMON_DB": str(db), "NEWSMON_DATA_DIR": str(tmp_path / "data"),
            "NEWSMON_CONFIG": "", "PYTHONPATH": str(ROOT)}


def _newsmon(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "newsmon.cli", *args], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _read(db: Path, sql: str) -> list[tuple]:
    """Rows from the store, read-only; [] while it is being created or is locked a moment."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def _kill_when(args: list[str], env: dict[str, str], reached: Callable[[], bool],
               rng: random.Random, within: float = 0.1) -> bool:
    """Start ``newsmon ARGS``; SIGKILL it at a random moment up to ``within`` seconds after
    ``reached()``. False when it finished by itself first."""
    process = subprocess.Popen([sys.executable, "-m", "newsmon.cli", *args], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while process.poll() is None and not reached():
            assert time.monotonic() < deadline, f"newsmon {' '.join(args)} made no progress"
            time.sleep(0.01)
        time.sleep(rng.uniform(0, within))
        if process.poll() is not None:
            assert process.returncode == 0, process.stderr.read()[-3000:]
            return False
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return True
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# -- translate --pending ----------------------------------------------------------------------
def _sentences(article: Article) -> tuple[list[str], list[str]]:
    return (split_text(article.title, "ru").sentences, split_text(article.body, "ru").sentences)


def _done(db: Path) -> dict[str, tuple[str, str, str]]:
    """article id -> (translated_at, title, body) of its done translation into English."""
    rows = _read(db, "SELECT article_id, translated_at, title, body FROM translations"
                     " WHERE target = 'en' AND status = 'done'")
    return {row[0]: tuple(row[1:]) for row in rows}


def check_translations(db: Path, russian: list[Article], earlier: dict[str, tuple[str, str, str]],
                       *, complete: bool) -> dict[str, tuple[str, str, str]]:
    """The invariants after a kill (complete=False) or a finished run; returns what is done."""
    store = SQLiteStore(db)
    cache = TranslationCache(db)
    try:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        done = _done(db)
        changed = [i for i, value in earlier.items() if done.get(i) != value]
        assert not changed, f"translated again (or lost): {changed}"
        for article in russian:
            translation = store.get(article.id).translation("en")
            if article.id not in done:
                assert translation is None or translation.status != "done"
                continue
            assert (translation.model, translation.model_version) == (MODEL, VERSION)
            # the article's translation is what the cache holds for its sentences
            title, body = split_text(article.title, "ru"), split_text(article.body, "ru")
            cached = cache.lookup(MODEL, VERSION, [*title.sentences, *body.sentences])
            assert title.join([cached[s] for s in title.sentences]) == translation.title
            assert body.join([cached[s] for s in body.sentences]) == translation.body
            # and the current version keeps the same translation
            [snapshot] = [t for t in store.versions(article.id)[-1].translations if t.target == "en"]
            assert (snapshot.status, snapshot.body) == ("done", translation.body)
        if complete:
            assert set(done) == {a.id for a in russian}
            every = {s for a in russian for part in _sentences(a) for s in part}
            assert cache.count(MODEL) == len(every), "the cache holds sentences of no article"
        return done
    finally:
        cache.close()
        store.close()


def _translation_progress(db: Path, sentences: int, articles: int) -> float:
    """Half for sentences in the cache (translating), half for articles saved."""
    rows = _read(db, "SELECT (SELECT count(*) FROM translation_cache), (SELECT count(*)"
                     " FROM translations WHERE target = 'en' AND status = 'done')")
    cached, saved = rows[0] if rows else (0, 0)
    return 0.5 * cached / sentences + 0.5 * saved / articles


def _untranslated_store(tmp_path: Path, argos_packages: ArgosPackages
                        ) -> tuple[Path, list[Article], int, dict[str, str]]:
    """30 stored articles and the ru→en model installed: (store, the Russian ones, their
    distinct sentences, the environment to run newsmon in)."""
    db = tmp_path / "store.sqlite3"
    articles = _articles(30)
    store = SQLiteStore(db)
    store.upsert(articles)
    store.close()
    russian = [a for a in articles if a.language == "ru"]
    sentences = len({s for a in russian for part in _sentences(a) for s in part})
    env = _environment(tmp_path, db)
    _newsmon(env, "models", "install-file", str(argos_packages.ru_en))
    return db, russian, sentences, env


def test_translate_pending_killed_again_and_again_translates_each_article_once(
        argos_packages: ArgosPackages, tmp_path: Path):
    db, russian, sentences, env = _untranslated_store(tmp_path, argos_packages)
    seed = _seed()
    rng = random.Random(seed)
    done: dict[str, tuple[str, str, str]] = {}
    kills = []

    def progress() -> float:
        return _translation_progress(db, sentences, len(russian))

    for _ in range(RUNS):
        target = min(progress() + rng.uniform(0.01, 2 / (RUNS + 1)), 1 - 0.5 / len(russian))
        killed = _kill_when(["translate", "--pending"], env,
                            lambda target=target: progress() >= target, rng)
        kills.append(f"{target:.2f}{'' if killed else ' (ended first)'}")
        done = check_translations(db, russian, done, complete=False)
    pending = len(russian) - len(done)
    last = _newsmon(env, "translate", "--pending")
    assert (f"en: {pending} done" in last.stdout) if pending else ("nothing pending" in last.stdout), (
        f"seed {seed}, kills {kills}: {last.stdout}")
    check_translations(db, russian, done, complete=True)
    assert "en: nothing pending" in _newsmon(env, "translate", "--pending").stdout
    assert sum("ended first" not in k for k in kills) >= max(1, RUNS // 2), f"seed {seed}: {kills}"
    print(f"translate --pending: seed {seed}, {len(russian)} articles, {sentences} sentences,"
          f" kills at {kills}")


# -- dedup rebuild ----------------------------------------------------------------------------
def _stories(db: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(article -> story in the store, article -> story in the dedup index)."""
    return (dict(_read(db, "SELECT id, story_id FROM articles")),
            dict(_read(db, "SELECT article_id, story_id FROM dedup_docs")))


def _writing(db: Path) -> bool:
    """True while another process holds the store's write lock (its transaction is open)."""
    try:
        with closing(sqlite3.connect(db, timeout=0, isolation_level=None)) as connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # database is locked
        return True


def _write_window(env: dict[str, str], db: Path) -> float:
    """Run ``newsmon dedup rebuild`` to the end; the longest time it held the write lock
    without a break (its transaction; opening the store takes it for a moment too)."""
    process = subprocess.Popen([sys.executable, "-m", "newsmon.cli", "dedup", "rebuild"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    longest, since = 0.0, None
    while process.poll() is None:
        now = time.monotonic()
        if _writing(db):
            since = now if since is None else since
            longest = max(longest, now - since)
        else:
            since = None
        time.sleep(0.005)
    assert process.returncode == 0, process.stderr.read()[-3000:]
    assert longest > 0, "the rebuild never held the write lock"
    return longest


def _in_transaction(db: Path) -> Callable[[], bool]:
    """True once the write lock is seen held twice in a row (a transaction, not a moment)."""
    held: list[bool] = []

    def reached() -> bool:
        held.append(_writing(db))
        return held[-2:] == [True, True]

    return reached


def check_stories(db: Path) -> dict[str, str]:
    """The dedup index agrees with the stories; returns article -> story."""
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stories, indexed = _stories(db)
    assert stories and set(indexed) <= set(stories)
    # an article the index holds is in the index's story (its identical copies are not indexed)
    assert all(stories[a] == story for a, story in indexed.items()), "dedup and stories disagree"
    return stories


def test_dedup_rebuild_killed_midway_leaves_the_stories_whole(tmp_path: Path):
    db = tmp_path / "store.sqlite3"
    store = SQLiteStore(db)
    store.upsert(_articles(60, retellings=True))
    store.close()
    env = _environment(tmp_path, db)
    # stories made under stricter settings first (retellings apart), as before a user changes
    # [dedup] and rebuilds: the rebuild then joins them, so a kill's outcome shows
    strict = tmp_path / "strict.toml"
    strict.write_text("[dedup]\nnear_threshold = 0.99\ncontainment_threshold = 0.999\n",
                      encoding="utf-8")
    _newsmon({**env, "NEWSMON_CONFIG": str(strict)}, "dedup", "update")
    before = check_stories(db)
    # what an uninterrupted rebuild of the same store gives, and how long its transaction is
    reference = tmp_path / "reference.sqlite3"
    shutil.copy(db, reference)
    window = _write_window(_environment(tmp_path, reference), reference)
    expected = check_stories(reference)
    assert len(set(expected.values())) < len(set(before.values()))  # retellings joined
    seed = _seed()
    rng = random.Random(seed)
    outcomes = []
    for _ in range(RUNS):
        killed = _kill_when(["dedup", "rebuild"], env, _in_transaction(db), rng, within=window)
        now = check_stories(db)
        assert now in (before, expected), f"seed {seed}: a rebuild half applied"
        outcomes.append(("killed, " if killed else "ended, ")
                        + ("unchanged" if now == before else "rebuilt"))
    _newsmon(env, "dedup", "rebuild")
    assert check_stories(db) == expected, f"seed {seed}: {outcomes}"
    assert sum(o.startswith("killed") for o in outcomes) >= max(1, RUNS // 2), f"seed {seed}: {outcomes}"
    print(f"dedup rebuild: seed {seed}, {len(expected)} articles, {outcomes}")


# -- translate --worker (Redis stream) --------------------------------------------------------
def _queued(server: redis.Redis) -> set[str]:
    """Article ids the stream still names: waiting, or read and not acknowledged."""
    return {fields[b"article"].decode() for _id, fields in server.xrange(STREAM)}


def test_translation_worker_killed_again_and_again_loses_nothing(
        argos_packages: ArgosPackages, tmp_path: Path, redis_url: str):
    """A worker killed at random moments: every article the queue named is translated once,
    by whichever worker comes next (it claims the dead one's entries), and the stream ends empty."""
    db, russian, sentences, env = _untranslated_store(tmp_path, argos_packages)
    queue = TranslationQueue.from_url(redis_url)
    queue.ensure_group()
    for article in russian:
        queue.add(article.id)
    worker = ["translate", "--worker", "--redis", redis_url, "--drain", "--min-idle", "0.2"]
    seed = _seed()
    rng = random.Random(seed)
    done: dict[str, tuple[str, str, str]] = {}
    kills = []
    for _ in range(RUNS):
        target = min(_translation_progress(db, sentences, len(russian))
                     + rng.uniform(0.01, 2 / (RUNS + 1)), 1 - 0.5 / len(russian))
        killed = _kill_when(worker, env, lambda target=target: _translation_progress(
            db, sentences, len(russian)) >= target, rng)
        kills.append(f"{target:.2f}{'' if killed else ' (ended first)'}")
        done = check_translations(db, russian, done, complete=False)
        lost = {a.id for a in russian} - set(done) - _queued(queue.server)
        assert not lost, f"seed {seed}, kills {kills}: neither translated nor queued: {lost}"
    last = _newsmon(env, *worker)
    check_translations(db, russian, done, complete=True)
    assert queue.pending() == 0 and not _queued(queue.server), last.stderr[-2000:]
    assert sum("ended first" not in k for k in kills) >= max(1, RUNS // 2), f"seed {seed}: {kills}"
    print(f"translate --worker: seed {seed}, {len(russian)} articles, kills at {kills}")
