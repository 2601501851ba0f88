"""The web app in a real browser: Debian's headless Chromium driven by Playwright.

One module-wide world: the mock outlets crawled with the tiny ru→en test model (so Russian
articles have translations), an article written to attack the page, ``newsmon serve`` in a
subprocess on port 0, and one browser. Screenshots go to $NEWSMON_TEST_ARTIFACTS (or a
temporary folder) for a person to look at.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest

from newsmon.mocksite import ACTORS as DEMO_ACTORS
from pipelines.translate import argos
from search.article import Article
from search.store import SQLiteStore
from tests.plugins.argos import ArgosPackages
from tests.plugins.mocksite import SITES, open_world
from tests.test_watch import Receiver
from tests.test_web import EVIL_BODY, EVIL_TITLE

CHROMIUM = "/usr/bin/chromium"
EVIL_URL = "javascript:alert('source')"


@dataclass
class Served:
    url: str
    env: dict[str, str]
    db: Path
    shots: Path
    evil_id: str
    leak_story: str  # the demo's leak story, which officials and advocates respond to


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, argos_packages: ArgosPackages) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("web")
    argos.install_file(argos.ArgosDirs(root / "data" / "argos-packages", root / "data" / "argos-home"),
                       argos_packages.ru_en)
    with open_world(root, NEWSMON_ACTORS=str(DEMO_ACTORS)) as world:
        server = None
        try:
            world.newsmon("crawl", *SITES, "--progress", "0", timeout=300)
            store = SQLiteStore(world.db)
            evil = Article(canonical_url=EVIL_URL, outlet="kolokol", edition="en", language="en",
                           published="2026-11-22T09:00:00Z", title=EVIL_TITLE, body=EVIL_BODY)
            store.upsert([evil])
            leak = store.story_of_url(world.sites["kolokol"].url + "/news/2026/11/19/leak-video")
            store.close()
            assert leak, "the leak story was not crawled"
            server = subprocess.Popen(
                [sys.executable, "-m", "newsmon.cli", "serve", "--port", "0"],
                stdout=subprocess.PIPE, text=True, env=world.env)
            line = server.stdout.readline()
            match = re.match(r"serving at (http://\S+/)", line)
            assert match, f"the server did not start: {line!r}"
            shots = Path(os.environ.get("NEWSMON_TEST_ARTIFACTS") or root / "screenshots")
            shots.mkdir(parents=True, exist_ok=True)
            yield Served(match.group(1).rstrip("/"), world.env, world.db, shots, evil.id, leak)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(served: Served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, served: Served):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    context.close()


def test_search_facet_and_histogram(page, served: Served):
    page.goto(served.url + "/")
    page.fill("input[name=q]", "пытки OR torture OR tortur")
    page.click("button[type=submit]")
    page.wait_for_selector("ol.hits li.hit")
    assert page.locator("#histogram svg rect").count() >= 1
    facet = {a.get_attribute("data-value") for a in page.locator("#facet-language a").all()}
    assert {"ru", "en", "nb"} <= facet
    assert page.locator(".hit .story a").count() >= 1  # grouped by story
    page.screenshot(path=served.shots / "search.png", full_page=True)
    page.click("#facet-language a[data-value=ru]")
    page.wait_for_url(re.compile(r"language=ru"))
    languages = {t.strip().lower() for t in page.locator(".hit .lang").all_inner_texts()}
    assert languages == {"ru"}
    assert page.locator("#facet-language a.on").inner_text() == "ru"
    assert page.locator("#facet-language a").count() >= 3  # the other languages stay offered
    page.locator("#histogram a.bar").first.click()  # a day of the chart: only that day
    page.wait_for_url(re.compile(r"from=\d{4}-\d\d-\d\d&to="))
    days = {d.strip().rsplit(" ", 1)[-1] for d in page.locator(".hit .meta").all_inner_texts()}
    assert len(days) == 1 and page.locator("ol.hits li.hit").count() >= 1
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=served.shots / "search-phone.png", full_page=True)


def test_article_side_by_side_and_its_story_timeline(page, served: Served):
    page.goto(served.url + "/search?q=видеорегистраторы&language=ru")
    page.click("ol.hits li.hit h3 a")
    page.wait_for_selector(".side-by-side")
    originals = page.locator(".side-by-side p.original")
    translations = page.locator(".side-by-side p.translation")
    assert originals.count() >= 3 and translations.count() == originals.count()
    assert re.search(r"[а-яё]", originals.first.inner_text(), re.IGNORECASE)
    assert translations.first.inner_text().strip()
    assert page.locator(".colhead").nth(1).inner_text().lower().startswith("translation (en)")
    page.screenshot(path=served.shots / "article.png", full_page=True)
    page.click("text=timeline of this story")
    page.wait_for_selector("#timeline svg")
    assert page.locator("#timeline circle").count() >= 1
    assert page.locator("#timeline circle.earliest").count() == 1
    assert page.locator(".timeline-list li.earliest .badge").inner_text() == "earliest report"
    page.screenshot(path=served.shots / "story.png", full_page=True)


def test_who_responded_to_the_story_and_an_actor_page(page, served: Served):
    page.goto(served.url + f"/story/{served.leak_story}")
    panel = page.locator("#responses")
    panel.scroll_into_view_if_needed()
    assert panel.get_attribute("open") is not None  # open when someone responded
    kinds = [k.strip() for k in panel.locator(".speaker-entry > h3 .kind").all_inner_texts()]
    # officials and the bodies they speak for first (engine.RESPONSE_ORDER), then people
    assert len(kinds) >= 4 and kinds[0] in ("official", "body") and "person" in kinds
    first_person = kinds.index("person")
    assert "official" in kinds[:first_person]
    assert all(kind not in ("official", "body") for kind in kinds[first_person:])
    languages = {t.split("·")[1].strip() for t in panel.locator(".reports a[href^='/article/']")
                 .all_inner_texts()}
    assert {"ru", "en", "nb"} <= languages
    page.screenshot(path=served.shots / "story-responses.png", full_page=True)
    panel.locator("summary").click()  # the panel folds away and opens again
    assert panel.get_attribute("open") is None
    panel.locator("summary").click()
    panel.locator("a.actor").first.click()
    page.wait_for_selector("#timeline svg")
    assert page.locator("h1 .kind").inner_text() in ("official", "body")  # the first listed
    assert page.locator("#timeline circle").count() >= 1
    assert page.locator("#timeline circle.earliest").count() >= 1
    assert page.locator("li.statement").count() >= 1
    assert page.locator("#watch-actor button").is_visible()
    page.screenshot(path=served.shots / "actor.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=served.shots / "actor-phone.png", full_page=True)
    page.locator("li.statement .reports a[href^='/article/']").first.click()
    page.wait_for_selector(".side-by-side")  # the report's article


def test_save_a_search_read_its_feed_and_get_a_webhook_alert(page, served: Served):
    receiver = Receiver()
    try:
        page.goto(served.url + "/search?q=whistleblower")
        page.fill("#save-search input[name=name]", "whistleblower")
        page.fill("#save-search input[name=webhook]", receiver.url)
        page.click("#save-search button")
        page.wait_for_url(re.compile(r"/saved$"))
        assert "whistleblower" in page.locator("ul.saved").inner_text()
        feed_url = page.locator("ul.saved a.feed").first.get_attribute("href")
        feed = page.request.get(served.url + feed_url)
        assert feed.headers["content-type"].startswith("application/atom+xml")
        parsed = feedparser.parse(feed.body())
        assert not parsed.bozo and parsed.entries
        assert all("whistleblower" in (e.title + e.summary).lower() for e in parsed.entries)
        run = subprocess.run([sys.executable, "-m", "newsmon.cli", "watch", "run"],
                             capture_output=True, text=True, env=served.env, timeout=120,
                             check=False)
        assert run.returncode == 0, run.stderr
        assert len(receiver.bodies) == 1
        alert = receiver.bodies[0]
        assert alert["saved_search"] == "whistleblower" and alert["new"]
        assert {e.id.rsplit(":", 1)[1] for e in parsed.entries} <= {m["id"] for m in alert["new"]}
    finally:
        receiver.close()


def test_a_hostile_article_renders_inert(page, served: Served):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    for path in ("/search?q=Saratov+again", f"/article/{served.evil_id}", "/search?q=pwned"):
        page.goto(served.url + path)
        page.wait_for_load_state("load")
        found = page.evaluate("""() => ({
            scripts: document.querySelectorAll('script').length,
            handlers: [...document.querySelectorAll('*')].flatMap(el =>
                [...el.attributes].filter(a => a.name.toLowerCase().startsWith('on'))
                .map(a => el.tagName + ' ' + a.name)),
            jsLinks: [...document.querySelectorAll('[href],[src]')].filter(el =>
                /^\\s*javascript:/i.test(el.getAttribute('href') || el.getAttribute('src') || ''))
                .length,
            title: document.title,
        })""")
        assert found["scripts"] == 0 and found["handlers"] == [] and found["jsLinks"] == 0, path
        assert found["title"] != "pwned"  # what the injected script would set
    assert page.dialogs == []
    page.goto(served.url + f"/article/{served.evil_id}")
    assert "<script>alert" in page.locator("h1").inner_text()  # shown as text
    page.screenshot(path=served.shots / "hostile.png", full_page=True)
