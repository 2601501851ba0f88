"""Stories do not depend on crawl order: the mock outlets crawled in shuffled orders, and a
rebuild, give one partition of the articles into stories (issue #15)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from newsmon.mocksite import outlet_definition
from search.store import SQLiteStore
from tests.plugins.mocksite import SITES, MockWorld, open_world

QUEUE = "tests.plugins.shuffle.ShuffledQueue"
SEEDS = (1, 2, 3)


def _partition(db: Path) -> frozenset[frozenset[str]]:
    """Articles (by URL path, the same in every crawl) grouped by resolved story id."""
    store = SQLiteStore(db)
    try:
        groups: dict[str, set[str]] = {}
        for url, story in store.db.execute("SELECT canonical_url, story_id FROM articles"):
            assert story, f"{url} has no story"
            groups.setdefault(store.resolve_story(story) or story, set()).add(
                url.split("/", 3)[-1])
        return frozenset(frozenset(group) for group in groups.values())
    finally:
        store.close()


def _stored_order(db: Path) -> tuple[str, ...]:
    """The order the crawl stored its articles in (URL paths)."""
    store = SQLiteStore(db)
    try:
        return tuple(row[0].split("/", 3)[-1] for row in
                     store.db.execute("SELECT canonical_url FROM articles ORDER BY rowid"))
    finally:
        store.close()


def _crawl(world: MockWorld, root: Path, seed: int) -> MockWorld:
    """One crawl of both outlets into a fresh store, requests popped in a seeded random order;
    returns the world pointing at that store."""
    db = root / f"crawl-{seed}.sqlite3"
    run = replace(world, db=db, env={**world.env, "NEWSMON_DB": str(db),
                                     "NEWSMON_DATA_DIR": str(root / f"data-{seed}")})
    result = run.newsmon("crawl", *SITES, "--json", "--progress", "0",
                         "-s", f"SCHEDULER_MEMORY_QUEUE={QUEUE}",
                         "-s", f"SCHEDULER_START_MEMORY_QUEUE={QUEUE}",
                         "-s", f"NEWSMON_TEST_SHUFFLE_SEED={seed}")
    stats = json.loads(result.stdout)
    assert any("newsmon/dedup/settled" in s for s in stats.values()), stats
    return run


def test_shuffled_crawls_and_a_rebuild_give_one_partition(tmp_path: Path):
    with open_world(tmp_path, SITES, "--no-faults", NEWSMON_CONFIG="") as world:
        for name, site in world.sites.items():  # the clean pages only: every crawl stores all
            (world.outlets_dir / f"{name}.toml").write_text(
                outlet_definition(name, site.url, faults=False), encoding="utf-8")
        with ThreadPoolExecutor(len(SEEDS)) as pool:  # separate stores: the crawls may overlap
            runs = list(pool.map(lambda seed: _crawl(world, tmp_path, seed), SEEDS))
        orders = {_stored_order(run.db) for run in runs}
        partitions = [_partition(run.db) for run in runs]
        runs[-1].newsmon("dedup", "rebuild")
        partitions.append(_partition(runs[-1].db))
    assert len(orders) == len(SEEDS), "the shuffled crawls stored the articles in one order"
    assert all(p == partitions[0] for p in partitions), [sorted(map(sorted, p)) for p in partitions]
    assert any(len(group) > 2 for group in partitions[0])  # stories with members, not singletons
