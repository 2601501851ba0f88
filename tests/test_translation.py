"""Translation: real argostranslate packages (built by the tests), real CTranslate2 decoding.

The models have random weights, so nothing here asserts translation quality: the tests assert
statuses, what is stored where, batching, the cache, pending and retranslation, pivoting and
that nothing reaches for the network.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured

from crawler.config import load_config
from newsmon.cli import main
from newsmon.context import Context
from pipelines.translate import argos
from pipelines.translate.articles import ArticleTranslator
from pipelines.translate.engine import EngineSettings, TranslationEngine
from pipelines.translate.pipeline import TranslatePipeline
from pipelines.translate.splitter import split_text
from search.article import Article
from search.base import SearchRequest
from search.crosslingual import translate_query
from search.query import parse_query
from search.store import SQLiteStore
from search.translation_cache import TranslationCache
from tests.plugins.argos import ArgosPackages, RecordingProxy
from tests.plugins.environment import newsmon_crawler
from tests.plugins.mocksite import MockWorld

RU_BODY = (
    "В сеть попали видео пыток. Правозащитники требуют проверки.\n\n"
    "2024–2026\n\n"
    "ФСИН отрицает утечку! Адвокаты требуют защиты."
)


class Spy:
    """Wraps a real ctranslate2.Translator and records the size of every translate_batch call."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[int] = []
        self.sentences: list[list[str]] = []

    def translate_batch(self, batch, **options):
        self.calls.append(len(batch))
        self.sentences.extend(batch)
        return self.real.translate_batch(batch, **options)


def install(*paths: Path) -> argos.ArgosDirs:
    dirs = argos.ArgosDirs.from_config(load_config())
    for path in paths:
        argos.install_file(dirs, path)
    return dirs


def engine_for(dirs: argos.ArgosDirs, store: Path | None, spies: dict, **settings) -> TranslationEngine:
    engine = TranslationEngine.open(
        dirs, replace(EngineSettings.defaults(), **settings), TranslationCache(store) if store else None
    )
    real = engine._translator

    def spied(pkg):
        key = pkg.package_path.name
        if key not in spies:
            spies[key] = Spy(real(pkg))
        return spies[key]

    engine._translator = spied
    return engine


def article(n: int, language: str, body: str = RU_BODY, title: str = "Видео пыток") -> Article:
    return Article(canonical_url=f"https://example.test/{language}/{n}", outlet="test",
                   title=title, body=body, language=language)


# -- sentences and paragraphs -----------------------------------------------------------------

def test_splitting_keeps_paragraphs_and_leaves_text_without_letters_alone():
    segmented = split_text(RU_BODY, "ru")
    assert segmented.sentences == [
        "В сеть попали видео пыток.", "Правозащитники требуют проверки.",
        "ФСИН отрицает утечку!", "Адвокаты требуют защиты.",
    ]
    marked = segmented.join([f"<{i}>" for i in range(4)], "en")
    assert marked == "<0> <1>\n\n2024–2026\n\n<2> <3>"


def test_translation_preserves_paragraph_structure(argos_packages: ArgosPackages, tmp_path: Path):
    dirs = install(argos_packages.ru_en)
    engine = engine_for(dirs, tmp_path / "store.sqlite3", {})
    [result] = ArticleTranslator(engine, ["en"]).translate_to([article(1, "ru")], "en")
    assert result.status == "done"
    paragraphs = result.body.split("\n\n")
    assert len(paragraphs) == 3 and paragraphs[1] == "2024–2026"
    assert "\n" not in paragraphs[0] and "\n" not in paragraphs[2]


# -- batching and the cache -------------------------------------------------------------------

def test_sentences_of_many_articles_go_to_the_model_together(argos_packages: ArgosPackages):
    dirs = install(argos_packages.ru_en)
    batch = [article(i, "ru", body=f"Первое {i}-е. Второе {i}-е. Третье {i}-е.", title=f"Заголовок {i}")
             for i in range(3)]
    spies: dict = {}
    ArticleTranslator(engine_for(dirs, None, spies, batch_size=32), ["en"]).translate_to(batch, "en")
    assert spies["translate-ru_en-1_0"].calls == [12]  # 3 titles + 9 sentences, one call

    spies = {}
    engine = engine_for(dirs, None, spies, batch_size=5)
    results = ArticleTranslator(engine, ["en"]).translate_to(batch, "en")
    assert spies["translate-ru_en-1_0"].calls == [5, 5, 2]
    assert [r.status for r in results] == ["done"] * 3
    assert engine.stats.calls == 3 and engine.stats.translated == 12


def test_repeated_sentences_are_translated_once_and_cached_across_runs(
    argos_packages: ArgosPackages, tmp_path: Path
):
    dirs = install(argos_packages.ru_en)
    store = tmp_path / "store.sqlite3"
    boilerplate = "Подписывайтесь на наш канал."
    batch = [article(i, "ru", body=f"Новость номер {i}. {boilerplate}", title=boilerplate)
             for i in range(4)]
    spies: dict = {}
    engine = engine_for(dirs, store, spies)
    first = ArticleTranslator(engine, ["en"]).translate_to(batch, "en")
    sent = spies["translate-ru_en-1_0"].sentences
    boilerplate_tokens = engine._packages[("ru", "en")].tokenizer.encode(boilerplate)
    assert sent.count(boilerplate_tokens) == 1  # 8 occurrences, one model input
    assert engine.stats.repeated == 7 and engine.stats.translated == 5
    engine.close()

    spies = {}
    engine = engine_for(dirs, store, spies)
    second = ArticleTranslator(engine, ["en"]).translate_to(batch, "en")
    assert spies == {}  # the model was not even loaded: every sentence came from the cache
    assert engine.stats.cached == 5 and engine.stats.translated == 0
    assert [(t.title, t.body) for t in second] == [(t.title, t.body) for t in first]
    engine.close()

    # the cache is keyed by model version: a new version translates again
    dirs = install(argos_packages.ru_en_v11)
    spies = {}
    engine = engine_for(dirs, store, spies)
    third = ArticleTranslator(engine, ["en"]).translate_to(batch, "en")
    assert sum(spies["translate-ru_en-1_1"].calls) == 5
    assert {t.model_version for t in third} == {"1.1"}
    assert TranslationCache(store).count("translate-ru_en") == 10


# -- statuses ---------------------------------------------------------------------------------

def test_each_article_gets_a_status_and_a_missing_pair_warns_once(argos_packages: ArgosPackages):
    dirs = install(argos_packages.ru_en)
    warnings: list[str] = []
    translator = ArticleTranslator(engine_for(dirs, None, {}), ["en"], warn=warnings.append)
    batch = [article(1, "ru"), article(2, "en", body="Already English."), article(3, "de"),
             article(4, "de"), article(5, "")]
    translator.translate(batch)
    by_language = {a.canonical_url: a.translation("en") for a in batch}
    ru = by_language["https://example.test/ru/1"]
    assert (ru.status, ru.model, ru.model_version, ru.source_language) == (
        "done", "translate-ru_en", "1.0", "ru")
    assert ru.title and ru.body and ru.translated_at.endswith("Z")
    assert by_language["https://example.test/en/2"].status == "skipped: already in target"
    assert by_language["https://example.test/de/3"].status == "missing-model"
    assert by_language["https://example.test/de/4"].status == "missing-model"
    assert by_language["https://example.test//5"].status == "skipped: language unknown"
    assert len(warnings) == 1 and "de→en" in warnings[0]
    assert translator.run.statuses == {"done": 1, "skipped": 2, "missing-model": 2}


def test_a_failing_article_fails_alone(argos_packages: ArgosPackages):
    dirs = install(argos_packages.ru_en)
    engine = engine_for(dirs, None, {})
    tokenizer = engine._packages[("ru", "en")].tokenizer
    real_encode = tokenizer.encode

    def encode(sentence: str):
        if "ЯД" in sentence:
            raise ValueError("poisoned sentence")
        return real_encode(sentence)

    tokenizer.encode = encode
    try:
        results = ArticleTranslator(engine, ["en"]).translate_to(
            [article(1, "ru"), article(2, "ru", body="Здесь ЯД."), article(3, "ru")], "en")
    finally:
        tokenizer.encode = real_encode
    assert [r.status for r in results] == ["done", "failed: poisoned sentence", "done"]


def test_pivot_through_english_when_no_direct_model(argos_packages: ArgosPackages, tmp_path: Path):
    dirs = install(argos_packages.nb_en, argos_packages.en_ru)
    store = tmp_path / "store.sqlite3"
    spies: dict = {}
    engine = engine_for(dirs, store, spies)
    nb = article(1, "nb", body="Dette er en test. Varsleren sto fram.", title="Lekkede torturvideoer")
    [result] = ArticleTranslator(engine, ["ru"]).translate_to([nb], "ru")
    assert result.status == "done"
    assert (result.model, result.model_version) == ("translate-nb_en+translate-en_ru", "1.0+1.0")
    assert spies["translate-nb_en-1_0"].calls == [3] and spies["translate-en_ru-1_0"].calls
    cache = TranslationCache(store)
    assert cache.count("translate-nb_en") == 3 and cache.count("translate-en_ru") >= 1


def test_a_paragraph_already_in_the_target_language_is_copied(argos_packages: ArgosPackages):
    from pipelines.language.detect import LanguageDetector

    dirs = install(argos_packages.ru_en)
    spies: dict = {}
    english = ("The prison service said on Tuesday that the videos were old and that the officers"
               " shown in them had already left the service.")
    body = f"В сеть попали видео пыток. ФСИН отрицает утечку.\n\n{english}"
    translator = ArticleTranslator(engine_for(dirs, None, spies), ["en"], detector=LanguageDetector())
    [result] = translator.translate_to([article(1, "ru", body=body)], "en")
    assert result.body.split("\n\n")[1] == english
    assert sum(spies["translate-ru_en-1_0"].calls) == 3  # title + two Russian sentences
    assert translator.run.kept_paragraphs == 1


# -- the pipeline ---------------------------------------------------------------------------------

def test_pipeline_is_off_when_translation_is_disabled():
    with pytest.raises(NotConfigured, match="NEWSMON_TRANSLATE_ENABLED"):
        TranslatePipeline.from_crawler(newsmon_crawler(NEWSMON_TRANSLATE_ENABLED=False))


def test_pipeline_can_leave_translation_to_a_later_stage(argos_packages: ArgosPackages):
    install(argos_packages.ru_en)
    crawler = newsmon_crawler(NEWSMON_TRANSLATE_DURING_CRAWL=False)
    pipeline = TranslatePipeline.from_crawler(crawler)
    pipeline.open_spider()
    try:
        assert pipeline.translator.engine is None  # no model is loaded for the crawl
        ru, en = article(1, "ru"), article(2, "en", body="English text.")
        for item in (ru, en):
            assert asyncio.run(pipeline.process_item(item)) is item
    finally:
        pipeline.close_spider()
    assert ru.translation("en").status == "pending"
    assert en.translation("en").status == "skipped: already in target"
    assert crawler.stats.get_value("newsmon/translate/pending") == 1


# -- cross-lingual search -----------------------------------------------------------------------

def test_query_translation_keeps_the_query_syntax(argos_packages: ArgosPackages, tmp_path: Path):
    dirs = install(argos_packages.en_ru)
    store = tmp_path / "store.sqlite3"
    TranslationCache(store).store("translate-en_ru", "1.0", [
        ("prison torture", "пытки в колониях"), ("leak", "утечка"), ("denial", "отрицание")])
    engine = engine_for(dirs, store, {})
    parsed = parse_query('"prison torture" OR leak -denial')
    assert translate_query(parsed, engine.translate_terms, "en", "ru") == '"пытки в колониях" OR утечка -отрицание'
    assert translate_query(parsed, engine.translate_terms, "en", "nb") is None


def test_cross_lingual_search_finds_an_untranslated_article(
    argos_packages: ArgosPackages, capsys, no_network: list
):
    install(argos_packages.en_ru)
    ctx = Context(load_config())
    ru = article(1, "ru")
    ru.translations = []
    nb = article(2, "nb", body="Torturvideoer fra fengselet.", title="Lekkede videoer")
    en = article(3, "en", body="Leaked videos show torture in prisons.", title="Torture videos")
    ctx.store.upsert([ru, nb, en])
    # the query term's translation, as the en→ru model would give it (the test model is random)
    TranslationCache(ctx.store.path).store("translate-en_ru", "1.0", [("torture", "пыток")])
    try:
        plain = ctx.backend.search(SearchRequest("torture"))
        assert [h.id for h in plain.hits] == [en.id]
        result = ctx.cross_lingual_search(SearchRequest("torture"))
    finally:
        ctx.close()
    forms = {hit.id: hit.matched_form for hit in result.hits}
    assert forms == {en.id: "original", ru.id: "ru: пыток"}
    assert result.total == 2
    assert "no model for en→nb" in capsys.readouterr().err
    assert no_network == []


# -- end to end: crawl the mock site, translate later, retranslate, search -------------------------

def _stored(db: Path) -> list[Article]:
    store = SQLiteStore(db)
    try:
        return list(store.iter_articles())
    finally:
        store.close()


def test_crawl_translate_pending_and_retranslate(
    mock_world: MockWorld, argos_packages: ArgosPackages, recording_proxy: RecordingProxy,
    monkeypatch: pytest.MonkeyPatch, capsys,
):
    monkeypatch.setenv("NEWSMON_DB", str(mock_world.db))
    monkeypatch.setenv("NEWSMON_DATA_DIR", mock_world.env["NEWSMON_DATA_DIR"])
    install(argos_packages.ru_en)
    mock_world.env.update(recording_proxy.env())

    crawl = mock_world.newsmon("crawl", "kolokol", "fjordposten", "--json", "--progress", "0")
    stats = json.loads(crawl.stdout)
    warnings = [line for line in crawl.stderr.splitlines() if "no translation model" in line]
    assert len(warnings) == 1 and "nb→en" in warnings[0]
    assert recording_proxy.requests == []  # nothing tried to reach the internet

    stored = _stored(mock_world.db)
    by_language: dict[str, list[Article]] = {}
    for a in stored:
        by_language.setdefault(a.language, []).append(a)
    assert set(by_language) == {"ru", "en", "nb"}
    for a in by_language["ru"]:
        t = a.translation("en")
        assert (t.status, t.model, t.model_version) == ("done", "translate-ru_en", "1.0")
        assert t.body.count("\n\n") == a.body.count("\n\n") and t.title
    assert {a.translation("en").status for a in by_language["nb"]} == {"missing-model"}
    assert {a.translation("en").status for a in by_language["en"]} == {"skipped: already in target"}
    ru_stats = {k.rsplit("/", 1)[1]: v for k, v in stats["kolokol"].items()
                if k.startswith("newsmon/translate/")}
    assert ru_stats["done"] >= len(by_language["ru"])  # (+ copies stored as duplicates)
    assert ru_stats["translated"] > 0 and ru_stats["calls"] >= 1
    assert ru_stats["sentences"] == (
        ru_stats["translated"] + ru_stats.get("cached", 0) + ru_stats.get("repeated", 0))
    assert stats["fjordposten"]["newsmon/translate/missing-model"] == len(by_language["nb"])

    # the translation is searchable, and the hit shows it beside the original
    word = max(by_language["ru"][0].translation("en").body.split(), key=len).strip(".,!?«»\"'")
    store = SQLiteStore(mock_world.db)
    try:
        hits = store.search(SearchRequest(f'"{word}"', collapse=False, limit=50)).hits
    finally:
        store.close()
    hit = next(h for h in hits if h.id == by_language["ru"][0].id)
    assert hit.translated_title == by_language["ru"][0].translation("en").title
    assert hit.translation_language == "en"

    # a model arrives later: translate what waited for it
    install(argos_packages.nb_en)
    assert main(["translate", "--pending"]) == 0
    out = capsys.readouterr().out
    assert f"en: {len(by_language['nb'])} done" in out
    after = {a.id: a for a in _stored(mock_world.db)}
    assert {after[a.id].translation("en").model for a in by_language["nb"]} == {"translate-nb_en"}
    # their statements were refiled with the translation (what matches them across languages)
    store = SQLiteStore(mock_world.db)
    try:
        reports = [r for a in by_language["nb"] for s in store.story_responses(a.story_id or a.id)
                   for r in s["reports"] if r["article_id"] == a.id]
    finally:
        store.close()
    assert reports and all(r["translation"] for r in reports)
    assert main(["translate", "--pending"]) == 0
    assert "en: nothing pending" in capsys.readouterr().out

    # a newer ru→en model: retranslate what the old one did, and only that
    install(argos_packages.ru_en_v11)
    assert main(["translate", "--retranslate"]) == 0
    assert f"en: {len(by_language['ru'])} done" in capsys.readouterr().out
    after = {a.id: a for a in _stored(mock_world.db)}
    assert {after[a.id].translation("en").model_version for a in by_language["ru"]} == {"1.1"}
    assert {after[a.id].translation("en").model_version for a in by_language["nb"]} == {"1.0"}


def test_a_programming_error_is_raised_not_recorded_per_article(argos_packages: ArgosPackages):
    dirs = install(argos_packages.ru_en)
    engine = engine_for(dirs, None, {})
    tokenizer = engine._packages[("ru", "en")].tokenizer
    real_encode, calls = tokenizer.encode, []

    def encode(sentence: str):
        calls.append(sentence)
        raise TypeError("a bug, not a bad article")

    tokenizer.encode = encode
    try:
        with pytest.raises(TypeError, match="a bug"):
            ArticleTranslator(engine, ["en"]).translate_to(
                [article(1, "ru"), article(2, "ru"), article(3, "ru")], "en")
    finally:
        tokenizer.encode = real_encode
    assert len(calls) == 1  # not retried article by article


def test_a_batch_that_fails_with_a_bug_leaves_its_articles_pending(tmp_path: Path):
    from scrapy.statscollectors import MemoryStatsCollector
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

    stats = MemoryStatsCollector(newsmon_crawler())
    settings = EngineSettings("cpu", "int8", 0, 1, 8, "en")
    pipeline = TranslatePipeline(argos.ArgosDirs(tmp_path, tmp_path, ""), settings, ["en"],
                                 str(tmp_path / "store.sqlite3"), stats=stats)
    batch = [(article(1, "ru"), Deferred()), (article(2, "ru"), Deferred())]
    try:
        raise TypeError("a bug")
    except TypeError:
        failure = Failure()
    pipeline._finished(failure, batch)
    assert [a.translation("en").status for a, _ in batch] == ["pending", "pending"]
    assert stats.get_value("newsmon/translate/internal_errors") == 1
    assert all(waiting.called for _, waiting in batch)  # the items go on to the store
