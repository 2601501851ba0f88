"""Word forms in the embedded store: analysis per language, snippets as written, migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from search.analysis import Analysis
from search.article import Article, Translation
from search.base import MARK_END, MARK_START, SearchRequest
from search.errors import ConfigError
from search.snippets import Marks, snippet
from search.store import SQLiteStore


@pytest.mark.parametrize(("language", "forms"), [
    ("ru", ["пытки", "пыток", "пытками", "пытках"]),  # Snowball alone leaves пыток apart
    ("ru", ["тюрьма", "тюрьмы", "тюрьмой"]),
    ("uk", ["катування", "катувань", "катуваннями"]),
    ("uk", ["в'язниця", "в'язниці", "в’язниць"]),  # either apostrophe
    ("nb", ["fengsel", "fengselet"]),
    ("nn", ["fengsel", "fengselet"]),
    ("en", ["leak", "leaked", "leaking"]),
    ("de", ["Gefängnis", "Gefängnisse", "Gefängnissen"]),
])
def test_the_forms_of_a_word_share_one_term(language, forms):
    analyzer = Analysis()(language)
    assert len({analyzer.term(form) for form in forms}) == 1, [analyzer.term(f) for f in forms]


def test_terms_carry_their_language():
    analysis = Analysis()
    assert analysis("en").term("fangs") != analysis("nb").term("fanger")
    assert analysis("xx").name == "exact words"
    assert analysis("xx").term("Fängen") == analysis("xx").surface("fängen")
    assert analysis("ru").name == "pymorphy3 lemma + snowball russian"
    assert analysis("uk").name == "pymorphy3 lemma"


def test_a_snippet_marks_the_words_as_written_and_says_where_it_is_cut():
    analyzer = Analysis()("en")
    text = " ".join(["filler"] * 40) + " Guards beat the prisoners. " + " ".join(["more"] * 40)
    cut = snippet(text, analyzer, Marks(frozenset({analyzer.term("prisoner")})))
    assert f"{MARK_START}prisoners{MARK_END}" in cut
    assert cut.startswith("…") and cut.endswith("…")
    assert cut.replace(MARK_START, "").replace(MARK_END, "").strip("…") in text
    assert snippet("No match here.", analyzer, Marks(frozenset())) == "No match here."


def ru(url: str, title: str, body: str, **extra) -> Article:
    return Article(canonical_url=url, outlet="kolokol", language="ru", title=title, body=body,
                   **extra)


def search_ids(store: SQLiteStore, query: str) -> list[str]:
    return sorted(h.id for h in store.search(SearchRequest(query, collapse=False, limit=50)).hits)


def test_russian_forms_with_a_fleeting_vowel_find_each_other(store: SQLiteStore):
    report = store.upsert([
        ru("https://k.example/1", "Видео пыток", "Правозащитники опубликовали видео."),
        ru("https://k.example/2", "Ведомство отрицает пытки", "Проверка обещана."),
    ])
    assert search_ids(store, "пытками") == sorted(report.inserted)
    (hit,) = store.search(SearchRequest("пытками -ведомство", collapse=False)).hits
    assert hit.snippet.startswith("Правозащитники")  # the match is in the title


def test_a_prefix_longer_than_the_stem_still_finds_the_word(store: SQLiteStore):
    (inserted,) = store.upsert([Article(
        canonical_url="https://k.example/en", outlet="kolokol", language="en",
        title="Guards", body="Guards beat prisoners.")]).inserted
    assert search_ids(store, "prisoners*") == [inserted]  # the stem is "prison"


def test_a_query_in_an_unknown_language_is_analysed_for_every_language_indexed(store):
    (inserted,) = store.upsert([ru(
        "https://k.example/t", "Заголовок", "Текст о тюрьме.",
        translations=[Translation(target="nb", status="done", title="Overskrift",
                                  body="Tekst om fengselet.")],
    )]).inserted
    assert search_ids(store, "тюрьмы") == [inserted]  # Russian
    assert search_ids(store, "fengsel") == [inserted]  # Norwegian, in the translation
    assert store.stats()["search_analysis"] == {
        "nb": "snowball norwegian", "ru": "pymorphy3 lemma + snowball russian",
    }


def make_version_1_store(path: Path) -> str:
    """A store as newsmon wrote it before word forms: words as written in the index."""
    store = SQLiteStore(path)
    (inserted,) = store.upsert([ru("https://k.example/old", "Старая запись", "Видео пыток.")]).inserted
    store.close()
    db = sqlite3.connect(path)
    db.executescript(
        "DROP TABLE fts_languages; DROP TRIGGER search_keys_insert;"
        " DROP TRIGGER search_keys_update; DROP TRIGGER search_keys_delete;"
        " DROP TABLE search_keys; DELETE FROM articles_fts;"
        " INSERT INTO articles_fts(rowid, title, body, tr_title, tr_body)"
        " SELECT rowid, title, body, '', '' FROM articles;"
        " UPDATE meta SET value = '1' WHERE key = 'schema_version';"
    )
    db.close()
    return inserted


def test_an_older_store_is_migrated_on_first_open(tmp_path: Path, capsys):
    path = tmp_path / "old.sqlite3"
    inserted = make_version_1_store(path)
    capsys.readouterr()
    store = SQLiteStore(path)
    assert "rebuilding the search index of old.sqlite3: 1 / 1 articles" in capsys.readouterr().err
    assert store.count() == 1 and store.get(inserted).body == "Видео пыток."
    assert search_ids(store, "пытки") == [inserted]
    assert [h.id for h in store.search(SearchRequest("пытки", facets=True)).hits] == [inserted]
    assert store.stats()["search_analysis"] == {"ru": "pymorphy3 lemma + snowball russian"}
    store.close()
    SQLiteStore(path).close()  # once only
    assert capsys.readouterr().err == ""


def test_a_store_from_a_newer_newsmon_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "new.sqlite3"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="newer newsmon"):
        SQLiteStore(path)


def test_a_version_2_store_gets_facet_numbers_on_first_open(tmp_path: Path):
    path = tmp_path / "v2.sqlite3"
    store = SQLiteStore(path)
    (inserted,) = store.upsert([ru("https://k.example/v2", "Запись", "Видео пыток.")]).inserted
    store.close()
    db = sqlite3.connect(path)
    db.executescript(  # search_keys as schema 2 had it: no facet column, no search_facets
        "DROP TRIGGER search_keys_insert; DROP TRIGGER search_keys_update;"
        " DROP TRIGGER search_keys_delete; DROP TABLE search_keys; DROP TABLE search_facets;"
        " CREATE TABLE search_keys (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL,"
        " story TEXT NOT NULL, outlet TEXT NOT NULL, language TEXT NOT NULL, published TEXT);"
        " INSERT INTO search_keys SELECT rowid, id, id, outlet, language, published FROM articles;"
        " UPDATE meta SET value = '2' WHERE key = 'schema_version';"
    )
    db.close()
    store = SQLiteStore(path)
    result = store.search(SearchRequest("пытки", facets=True))
    assert [h.id for h in result.hits] == [inserted]
    assert result.facets["outlet"] == {"kolokol": 1}
    store.upsert([ru("https://k.example/v2b", "Другая", "Снова пытки.")])  # the new triggers
    assert store.search(SearchRequest("пытки", facets=True)).facets["outlet"] == {"kolokol": 2}
    store.close()
