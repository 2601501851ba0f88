"""Property tests (hypothesis) of the code that reads untrusted input or shows it.

Each property says what must hold for *any* input: no exception other than the documented
user errors, canonical URLs are fixed points, rendering never emits a control character or a
formula-leading CSV cell. ``tests/fuzz_targets.py`` runs the same checks under atheris,
locally, for longer.
"""

from __future__ import annotations

import io
import sqlite3
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls

from crawler.outlets import parse_outlet
from crawler.urls import canonicalize
from newsmon.render import _UNSAFE, csv_cell, hit_lines, write_csv
from pipelines.normalize.encoding import BinaryContent, decode_html
from pipelines.normalize.extract import NotAnArticle, extract_article
from search.base import MARK_END, MARK_START, SearchHit
from search.elastic_query import compile_query
from search.errors import OutletError, QueryError
from search.query import parse_query, to_fts5

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

URL_PIECES = st.sampled_from(["http://", "https://", "HTTP://", "//", "/", "?", "#", "&", "=",
                              "utm_source=x", "%2F", "%", "[::1]", ":80", ":8080", "..", ".",
                              "a.example", "WWW.Example.COM", " ", "\t", "ä", "ё", "@", "\\"])
MESSY_URLS = st.lists(st.one_of(URL_PIECES, st.text(max_size=6)), max_size=12).map("".join)


# -- URL canonicalization ----------------------------------------------------------------------
@FAST
@given(st.one_of(urls(), MESSY_URLS), st.sampled_from([None, "http://base.example/a/b"]))
@example("http://[::1]:8080/x?utm_source=a#f", None)
@example("http://[::1", None)
def test_canonicalize_is_idempotent(url: str, base: str | None):
    try:
        once = canonicalize(url, base=base)
    except ValueError:  # documented: a URL that cannot be parsed
        return
    assert canonicalize(once) == once


# -- encoding detection ------------------------------------------------------------------------
CONTENT_TYPES = st.sampled_from([None, "", "text/html", "text/html; charset=utf-8",
                                 "text/html; charset=iso-8859-1", "text/html; charset=koi8-r",
                                 "text/html; charset=x-nonsense", "text/html; charset="])


@FAST
@given(st.one_of(st.binary(max_size=2000),
                 st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass"))),
       CONTENT_TYPES)
def test_decoding_any_bytes_gives_text_without_control_characters(body: bytes, ctype: str | None):
    try:
        text, encoding = decode_html(body, ctype)
    except BinaryContent:
        return
    assert isinstance(text, str) and encoding
    assert not any(c in text for c in "\x00\x01\x1b\x7f")


# -- extraction --------------------------------------------------------------------------------
TAGS = st.sampled_from(["<p>", "</p>", "<div>", "</div>", "<article>", "<h1>", "</h1>", "<script>",
                        "</script>", "<title>", "<meta charset='x'>", "<![CDATA[", "]]>", "<!--",
                        "-->", "&amp;", "&#0;", "&#xD800;", "&lol;", "<", ">", "\x00", "\ue000"])
WORDS = st.sampled_from(["ferry", "council", "Москва", "погода", "fjord", "the", "and", "news"])
HTML = st.lists(st.one_of(TAGS, WORDS, st.text(max_size=10)), max_size=300).map(" ".join)


@SLOW
@given(HTML)
def test_extraction_returns_an_article_or_a_named_reason(html: str):
    try:
        article = extract_article(html, "http://site.example/news/1", min_words=5)
    except NotAnArticle as exc:
        assert exc.reason
        return
    assert isinstance(article.body, str) and isinstance(article.title, str)


# -- the query parser, compiled for both backends ----------------------------------------------
QUERY = st.lists(st.one_of(st.sampled_from(['"', "-", "OR", "AND", "NOT", "(", ")", "*", ":", "^",
                                             "NEAR", "title:", "\\", "'", "ё"]),
                           st.text(max_size=8)), max_size=10).map(" ".join)


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(body)")
    connection.execute("INSERT INTO t VALUES ('the council met about the ferry')")
    return connection


@FAST
@given(QUERY)
def test_any_query_is_a_query_error_or_runs_on_both_backends(fts: sqlite3.Connection, text: str):
    try:
        parsed = parse_query(text)
    except QueryError:
        return
    fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (to_fts5(parsed),)).fetchone()
    compiled = compile_query(parsed, [("title", 2.0), ("body", 1.0)])
    for clause in (*compiled["must"], *compiled.get("must_not", [])):
        # every term is analyzed text, never query syntax Elasticsearch would parse
        assert set(_leaf_kinds(clause)) <= {"match", "match_phrase", "multi_match"}


def _leaf_kinds(clause: object) -> list[str]:
    if isinstance(clause, dict):
        kinds = []
        for key, value in clause.items():
            if key in ("match", "match_phrase", "multi_match", "query_string",
                       "simple_query_string", "regexp", "wildcard", "script"):
                kinds.append(key)
            else:
                kinds += _leaf_kinds(value)
        return kinds
    if isinstance(clause, list):
        return [k for item in clause for k in _leaf_kinds(item)]
    return []


# -- the outlet-file validator -----------------------------------------------------------------
SCALARS = st.one_of(st.text(max_size=20), st.integers(), st.floats(allow_nan=True), st.booleans(),
                    st.none())
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
KEYS = st.sampled_from(["id", "name", "home", "allowed_domains", "article_pattern", "editions",
                        "politeness", "hints", "language", "feeds", "sitemaps", "url_prefix"])
VALID = tomllib.loads("""
id = "x"
name = "X"
home = "https://x.example/"
allowed_domains = ["x.example"]
article_pattern = '^https://x\\\\.example/news/'
[[editions]]
id = "en"
language = "en"
feeds = ["https://x.example/rss"]
""")


@FAST
@given(st.dictionaries(KEYS, VALUES, max_size=8), st.booleans())
def test_any_outlet_definition_is_valid_or_an_outlet_error(data: dict, on_valid: bool):
    definition = {**VALID, **data} if on_valid else data
    try:
        parse_outlet(definition, Path("fuzz.toml"))
    except OutletError as exc:
        assert "fuzz.toml" in str(exc) and "\n" not in str(exc)


# -- renderers ---------------------------------------------------------------------------------
UNTRUSTED = st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["=1+1", "\t=cmd", "\r-2", "@SUM(A1)", "+x", "\x1b[2J", "\u202eabc", MARK_START + "x" + MARK_END])


@FAST
@given(st.one_of(UNTRUSTED, st.lists(UNTRUSTED, max_size=4), st.integers(), st.none()))
@example(["\t=cmd|' /C calc'!A0", "b"])  # a list cell: joined, each item cleaned, then guarded
@example(["\r\n-1", "\x1b[2J"])
def test_csv_cells_are_one_safe_line_never_a_formula(value: object):
    cell = csv_cell(value)
    assert not _UNSAFE.search(cell) and "\n" not in cell and "\t" not in cell
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    out = io.StringIO()
    write_csv(out, [{"a": value}], ["a"])
    assert out.getvalue().count("\n") == 2  # header and one row: no cell broke the line


@FAST
@given(UNTRUSTED, UNTRUSTED, UNTRUSTED, UNTRUSTED)
def test_terminal_lines_carry_no_control_characters(title: str, url: str, snippet: str, form: str):
    hit = SearchHit(id="1", url=url, outlet="o", title=title, language="en", published=None,
                    score=1.0, snippet=snippet, matched_form=form)
    for line in hit_lines(1, hit, color=False):
        assert not _UNSAFE.search(line) and "\n" not in line
