"""Who said what in the web app: actor pages, the story's responses panel, actor watches.

The web test articles plus three that quote watched actors: the Kremlin spokesman in Russian
(with its English translation) and in English, and the Gulagu.net founder, whose quote and
source link are written to attack the page. Both backends: statements are read from the
store, or from Elasticsearch (``statement_source``) after a push.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from newsmon.context import Context
from pipelines.statements.actors import load_actors
from pipelines.statements.engine import StatementEngine
from search.article import Article, Translation
from tests.test_search_contract import load_elasticsearch
from tests.test_web import client_for, make_context

HOSTILE_URL = "javascript:alert('osechkin')"
PESKOV_RU = "«Мы не видели этих записей и не будем их обсуждать», — сказал Песков."


def statement_articles() -> list[Article]:
    """Fresh copies: Osechkin speaks first (an advocate), Peskov later in two languages."""
    return [
        Article(canonical_url=HOSTILE_URL, outlet="fjordposten", edition="en", language="en",
                published="2026-11-18T21:00:00Z", story_id="story-leak",
                title="<b>Founder</b> speaks",
                body='Gulagu.net founder Vladimir Osechkin said: "<script>alert(1)</script> The '
                     'videos are real <img src=x onerror=alert(2)> and we have more of them."'),
        Article(canonical_url="https://kolokol.example/news/2026/11/19/peskov", outlet="kolokol",
                edition="ru", language="ru", published="2026-11-19T09:00:00Z",
                story_id="story-leak", title="Песков о видео",
                body=f"Журналисты спросили Пескова о видео.\n\n{PESKOV_RU}",
                translations=[Translation(
                    target="en", status="done", title="Peskov on the video",
                    body="Journalists asked Peskov about the video.\n\n\"We have not seen these"
                         " recordings and will not discuss them,\" Peskov said.")]),
        Article(canonical_url="https://kolokol.example/en/news/2026/11/19/peskov", outlet="kolokol",
                edition="en", language="en", published="2026-11-19T15:00:00Z",
                story_id="story-leak", title="Kremlin will not discuss the videos",
                body='Kremlin spokesman Dmitry Peskov said: "We have not seen these recordings'
                     ' and will not discuss them."'),
    ]


@pytest.fixture(scope="module")
def engine() -> StatementEngine:
    return StatementEngine(load_actors().values())


def with_statements(tmp_path: Path, engine: StatementEngine) -> Context:
    context = make_context(tmp_path)
    context.store.upsert(statement_articles())
    engine.rebuild(context.store)
    return context


@pytest.fixture(params=["sqlite", "elasticsearch"])
def ctx(request: pytest.FixtureRequest, tmp_path: Path, engine: StatementEngine) -> Iterator[Context]:
    context = with_statements(tmp_path, engine)
    index = None
    if request.param == "elasticsearch":
        from search.elastic_statements import StatementIndex

        url = request.getfixturevalue("elasticsearch_url")
        es = load_elasticsearch(url, request.getfixturevalue("index_name"))
        context._backend = es
        context.config.values["index"]["url"] = url  # statement_source: Elasticsearch
        index = StatementIndex(es)
        assert index.push(context.store).written == 3
        context.store.clear_statements()  # from here on, only Elasticsearch can answer
    try:
        yield context
    finally:
        if index is not None:
            es = index.backend
            es._call(es.client.indices.delete, index=index.name, ignore_unavailable=True)
            es.drop()
        context.close()


@pytest.fixture
def sqlite_ctx(tmp_path: Path, engine: StatementEngine) -> Iterator[Context]:
    context = with_statements(tmp_path, engine)
    yield context
    context.close()


def test_the_story_page_lists_who_responded_officials_first(ctx: Context):
    client = client_for(ctx)
    responses = client.get("/api/story/story-leak").json()["responses"]
    assert [e["speaker"] for e in responses] == ["peskov", "osechkin"]  # official before advocate
    assert [e["kind"] for e in responses] == ["official", "person"] and responses[0]["actor"]
    [said] = responses[0]["statements"]
    assert said["outlets"] == ["kolokol"] and said["languages"] == ["en", "ru"]
    assert [r["language"] for r in said["reports"]] == ["ru", "en"]  # in order of report
    assert [r["first_report"] for r in said["reports"]] == [True, False]
    assert said["reports"][0]["translation"].startswith('"We have not seen')
    assert said["reports"][0]["link"].startswith("https://kolokol.example/")
    page = client.get("/story/story-leak").text
    panel = page[page.index('<details class="responses" id="responses" open>'):]
    assert panel.index('href="/actors/peskov"') < panel.index('href="/actors/osechkin"')
    assert "We have not seen these recordings" in panel and "first report" in panel
    denial = client.get("/api/story/story-denial").json()["responses"]
    assert [e["speaker"] for e in denial] == ["fsin"]  # «Представитель ФСИН заявил, что ...»
    if ctx.config.section("index")["url"]:  # an index without statements: the story still shows
        from search.elastic_statements import StatementIndex

        index = StatementIndex(ctx.backend)
        index.backend._call(index.backend.client.indices.delete, index=index.name)
        story = client.get("/api/story/story-leak").json()
        assert story["responses"] == [] and "newsmon index sync" in story["responses_note"]
        assert "newsmon index sync" in client.get("/story/story-leak").text


def test_the_actor_page_and_its_json_twin(ctx: Context):
    client = client_for(ctx)
    listed = {a["id"]: a for a in client.get("/api/actors").json()}
    assert listed["peskov"]["kind"] == "official" and listed["peskov"]["statements"] == 1
    data = client.get("/api/actors/peskov").json()
    assert data["name"] == "Dmitry Peskov" and data["parent"] == "kremlin_press_office"
    assert "Песков" in data["names"]["ru"] and data["roles"]["en"]
    [said] = data["statements"]
    assert said["kind"] == "direct" and said["text"] == PESKOV_RU.split("»")[0].lstrip("«")
    assert said["translation"].startswith('"We have not seen')
    assert {r["outlet"] for r in said["reports"]} == {"kolokol"}
    assert client.get("/api/actors/Пескову").json()["id"] == "peskov"  # any name, any case
    assert client.get("/api/actors/peskov", params={"since": "2026-12-01"}).json()[
        "statements"] == []
    assert client.get("/api/actors/nobody-at-all").status_code == 404
    assert client.get("/api/actors/peskov", params={"since": "soon"}).status_code == 422
    page = client.get("/actors/peskov").text
    assert re.search(r'<figure class="chart" id="timeline">\s*<svg', page)
    assert len(re.findall(r"<circle ", page)) == 2  # one dot per report
    assert len(re.findall(r'class="dot [^"]*earliest"', page)) == 1
    for report in said["reports"]:
        assert f'href="/article/{report["article_id"]}"' in page
    assert 'href="/actors/kremlin_press_office"' in page and 'id="watch-actor"' in page
    assert client.get("/actors/nobody-at-all").status_code == 404
    assert 'href="/actors/peskov"' in client.get("/actors").text


def test_crawled_statements_are_shown_as_text(sqlite_ctx: Context):
    client = client_for(sqlite_ctx)
    data = client.get("/api/actors/osechkin").json()
    [said] = data["statements"]
    assert "<script>alert(1)</script>" in said["text"]  # kept as written, as text
    assert said["reports"][0]["link"] is None  # a javascript: source is never a link
    for page in (client.get("/actors/osechkin").text, client.get("/story/story-leak").text):
        assert "<script" not in page.lower()
        assert not re.search(r"<(img|svg|a)\b[^>]*\son\w+=", page, re.IGNORECASE)
        assert "javascript:" not in re.sub(r">[^<]*<", "><", page)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_watch_an_actor_from_its_page_and_the_api(sqlite_ctx: Context):
    client = client_for(sqlite_ctx)
    page = client.get("/actors/peskov").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert client.post("/actors/peskov/watch", data={"name": "kremlin"}).status_code == 403
    made = client.post("/actors/peskov/watch", data={"name": "kremlin", "csrf": csrf},
                       follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/saved"
    [saved] = client.get("/api/saved").json()
    assert saved["actor"] == "peskov" and saved["query"] == ""
    assert 'new statements of <a href="/actors/peskov">' in client.get("/saved").text
    feed = feedparser.parse(client.get("/saved/kremlin/feed.atom").content)
    assert not feed.bozo, feed.bozo_exception
    [entry] = feed.entries
    assert entry.id.startswith("urn:newsmon:statement:") and entry.title.startswith("Dmitry Peskov:")
    assert "/article/" in entry.link and "We have not seen" in entry.summary
    by_name = client.post("/api/saved", json={"name": "founder", "actor": "Осечкина"})
    assert by_name.status_code == 201 and by_name.json()["actor"] == "osechkin"
    assert client.post("/api/saved", json={"name": "both", "q": "x", "actor": "peskov"}
                       ).status_code == 400
    assert client.post("/api/saved", json={"name": "neither"}).status_code == 400
    assert client.post("/api/saved", json={"name": "who", "actor": "nobody-at-all"}
                       ).status_code == 404


def test_serve_stops_at_a_broken_actor_file(tmp_path: Path):
    (tmp_path / "actors").mkdir()
    (tmp_path / "actors" / "bad.toml").write_text('id = "x"\nkind = "pope"\n[names]\nen = ["X"]\n',
                                                 encoding="utf-8")
    env = {"NEWSMON_DB": str(tmp_path / "x.sqlite3"), "PATH": "/usr/bin:/bin",
           "NEWSMON_ACTORS": str(tmp_path / "actors"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-m", "newsmon.cli", "serve", "--port", "0"],
                            check=False, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode != 0 and "serving at" not in result.stdout
    assert result.stderr.strip().count("\n") == 0 and "bad.toml: field 'kind'" in result.stderr
