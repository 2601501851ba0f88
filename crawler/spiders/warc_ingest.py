"""A spider that fetches nothing: it reads WARC files and hands their article responses to
the same item pipelines as a crawl (normalize, language, translate, dedup, store, index).

Records are matched to an outlet by URL: an outlet's URL that is not an article URL is
counted and skipped; a host no outlet knows is kept under the host name (normalize drops
what is not an article). Broken records are counted, logged and skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy

from crawler.items import PageItem
from crawler.outlets import Outlet
from crawler.warcfiles import BrokenRecord, iter_responses
from search.store import SQLiteStore, WarcRecordRef


class WarcIngestSpider(scrapy.Spider):
    name = "warc-ingest"

    def __init__(self, path: str, outlets: dict[str, Outlet], store_path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path, self.outlets, self.store_path = path, outlets, store_path

    async def start(self) -> AsyncIterator[PageItem]:
        store = SQLiteStore(self.store_path)
        pending: list[WarcRecordRef] = []
        try:
            for record in iter_responses(self.path):
                if isinstance(record, BrokenRecord):
                    self._count("warc/broken")
                    self.logger.warning("broken WARC record at %s:%d: %s", record.path, record.offset,
                                        record.error)
                    continue
                self._count("warc/responses")
                item = self._page(record)
                if item is None:
                    continue
                pending.append(record.ref())
                if len(pending) >= 200:
                    store.add_warc_records(pending)
                    pending = []
                yield item
            if pending:
                store.add_warc_records(pending)
        finally:
            store.close()

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
