"""HTTP faults: what a crawl does when the network or the server fails it.

The faults served by the mock site (timeouts, resets mid-body, 429 with Retry-After, 5xx
bursts, a server that never answers) are crawled in a crawl of their own beside the hostile
corpus, in ``tests/test_hostile_input.py`` (the corpus's heavy parsing would time them out);
here: the crawl where nothing at all could be fetched, and the pieces the fault handling is
made of.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from crawler.middlewares import retry_after_seconds
from newsmon.crawling import CrawlSummary, nothing_fetched

ROOT = Path(__file__).resolve().parents[1]


def test_a_crawl_where_every_request_failed_exits_non_zero_with_one_line(tmp_path: Path,
                                                                         refused_url: str):
    outlets = tmp_path / "outlets"
    outlets.mkdir()
    (outlets / "down.toml").write_text("\n".join([
        'id = "down"', 'name = "Down"', f'home = "{refused_url}/"', 'allowed_domains = ["127.0.0.1"]',
        "article_pattern = '^https?://[^/]+/news/[a-z0-9-]+$'", "",
        "[[editions]]", 'id = "en"', 'language = "en"',
        f'feeds = ["{refused_url}/rss.xml", "{refused_url}/rss2.xml"]',
        f'sitemaps = ["{refused_url}/sitemap.xml"]', "",
    ]), encoding="utf-8")
    env = {**os.environ, "NEWSMON_DB": str(tmp_path / "db.sqlite3"), "NEWSMON_OUTLETS": str(outlets),
           "NEWSMON_CONFIG": "", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "newsmon.cli", "crawl", "down", "--progress", "0",
                             "-s", "RETRY_TIMES=0"],
                            env=env, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 3, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last == ("newsmon: error: nothing could be fetched: all 3 requests failed"
                    " (connection_refused 3)")
    assert "Traceback" not in result.stderr
    assert "failed: discovery/connection_refused 3" in result.stdout  # the summary still shows


def test_a_crawl_that_fetched_something_is_not_a_failure():
    fetched = CrawlSummary("a", {"newsmon/feeds/fetched": 1, "newsmon/errors/article/timeout": 9})
    assert nothing_fetched([fetched]) is None
    idle = CrawlSummary("b", {})  # no sources at all: nothing requested, nothing failed
    assert nothing_fetched([idle]) is None
    down = CrawlSummary("c", {"newsmon/errors/discovery/dns": 2, "newsmon/errors/discovery/timeout": 1})
    assert nothing_fetched([idle, down]) == "nothing could be fetched: all 3 requests failed (dns 2, timeout 1)"


def test_retry_after_in_seconds_or_as_a_date():
    now = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"7", now) == 7.0
    assert retry_after_seconds(b"Sun, 01 Nov 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds(b"Sun, 01 Nov 2026 11:00:00 GMT", now) == 0.0  # in the past
    assert retry_after_seconds(b"soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_a_redirect_chain_ends_at_the_first_url_it_comes_back_to():
    """Even for a request that bypasses the duplicate filter (a retry after a timeout): a
    meta-refresh loop retried under load once made 21 requests for one page."""
    import pytest
    from scrapy import Request
    from scrapy.statscollectors import MemoryStatsCollector

    from crawler.middlewares import RedirectLoopMiddleware, Skipped
    from tests.plugins.environment import newsmon_crawler

    stats = MemoryStatsCollector(newsmon_crawler())
    loops = RedirectLoopMiddleware(stats)
    a, b = "https://example.org/a", "https://example.org/b"
    meta = {"newsmon_kind": "article"}
    assert loops.process_request(Request(a, meta=meta, dont_filter=True)) is None
    assert loops.process_request(Request(b, meta={**meta, "redirect_urls": [a]},
                                         dont_filter=True)) is None
    with pytest.raises(Skipped, match="redirect loop"):
        loops.process_request(Request(a, meta={**meta, "redirect_urls": [a, b]}, dont_filter=True))
    assert stats.get_value("newsmon/errors/article/redirect_loop") == 1
