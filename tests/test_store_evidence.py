"""The store's evidence block: versions are kept, captures noted, removals flagged and cleared;
and the history/diff commands over such a store (translations included)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from search.article import Article, Translation
from search.base import SearchRequest
from search.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
BODY = "The colony's chief denied the beatings.\n\nEleven groups asked for an inquiry."


def article(body: str = BODY, title: str = "Chief denies beatings", seen: str = "2026-11-21T10:00:00Z",
            translated: str = "", record: str = "") -> Article:
    translations = [Translation(target="ru", status="done", title="Начальник отрицает",
                                body=translated)] if translated else []
    return Article(canonical_url="https://k.example/a", outlet="kolokol", title=title, body=body,
                   language="en", fetched_at=seen, translations=translations, warc_record_id=record)


def test_a_changed_text_is_a_new_version_and_the_old_one_stays(store: SQLiteStore) -> None:
    first = store.upsert([article(translated="Одиннадцать групп", record="<r1>")]).inserted[0]
    assert store.upsert([article(seen="2026-11-21T11:00:00Z", record="<r2>")]).unchanged
    edited = BODY.replace("Eleven", "Twelve")
    report = store.upsert([article(edited, seen="2026-11-22T09:00:00Z", translated="Двенадцать групп",
                                   record="<r3>")])
    assert report.updated == [first]
    versions = store.versions(first)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].body == BODY and versions[1].body == edited
    assert (versions[0].seen_at, versions[0].last_seen_at) == ("2026-11-21T10:00:00Z", "2026-11-21T11:00:00Z")
    assert versions[0].translations[0].body == "Одиннадцать групп"
    assert versions[1].translations[0].body == "Двенадцать групп"
    assert [c["warc_record_id"] for c in store.captures(first)] == ["<r1>", "<r2>", "<r3>"]
    assert store.get(first).body == edited  # search shows the current version
    hit = store.search(SearchRequest("inquiry", collapse=False)).hits[0]
    assert (hit.versions, hit.removed_at) == (2, "")


def test_removal_is_flagged_filtered_and_cleared_when_the_article_returns(store: SQLiteStore) -> None:
    article_id = store.upsert([article()]).inserted[0]
    assert store.mark_removed("https://k.example/unknown", removed_at="t", reason="http-404") is None
    assert store.mark_removed("https://k.example/a", removed_at="2026-11-23T08:00:00Z",
                              reason="http-410") == article_id
    store.mark_removed("https://k.example/a", removed_at="2026-11-24T08:00:00Z", reason="http-410")
    assert store.removal(article_id)["removed_at"] == "2026-11-23T08:00:00Z"  # the first time seen gone
    assert store.search(SearchRequest("inquiry", status="removed")).total == 1
    assert store.search(SearchRequest("inquiry", status="online")).total == 0
    assert store.search(SearchRequest("inquiry")).hits[0].removed_at == "2026-11-23T08:00:00Z"
    store.upsert([article(seen="2026-11-25T08:00:00Z")])
    assert store.removal(article_id) is None
    assert store.search(SearchRequest("inquiry", status="online")).total == 1


def test_history_and_diff_commands_show_text_and_translation_changes(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    store = SQLiteStore(db)
    article_id = store.upsert([article(translated="Одиннадцать групп просят")]).inserted[0]
    store.upsert([article(BODY.replace("Eleven", "Twelve"), title="Chief denies all beatings",
                          seen="2026-11-22T09:00:00Z", translated="Двенадцать групп просят")])
    store.close()

    def newsmon(*args: str) -> subprocess.CompletedProcess:
        env = {"NEWSMON_DB": str(db), "NEWSMON_DATA_DIR": str(tmp_path / "d"), "PYTHONPATH": str(ROOT),
               "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
        return subprocess.run([sys.executable, "-m", "newsmon.cli", *args], capture_output=True,
                              text=True, env=env, timeout=60, check=False)

    history = newsmon("history", article_id).stdout
    assert "2 versions" in history and "v2  seen 2026-11-22T09:00:00Z" in history
    diff = newsmon("diff", article_id, "1", "2").stdout
    assert "title: Chief denies {+all+} beatings" in diff
    assert "[-Eleven-]{+Twelve+} groups asked for an inquiry." in diff
    assert "translation into ru:" in diff and "[-Одиннадцать-]{+Двенадцать+} групп просят" in diff
    wrong = newsmon("diff", article_id, "1", "7")
    assert wrong.returncode != 0 and "has no version 7" in wrong.stderr and "Traceback" not in wrong.stderr
    assert newsmon("history", "nope").returncode != 0
