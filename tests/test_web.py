"""The web app and its JSON API, in process (FastAPI's test client), on both backends.

The same article set as the search contract, plus an article written to attack the page:
script tags, event-handler attributes, a ``javascript:`` link and stray highlight marks.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from crawler.config import load_config
from newsmon.context import Context
from search.article import Article
from search.base import MARK_END, MARK_START
from tests.test_search_contract import ID, article_set, load_elasticsearch

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx2
    from fastapi.testclient import TestClient

from newsmon.web.app import create_app
from newsmon.web.security import CSP

EVIL_TITLE = '<script>alert("title")</script> Saratov <img src=x onerror=alert(1)>'
EVIL_BODY = (
    'Saratov <script>document.title="pwned"</script> report.\n\n'
    '<a href="javascript:alert(2)">click</a> <svg onload=alert(3)></svg> '
    f"{MARK_END}</mark><script>x</script>{MARK_START} Saratov again"
)
EVIL_URL = "javascript:alert(document.cookie)"


def evil_article() -> Article:
    return Article(canonical_url=EVIL_URL, outlet="kolokol", edition="en", language="en",
                   published="2026-11-22T09:00:00Z", title=EVIL_TITLE, body=EVIL_BODY)


def make_context(tmp_path: Path) -> Context:
    config = load_config()
    config.values["store"]["path"] = str(tmp_path / "web.sqlite3")
    config.values["web"]["page_size"] = 3
    ctx = Context(config)
    ctx.store.upsert([*article_set().values(), evil_article()])
    return ctx


@pytest.fixture(params=["sqlite", "elasticsearch"])
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Context]:
    """The articles in the store, searched by the embedded backend or by Elasticsearch."""
    context = make_context(tmp_path)
    es = None
    if request.param == "elasticsearch":
        es = load_elasticsearch(request.getfixturevalue("elasticsearch_url"),
                                request.getfixturevalue("index_name"))
        es.upsert([evil_article()])
        es.refresh()
        context._backend = es
    try:
        yield context
    finally:
        if es is not None:
            es.drop()
        context.close()


@pytest.fixture
def sqlite_ctx(tmp_path: Path) -> Iterator[Context]:
    context = make_context(tmp_path)
    yield context
    context.close()


def client_for(context: Context, token: str = "") -> TestClient:
    return TestClient(create_app(context, token=token), base_url="http://127.0.0.1:8765")


# -- search ------------------------------------------------------------------------------------

def test_search_groups_by_story_with_facets_and_paging(ctx: Context):
    client = client_for(ctx)
    answer = client.get("/api/search", params={"q": "Saratov", "per_page": 50}).json()
    assert answer["unit"] == "stories" and answer["pages"] == 1
    leak = next(h for h in answer["hits"] if h["story_id"] == "story-leak")
    assert leak["story_size"] == 3 and leak["story_outlets"] == ["fjordposten", "kolokol"]
    assert set(leak["story_languages"]) == {"en", "nb", "ru"}
    assert answer["facets"]["outlet"]["fjordposten"] >= 2
    assert answer["facets"]["day"]["2026-11-18"] >= 2
    first = client.get("/api/search", params={"q": "Saratov", "per_page": 2}).json()
    assert first["pages"] == -(-answer["total"] // 2) > 1
    pages = [client.get("/api/search", params={"q": "Saratov", "per_page": 2, "page": n}).json()
             for n in range(1, first["pages"] + 1)]
    seen = [h["id"] for p in pages for h in p["hits"]]
    assert len(seen) == len(set(seen)) == answer["total"]
    every = client.get("/api/search", params={"q": "Saratov", "all": "true"}).json()
    assert every["unit"] == "articles" and every["total"] > answer["total"]


def test_filters_and_facet_links_narrow_the_search(ctx: Context):
    client = client_for(ctx)
    only = client.get("/api/search", params={"q": "Saratov", "language": "nb", "all": 1}).json()
    assert {h["language"] for h in only["hits"]} == {"nb"}
    dated = client.get("/api/search", params={"q": "Saratov", "from": "2026-11-20",
                                               "to": "2026-11-21", "all": 1}).json()
    assert {h["published"][:10] for h in dated["hits"]} <= {"2026-11-20", "2026-11-21"}
    page = client.get("/search", params={"q": "Saratov"}).text
    link = re.search(r'href="/search\?([^"]*)"[^>]*data-facet="outlet" data-value="fjordposten"',
                     page)
    assert link, "a facet link for the outlet"
    narrowed = client.get("/api/search?" + link.group(1).replace("&amp;", "&")).json()
    assert {h["outlet"] for h in narrowed["hits"]} == {"fjordposten"}
    # the chosen outlet does not hide the others: their counts stay, to add or switch
    assert set(narrowed["facets"]["outlet"]) == {"fjordposten", "kolokol"}
    assert set(narrowed["facets"]["language"]) == {"nb"}  # other facets follow the filter
    page = client.get("/search?" + link.group(1).replace("&amp;", "&")).text
    assert re.search(r'class="on"\s+data-facet="outlet" data-value="fjordposten"', page)


def test_sort_by_date(ctx: Context):
    client = client_for(ctx)
    hits = client.get("/api/search", params={"q": "Saratov", "sort": "newest", "all": 1,
                                              "per_page": 50}).json()["hits"]
    dates = [h["published"] for h in hits if h["published"]]
    assert dates == sorted(dates, reverse=True)


def test_the_search_page_shows_highlights_histogram_and_story_line(ctx: Context):
    page = client_for(ctx).get("/search", params={"q": "torture"}).text
    assert "<mark>torture</mark>" in page.lower() or "<mark>Torture</mark>" in page
    assert re.search(r'<figure class="chart" id="histogram">\s*<svg', page)
    assert len(re.findall(r"<rect ", page)) >= 2
    assert re.search(r"also in 2 outlets, 3 languages", page)


def test_the_cross_language_switch_searches_translated_forms_too(sqlite_ctx: Context):
    answer = client_for(sqlite_ctx).get("/api/search", params={"q": "torture", "cross": 1}).json()
    assert answer["query"]["cross"] is True and answer["total"] >= 1
    assert {h["matched_form"] for h in answer["hits"]} == {"original"}  # no model installed


def test_bad_input_is_a_clear_4xx(sqlite_ctx: Context):
    client = client_for(sqlite_ctx)
    assert client.get("/api/search", params={"q": ""}).status_code == 400
    assert client.get("/api/search", params={"q": "-only"}).status_code == 400
    assert client.get("/api/search", params={"q": "x", "from": "2026-13-40"}).status_code == 422
    assert client.get("/api/search", params={"q": "x", "from": "2026-11-20",
                                              "to": "2026-11-01"}).status_code == 400
    assert client.get("/api/search", params={"q": "x", "sort": "random"}).status_code == 422
    assert client.get("/search", params={"q": "x", "from": "", "to": ""}).status_code == 200
    html = client.get("/search", params={"q": "x", "from": "nope"})
    assert html.status_code == 422 and "text/html" in html.headers["content-type"]
    assert client.get("/api/article/nope").status_code == 404
    assert client.get("/story/nope").status_code == 404


# -- reading -----------------------------------------------------------------------------------

def test_article_page_pairs_original_and_translation_by_paragraph(sqlite_ctx: Context):
    client = client_for(sqlite_ctx)
    data = client.get(f"/api/article/{ID['R1']}").json()
    assert data["paragraphs"][0]["original"].startswith("Правозащитники")
    assert data["paragraphs"][0]["translation"].startswith("Human rights defenders")
    assert {m["id"] for m in data["story"]} == {ID["E1"], ID["N1"]}
    page = client.get(f"/article/{ID['R1']}").text
    assert '<p class="original" lang="ru">Правозащитники' in page
    assert '<p class="translation" lang="en">Human rights defenders' in page
    assert f'href="{article_set()["R1"].canonical_url}"' in page
    assert 'href="/story/story-leak"' in page


def test_story_page_shows_the_timeline_with_the_earliest_report_marked(sqlite_ctx: Context):
    client = client_for(sqlite_ctx)
    data = client.get("/api/story/story-leak").json()
    assert [a["id"] for a in data["articles"]] == [ID["R1"], ID["E1"], ID["N1"]]
    assert data["earliest"] == ID["R1"]
    page = client.get("/story/story-leak").text
    assert len(re.findall(r"<circle ", page)) == 3
    assert len(re.findall(r'class="dot [^"]*earliest"', page)) == 1
    assert f'<a href="/article/{ID["R1"]}"><circle' in page


# -- security ----------------------------------------------------------------------------------

def test_crawled_markup_is_shown_as_text_everywhere(sqlite_ctx: Context):
    client = client_for(sqlite_ctx)
    evil_id = evil_article().id
    pages = [client.get("/search", params={"q": "Saratov again"}).text,
             client.get("/search", params={"q": "pwned"}).text,
             client.get(f"/article/{evil_id}").text,
             client.get(f"/story/{evil_id}").text]
    for page in pages:
        assert "<script" not in page.lower()
        assert not re.search(r"<(img|svg|a)\b[^>]*\son\w+=", page, re.IGNORECASE)
        assert "javascript:" not in re.sub(r">[^<]*<", "><", page)  # only as text, never in a tag
        assert page.count("<mark>") == page.count("</mark>")
    assert "&lt;script&gt;" in pages[2] and "(not a web link)" in pages[2]
    assert client.get("/api/article/" + evil_id).json()["link"] is None


def test_every_response_carries_a_strict_policy(sqlite_ctx: Context):
    client = client_for(sqlite_ctx)
    for path in ("/", "/search?q=x", "/api/stats", "/static/style.css", "/nope"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "'unsafe-inline'" not in CSP and "default-src 'self'" in CSP
    assert "<script" not in client.get("/search?q=Saratov").text  # no inline script at all


def test_forms_that_change_state_need_the_page_token(sqlite_ctx: Context):
    client = client_for(sqlite_ctx)
    page = client.get("/search", params={"q": "Saratov"}).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    target = "/saved?q=Saratov"
    assert client.post(target, data={"name": "x"}).status_code == 403
    assert client.post(target, data={"name": "x", "csrf": "forged"}).status_code == 403
    cross = client.post(target, data={"name": "x", "csrf": csrf},
                        headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert client.post("/api/saved", json={"name": "x", "q": "y"},
                       headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    form_to_api = client.post("/api/saved", data={"name": "x", "q": "y"})  # what a form can send
    assert form_to_api.status_code == 422
    assert sqlite_ctx.store.saved_searches() == []
    ok = client.post(target, data={"name": "Saratov watch", "csrf": csrf}, follow_redirects=False)
    assert ok.status_code == 303
    assert [s["name"] for s in sqlite_ctx.store.saved_searches()] == ["Saratov watch"]


def test_a_loopback_server_answers_only_to_its_own_names(sqlite_ctx: Context):
    client = TestClient(create_app(sqlite_ctx, hosts=["127.0.0.1", "localhost"]),
                        base_url="http://127.0.0.1:8765")
    assert client.get("/api/stats").status_code == 200
    rebound = client.get("/api/stats", headers={"Host": "attacker.example:8765"})
    assert rebound.status_code == 400  # a DNS-rebinding page cannot read the API


def test_a_token_guards_every_page_and_is_never_echoed(sqlite_ctx: Context):
    token = "s3cret-token-for-tests-0123456789"
    client = client_for(sqlite_ctx, token=token)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/stats").status_code == 401
    assert client.get("/api/stats", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/stats", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/stats", auth=("feeds", token)).status_code == 200
    login = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
    bad = client.post("/login", data={"token": "nope", "csrf": csrf})
    assert bad.status_code == 401 and token not in bad.text
    good = client.post("/login", data={"token": token, "csrf": csrf}, follow_redirects=False)
    assert good.status_code == 303 and token not in good.headers["set-cookie"]
    assert client.get("/api/stats").status_code == 200  # the session cookie


# -- saved searches, feeds, export ---------------------------------------------------------------

def test_saved_search_api_and_its_atom_feed(sqlite_ctx: Context):
    client = client_for(sqlite_ctx)
    made = client.post("/api/saved", json={"name": "leak", "q": "torture", "language": ["en"]})
    assert made.status_code == 201 and made.json()["languages"] == ["en"]
    assert client.post("/api/saved", json={"name": "bad/name", "q": "x"}).status_code == 400
    assert client.post("/api/saved", json={"name": "w", "q": "x",
                                           "webhook": "file:///etc/passwd"}).status_code == 400
    assert [s["name"] for s in client.get("/api/saved").json()] == ["leak"]
    feed = client.get("/saved/leak/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo, parsed.bozo_exception
    titles = [e.title for e in parsed.entries]
    assert titles and all(e.link.startswith("http://127.0.0.1:8765/article/") for e in parsed.entries)
    assert any("Prison torture videos leaked" in t for t in titles)
    assert client.get("/saved/none/feed.atom").status_code == 404
    assert client.delete("/api/saved/leak").status_code == 204
    assert client.get("/api/saved/leak").status_code == 404


def test_export_streams_every_hit_across_backend_pages(tmp_path: Path):
    config = load_config()
    config.values["store"]["path"] = str(tmp_path / "many.sqlite3")
    context = Context(config)
    try:
        context.store.upsert([
            Article(canonical_url=f"https://x.example/{n}", outlet="x", language="en",
                    published=f"2026-10-{n % 28 + 1:02d}T00:00:00Z", title=f"=cmd|{n} Saratov",
                    body=f"Report number {n} from Saratov about the colony.")
            for n in range(1203)
        ])
        client = client_for(context)
        with client.stream("GET", "/api/export.csv", params={"q": "Saratov"}) as response:
            chunks = list(response.iter_text())
        rows = list(csv.DictReader(io.StringIO("".join(chunks))))
        assert len(rows) == 1203 and len({r["id"] for r in rows}) == 1203
        assert all(r["title"].startswith("'=") for r in rows)  # no spreadsheet formulas
        data = json.loads(client.get("/api/export.json", params={"q": "Saratov"}).text)
        assert len(data) == 1203
    finally:
        context.close()


# -- the API, fuzzed from its own description --------------------------------------------------

def test_fuzz_the_api_from_its_openapi_description(sqlite_ctx: Context):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import response_schema_conformance

    app = create_app(sqlite_ctx)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures, calls = [], []
    operations = [operation.ok() for operation in schema.get_all_operations()]
    assert len(operations) >= 10  # search, facets, stats, article, story, saved x4, feed, export x2
    for op in operations:
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def check(case) -> None:
            response = case.call()
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, case.query, response.text[:200]))
            elif response.status_code == 200:  # what it answers is what it describes
                case.validate_response(response, checks=[response_schema_conformance])

        check()
    assert failures == []
    assert len(calls) >= 5 * len(operations) and any(c == 200 for c in calls)


# -- the command line ----------------------------------------------------------------------------

def test_serve_refuses_a_public_address_without_a_token(tmp_path: Path):
    env = {"NEWSMON_DB": str(tmp_path / "x.sqlite3"), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-m", "newsmon.cli", "serve", "--host", "0.0.0.0"],
                            check=False, capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "NEWSMON_WEB_TOKEN" in result.stderr
    weak = subprocess.run([sys.executable, "-m", "newsmon.cli", "serve", "--host", "0.0.0.0"],
                          check=False, capture_output=True, text=True, timeout=60,
                          env={**env, "NEWSMON_WEB_TOKEN": "short"})
    assert weak.returncode == 2 and "too short" in weak.stderr and "short" not in weak.stdout
