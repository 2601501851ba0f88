"""Reading WARC files back: one record at a known offset (verify), or every response (ingest).

Both go through ``warcio``. A broken record does not end the file: reading resumes at the
next gzip member (each record is its own member in newsmon's files and in CC-NEWS).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from crawler.archive import sha256_digest
from search.store import WarcRecordRef

_GZIP_MAGIC = b"\x1f\x8b\x08"
READ_ERRORS = (OSError, EOFError, zlib.error, ArchiveLoadFailed, ValueError, StopIteration)


@dataclass
class WarcResponse:
    """A response record: its place in the file, its HTTP head, and its payload as stored."""

    path: str
    offset: int
    length: int
    record_id: str
    url: str
    date: str
    status: int
    headers: list[tuple[str, str]]
    payload: bytes = field(repr=False)  # as stored (content coding kept)
    content: bytes = field(repr=False)  # content coding undone: what a browser renders

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    def ref(self) -> WarcRecordRef:
        return WarcRecordRef(
            record_id=self.record_id, path=self.path, offset=self.offset, length=self.length,
            url=self.url, date=self.date, status=self.status,
            payload_sha256=hashlib.sha256(self.payload).hexdigest(),
        )


@dataclass
class BrokenRecord:
    path: str
    offset: int
    error: str


def _response(path: str, offset: int, length: int, record) -> WarcResponse:
    headers = record.rec_headers
    http = record.http_headers
    payload = record.raw_stream.read()
    content = payload
    encoding = (http.get_header("Content-Encoding") or "").strip().lower() if http else ""
    if encoding in ("gzip", "x-gzip", "deflate"):
        content = zlib.decompress(payload, 47 if "gzip" in encoding else 15)
    status = int(http.get_statuscode() or 0) if http else 0
    return WarcResponse(
        path=path, offset=offset, length=length, record_id=headers.get_header("WARC-Record-ID") or "",
        url=headers.get_header("WARC-Target-URI") or "", date=headers.get_header("WARC-Date") or "",
        status=status, headers=list(http.headers) if http else [], payload=payload, content=content,
    )


def read_response(path: str | Path, offset: int) -> WarcResponse:
    """The response record that starts at ``offset``; raises one of READ_ERRORS if unreadable."""
    with open(path, "rb") as stream:
        stream.seek(offset)
        iterator = ArchiveIterator(stream)
        record = next(iterator)
        if record.rec_type != "response":
            raise ValueError(f"a {record.rec_type} record, not a response")
        response = _response(str(path), offset, 0, record)
        iterator.read_to_end(record)
        response.length = iterator.get_record_length() or 0
        return response


def check(ref: WarcRecordRef) -> str | None:
    """None when the record at ``ref`` is there and its payload has the stored hash; else why not."""
    if not Path(ref.path).is_file():
        return f"missing file {ref.path}"
    try:
        response = read_response(ref.path, ref.offset)
    except READ_ERRORS as exc:
        return f"unreadable record at {ref.path}:{ref.offset}: {type(exc).__name__}: {exc}"
    if response.record_id != ref.record_id:
        return f"another record at {ref.path}:{ref.offset} ({response.record_id})"
    actual = hashlib.sha256(response.payload).hexdigest()
    if actual != ref.payload_sha256:
        return f"payload SHA-256 {actual} differs from the stored {ref.payload_sha256}"
    return None


def iter_responses(path: str | Path) -> Iterator[WarcResponse | BrokenRecord]:
    """Every response record of a file; a broken one is yielded as BrokenRecord and skipped."""
    path = str(path)
    start = 0
    with open(path, "rb") as stream:
        while True:
            stream.seek(start)
            iterator = ArchiveIterator(stream)
            offset = start  # where the record being read starts
            try:
                for record in iterator:
                    response = _response(path, 0, 0, record) if record.rec_type == "response" else None
                    iterator.read_to_end(record)
                    offset = iterator.get_record_offset() + iterator.get_record_length()
                    if response is not None:
                        response.offset = iterator.get_record_offset()
                        response.length = iterator.get_record_length()
                        yield response
                return
            except READ_ERRORS as exc:
                yield BrokenRecord(path, offset, f"{type(exc).__name__}: {exc}")
                start = _next_member(stream, offset + 1)
                if start < 0:
                    return


def _next_member(stream, after: int) -> int:
    """Offset of the next gzip member after ``after`` that holds a WARC record, or -1.

    The gzip magic bytes also occur inside records: a response archived as received with
    ``Content-Encoding: gzip`` is incompressible, so the record's own deflate stream keeps its
    bytes verbatim. A candidate counts only if it decompresses to a WARC header."""
    stream.seek(after)
    data = stream.read()
    found = data.find(_GZIP_MAGIC)
    while found >= 0:
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[found:found + 4096], 8)
        except zlib.error:
            head = b""
        if head.startswith(b"WARC/"):
            return after + found
        found = data.find(_GZIP_MAGIC, found + 1)
    return -1


__all__ = ["BrokenRecord", "WarcResponse", "check", "iter_responses", "read_response", "sha256_digest"]
