"""WARC archiving of what the crawl fetched: a writer thread and the middleware that feeds it.

The middleware sits next to the downloader (before ``HttpCompressionMiddleware`` unpacks a
body), so a record keeps the body with its content coding, as the server sent it; only the
transfer coding (chunks) is gone, as in every WARC tool. Writing and gzipping happen on a
dedicated thread behind a bounded queue, so the reactor never waits for the disk unless the
queue is full. Each written response is indexed in the store (file, offset, length, SHA-256
of the payload), which is what ``newsmon verify`` and the evidence bundle read back.
"""

from __future__ import annotations

import base64
import hashlib
import queue
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import wiring
from search.errors import NewsmonError
from search.store import SQLiteStore, WarcRecordRef

META_KEY = "newsmon_warc_record"  # request.meta: the WARC-Record-ID of the latest response
_HOP_BY_HOP = {b"transfer-encoding", b"connection", b"keep-alive"}


def software() -> str:
    try:
        return f"newsmon/{metadata.version('newsmon')}"
    except metadata.PackageNotFoundError:
        return "newsmon"


def sha256_digest(data: bytes) -> str:
    """A WARC digest header value: ``sha256:`` and the base32 digest."""
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode("ascii")


@dataclass
class Exchange:
    """One request and its response, as the crawl saw them: the unit of archiving."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    protocol: str
    response_headers: list[tuple[str, str]]
    body: bytes
    date: datetime = field(default_factory=lambda: datetime.now(UTC))
    record_id: str = field(default_factory=lambda: f"<urn:uuid:{uuid.uuid4()}>")


class WarcFileWriter:
    """Append exchanges to ``<dir>/<prefix>-<time>-<n>.warc.gz``, one gzip member per record.

    A new file starts when the current one passes ``max_bytes``; each file opens with a
    warcinfo record. Not thread-safe: one thread (``ArchiveThread``) owns it.
    """

    def __init__(self, directory: Path, max_bytes: int, prefix: str = "newsmon") -> None:
        self.directory, self.max_bytes, self.prefix = directory, max_bytes, prefix
        self.directory.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] | None = None
        self._path: Path | None = None
        self._writer: WARCWriter | None = None
        self._serial = 0

    def _open(self) -> None:
        self.close()
        self._serial += 1
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        self._path = self.directory / f"{self.prefix}-{stamp}-{self._serial:05d}.warc.gz"
        self._file = self._path.open("xb")
        self._writer = WARCWriter(self._file, gzip=True, warc_version="1.1")
        self._writer.write_record(_warcinfo(self._writer, self._path.name))

    @staticmethod
    def warcinfo_bytes(filename: str) -> bytes:
        """A gzipped warcinfo record on its own, to start a file of copied records."""
        out = BytesIO()
        writer = WARCWriter(out, gzip=True, warc_version="1.1")
        writer.write_record(_warcinfo(writer, filename))
        return out.getvalue()

    def write(self, exchange: Exchange) -> WarcRecordRef:
        """Write the response record then its request record; return where the response is."""
        if self._file is None or self._file.tell() >= self.max_bytes:
            self._open()
        assert self._writer is not None and self._file is not None and self._path is not None
        date = exchange.date.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        payload_sha256 = hashlib.sha256(exchange.body).hexdigest()
        reason = _reason(exchange.status)
        http_headers = StatusAndHeaders(
            f"{exchange.status} {reason}".strip(), exchange.response_headers,
            protocol=exchange.protocol, is_http_request=False,
        )
        response = self._writer.create_warc_record(
            exchange.url, "response", payload=BytesIO(exchange.body), length=len(exchange.body),
            http_headers=http_headers, warc_headers_dict={
                "WARC-Record-ID": exchange.record_id, "WARC-Date": date,
                "WARC-Payload-Digest": sha256_digest(exchange.body),
            },
        )
        target = urlsplit(exchange.url)
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        request_headers = StatusAndHeaders(
            f"{exchange.method} {path} {exchange.protocol}",
            [("Host", target.netloc), *exchange.request_headers], is_http_request=True,
        )
        request = self._writer.create_warc_record(
            exchange.url, "request", payload=BytesIO(exchange.request_body),
            length=len(exchange.request_body), http_headers=request_headers,
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": exchange.record_id},
        )
        offset = self._file.tell()
        self._writer.write_record(response)
        length = self._file.tell() - offset
        self._writer.write_record(request)
        self._file.flush()
        return WarcRecordRef(
            record_id=exchange.record_id, path=str(self._path.resolve()), offset=offset,
            length=length, url=exchange.url, date=date, status=exchange.status,
            payload_sha256=payload_sha256,
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _warcinfo(writer: WARCWriter, filename: str) -> Any:
    return writer.create_warcinfo_record(filename, {
        "software": software(),
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": "responses fetched by the newsmon news crawler",
    })


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


_STOP = object()


class ArchiveThread:
    """The writer thread: takes exchanges from a bounded queue, writes them, indexes them.

    ``submit`` blocks only when ``queue_size`` exchanges are waiting (back-pressure instead of
    unbounded memory). ``close`` drains the queue and joins the thread. An I/O error stops
    archiving (counted and logged by the caller through ``error``), never the crawl.
    """

    def __init__(self, writer: WarcFileWriter, store_path: str, queue_size: int) -> None:
        self.writer, self.store_path = writer, store_path
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self.written = 0
        self.bytes_payload = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="newsmon-warc-writer", daemon=True)

    def start(self) -> ArchiveThread:
        self.thread.start()
        return self

    def submit(self, exchange: Exchange) -> None:
        """Queue an exchange; dropped once archiving has failed (the thread has stopped)."""
        while self.error is None and (self.thread.ident is None or self.thread.is_alive()):
            try:  # (queued before the thread starts too; dropped only once it has stopped)
                self.queue.put(exchange, timeout=1.0)
                return
            except queue.Full:
                continue  # the writer is slow: wait, unless it has died meanwhile

    def _run(self) -> None:
        try:
            store = SQLiteStore(self.store_path)
        except (NewsmonError, OSError, sqlite3.Error) as exc:  # a full disk at open
            self.error = exc
            self.writer.close()
            return
        try:
            while True:
                item = self.queue.get()
                if item is _STOP:
                    return
                batch = [item]
                while len(batch) < 64:  # one store transaction for what is waiting
                    try:
                        more = self.queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        self._write(store, batch)
                        return
                    batch.append(more)
                self._write(store, batch)
        finally:
            self.writer.close()
            store.close()

    def _write(self, store: SQLiteStore, batch: list[Exchange]) -> None:
        if self.error is not None:
            return
        try:
            refs = [self.writer.write(exchange) for exchange in batch]
            store.add_warc_records(refs)
        except (OSError, sqlite3.Error) as exc:  # disk full, permissions: stop archiving, say so
            self.error = exc
            return
        self.written += len(refs)
        self.bytes_payload += sum(len(e.body) for e in batch)

    def close(self) -> None:
        while self.thread.is_alive():
            try:
                self.queue.put(_STOP, timeout=1.0)
                break
            except queue.Full:
                continue
        self.thread.join()


class ArchiveMiddleware:
    """Downloader middleware: hand each fetched article (optionally feed/sitemap) to the writer.

    Must sit above ``HttpCompressionMiddleware`` (590) and ``HttpCacheMiddleware`` (900) in
    priority, so it sees bodies before decoding and can skip responses served from the cache.
    Sets ``request.meta[META_KEY]`` so the spider can tell the pipelines which record it parsed.
    """

    def __init__(self, archive: ArchiveThread, stats: StatsCollector, kinds: frozenset[str]) -> None:
        self.archive, self.stats, self.kinds = archive, stats, kinds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMiddleware:
        settings = crawler.settings
        store_path = wiring.store_path(settings, "NEWSMON_ARCHIVE_ENABLED")
        writer = WarcFileWriter(Path(settings.get("NEWSMON_ARCHIVE_DIR")),
                                settings.getint("NEWSMON_ARCHIVE_MAX_FILE_BYTES"))
        archive = ArchiveThread(writer, store_path, settings.getint("NEWSMON_ARCHIVE_QUEUE_SIZE"))
        kinds = {"article", "discovery"} if settings.getbool("NEWSMON_ARCHIVE_DISCOVERY") else {"article"}
        middleware = cls(archive.start(), crawler.stats, frozenset(kinds))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        if request.meta.get("newsmon_kind") not in self.kinds or "cached" in response.flags:
            return response
        exchange = Exchange(
            url=response.url, method=request.method,
            request_headers=_header_pairs(request.headers), request_body=request.body,
            status=response.status, protocol=getattr(response, "protocol", None) or "HTTP/1.1",
            response_headers=[(k, v) for k, v in _header_pairs(response.headers)
                              if k.lower().encode() not in _HOP_BY_HOP],
            body=response.body,
        )
        self.archive.submit(exchange)
        request.meta[META_KEY] = exchange.record_id
        self.stats.inc_value("newsmon/archive/records")
        self.stats.inc_value("newsmon/archive/payload_bytes", len(response.body))
        return response

    def spider_closed(self, spider: Spider) -> None:
        self.archive.close()
        if self.archive.error is not None:
            self.stats.inc_value("newsmon/errors/archive")
            spider.logger.error("WARC archiving stopped: %s", self.archive.error)


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items() for value in values]
