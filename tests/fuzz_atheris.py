"""Coverage-guided fuzzing of newsmon's input handling with atheris (optional, local only).

    pip install atheris
    python tests/fuzz_atheris.py TARGET [atheris/libFuzzer options, e.g. -runs=100000]

TARGET is one of: url, decode, extract, query, outlet, csv. Each checks the same properties
as ``tests/test_fuzz.py`` (which runs them with hypothesis in CI): only documented user errors,
canonical URLs are fixed points, safe rendering. A crash is a failing input: add it to the
hypothesis test as an ``@example``.
"""

from __future__ import annotations

import sqlite3
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from crawler.outlets import parse_outlet
    from crawler.urls import canonicalize
    from newsmon.render import _UNSAFE, csv_cell
    from pipelines.normalize.encoding import BinaryContent, decode_html
    from pipelines.normalize.extract import NotAnArticle, extract_article
    from search.elastic_query import compile_query
    from search.errors import OutletError, QueryError
    from search.query import parse_query, to_fts5


def url(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(512)
    try:
        once = canonicalize(text, base="http://base.example/a/")
    except ValueError:
        return
    assert canonicalize(once) == once, (text, once)


def decode(data: bytes) -> None:
    try:
        text, _ = decode_html(data, "text/html")
    except BinaryContent:
        return
    assert "\x00" not in text and "\x1b" not in text


def extract(data: bytes) -> None:
    html = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(20000)
    try:
        extract_article(html, "http://site.example/news/1", min_words=5)
    except NotAnArticle:
        pass


_FTS = sqlite3.connect(":memory:")
_FTS.execute("CREATE VIRTUAL TABLE t USING fts5(body)")


def query(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(200)
    try:
        parsed = parse_query(text)
    except QueryError:
        return
    _FTS.execute("SELECT count(*) FROM t WHERE t MATCH ?", (to_fts5(parsed),)).fetchone()
    compile_query(parsed, [("title", 2.0), ("body", 1.0)])


def outlet(data: bytes) -> None:
    try:
        definition = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return
    try:
        parse_outlet(definition, Path("fuzz.toml"))
    except OutletError:
        pass


def csv(data: bytes) -> None:
    cell = csv_cell(atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(200))
    assert not _UNSAFE.search(cell) and not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


TARGETS: dict[str, Callable[[bytes], None]] = {
    "url": url, "decode": decode, "extract": extract, "query": query, "outlet": outlet, "csv": csv,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
