"""A spider that fetches nothing: it reads WARC files and hands their article responses to
the same item pipelines as a crawl (normalize, language, translate, dedup, store, index).

Normalizing (decoding, trafilatura) is the costly stage and needs no shared state, so the
spider runs its engine (``pipelines.normalize.page.normalize_pages``, handed in by the caller)
in a pool of processes, one per core
(``archive.ingest_workers``), and yields Articles in file order; NormalizePipeline passes them
on. Drops are counted under the same ``newsmon/dropped/<reason>`` keys as in a crawl.

Records are matched to an outlet by URL: an outlet's URL that is not an article URL is
counted and skipped; a host no outlet knows is kept under the host name (normalize drops
what is not an article). Broken records are counted, logged and skipped.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from multiprocessing import get_context
from typing import Any
from urllib.parse import urlsplit

import scrapy

from crawler.items import PageItem
from crawler.outlets import Outlet
from crawler.warcfiles import BrokenRecord, iter_responses
from search.article import Article
from search.store import SQLiteStore, WarcRecordRef

BATCH = 16  # pages per task sent to a worker process
# pages, min_words, max_bytes -> for each page its Article or why it is none; a module-level
# function (picklable), given by the caller: the normalize stage sits above the crawler.
Normalize = Callable[[list[PageItem], int, int], list[Article | str]]


class WarcIngestSpider(scrapy.Spider):
    name = "warc-ingest"

    def __init__(self, path: str, outlets: dict[str, Outlet], store_path: str, normalize: Normalize,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path, self.outlets, self.store_path = path, outlets, store_path
        self.normalize = normalize

    async def start(self) -> AsyncIterator[Article]:
        settings = self.crawler.settings
        min_words, max_bytes = settings.getint("NEWSMON_MIN_WORDS"), settings.getint("NEWSMON_MAX_PAGE_BYTES")
        workers = settings.getint("NEWSMON_INGEST_WORKERS") or os.cpu_count() or 1
        store = SQLiteStore(self.store_path)
        in_flight: deque[tuple[list[WarcRecordRef], Future]] = deque()
        pages: list[PageItem] = []
        refs: list[WarcRecordRef] = []
        try:
            with ProcessPoolExecutor(workers, mp_context=get_context("forkserver")) as pool:
                for record in iter_responses(self.path):
                    if isinstance(record, BrokenRecord):
                        self._count("warc/broken")
                        self.logger.warning("broken WARC record at %s:%d: %s", record.path,
                                            record.offset, record.error)
                        continue
                    self._count("warc/responses")
                    page = self._page(record)
                    if page is None:
                        continue
                    pages.append(page)
                    refs.append(record.ref())
                    if len(pages) >= BATCH:
                        in_flight.append((refs, pool.submit(self.normalize, pages, min_words, max_bytes)))
                        pages, refs = [], []
                    while len(in_flight) > 2 * workers:
                        for article in await self._finish(in_flight.popleft(), store):
                            yield article
                if pages:
                    in_flight.append((refs, pool.submit(self.normalize, pages, min_words, max_bytes)))
                while in_flight:
                    for article in await self._finish(in_flight.popleft(), store):
                        yield article
        finally:
            store.close()

    async def _finish(self, task: tuple[list[WarcRecordRef], Future], store: SQLiteStore) -> list[Article]:
        """The Articles of one finished batch, in order; its records indexed, its drops counted."""
        refs, future = task
        results = await asyncio.wrap_future(future)
        store.add_warc_records(refs)
        articles = []
        for result in results:
            if isinstance(result, Article):
                self._count("normalized")
                articles.append(result)
            else:
                self._count(f"dropped/{result}")
        return articles

    def _page(self, record: Any) -> PageItem | None:
        if record.status != 200:
            self._count("warc/skipped/not_ok")
            return None
        outlet = next((o for o in self.outlets.values() if o.is_article_url(record.url)), None)
        host = urlsplit(record.url).hostname or ""
        if outlet is None and any(self._same_site(o, host) for o in self.outlets.values()):
            self._count("warc/skipped/not_article")
            return None
        edition = outlet.edition_for(record.url, None) if outlet else None
        self._count("warc/articles")
        return PageItem(
            url=record.url, outlet=outlet.id if outlet else host,
            edition=edition.id if edition else "", edition_language=edition.language if edition else "",
            status=record.status, body=record.content, content_type=record.header("Content-Type"),
            content_language=record.header("Content-Language"), fetched_at=_utc(record.date),
            hints=dict(outlet.hints) if outlet else {}, warc_record_id=record.record_id,
        )

    @staticmethod
    def _same_site(outlet: Outlet, host: str) -> bool:
        return any(host == d or host.endswith("." + d) for d in outlet.allowed_domains)

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(f"newsmon/{key}")


def _utc(warc_date: str) -> str:
    try:
        moment = datetime.fromisoformat(warc_date)
    except ValueError:
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
