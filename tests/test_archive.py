"""ArchiveMiddleware: what it hands to the writer (bodies as received, no hop-by-hop headers)."""

from __future__ import annotations

import gzip
import io

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.archive import META_KEY, ArchiveMiddleware, Exchange


class _Collect:
    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def submit(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)


def _middleware(kinds: set[str]) -> tuple[ArchiveMiddleware, _Collect]:
    collected = _Collect()
    return ArchiveMiddleware(collected, MemoryStatsCollector(get_crawler()), frozenset(kinds)), collected


def _response(request: Request, body: bytes, flags: list[str] | None = None) -> HtmlResponse:
    headers = {"Content-Encoding": "gzip", "Transfer-Encoding": "chunked", "Content-Type": "text/html"}
    return HtmlResponse(request.url, status=200, headers=headers, body=body, request=request,
                        flags=flags or [])


def test_article_bodies_are_archived_as_received_and_discovery_only_when_asked() -> None:
    middleware, collected = _middleware({"article"})
    compressed = gzip.compress(b"<html><body><p>text</p></body></html>")
    article = Request("https://k.example/news/a", meta={"newsmon_kind": "article"})
    feed = Request("https://k.example/rss.xml", meta={"newsmon_kind": "discovery"})
    middleware.process_response(article, _response(article, compressed))
    middleware.process_response(feed, _response(feed, b"<rss/>"))
    cached = Request("https://k.example/news/b", meta={"newsmon_kind": "article"})
    middleware.process_response(cached, _response(cached, compressed, ["cached"]))
    assert [e.url for e in collected.exchanges] == ["https://k.example/news/a"]
    exchange = collected.exchanges[0]
    assert exchange.body == compressed  # still gzip: stored before HttpCompressionMiddleware
    names = {name.lower() for name, _ in exchange.response_headers}
    assert "content-encoding" in names and "transfer-encoding" not in names
    assert article.meta[META_KEY] == exchange.record_id

    middleware, collected = _middleware({"article", "discovery"})
    middleware.process_response(feed, _response(feed, b"<rss/>"))
    assert [e.url for e in collected.exchanges] == ["https://k.example/rss.xml"]


# -- reading back: a broken record --------------------------------------------------------------
def _response_member(url: str) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(
        url, "response", payload=io.BytesIO(b"<html><p>text</p></html>"), http_headers=headers))
    return out.getvalue()


def test_reading_resumes_at_the_next_warc_record_not_at_any_gzip_header(tmp_path) -> None:
    """A broken stretch can hold gzip magic bytes that start no record (a gzipped payload
    archived as received keeps its own header verbatim): resuming there would report a
    second broken record, or lose the good one after it."""
    from crawler.warcfiles import BrokenRecord, iter_responses

    path = tmp_path / "x.warc.gz"
    broken_stretch = b"\x00\x01junk" + gzip.compress(b"HTTP/1.1 200 OK\r\n\r\nnot a record")
    path.write_bytes(_response_member("https://example.org/0") + broken_stretch
                     + _response_member("https://example.org/2"))
    read = list(iter_responses(path))
    broken = [r for r in read if isinstance(r, BrokenRecord)]
    urls = [r.url for r in read if not isinstance(r, BrokenRecord)]
    assert len(broken) == 1, broken
    assert urls == ["https://example.org/0", "https://example.org/2"]
