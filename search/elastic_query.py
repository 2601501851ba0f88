"""Compile a search request into an Elasticsearch search body, and read the answer back.

User text only ever reaches Elasticsearch as the ``query`` string of ``match`` and
``match_phrase`` queries (analyzed, never parsed as query syntax), compiled from the
``ParsedQuery`` that ``search.query.parse_query`` built.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from search.base import MARK_END, MARK_START, SearchHit, SearchRequest
from search.elastic_schema import ArticleSchema
from search.errors import QueryError
from search.query import ParsedQuery, Term

SNIPPET_CHARS = 200  # about FTS5's 32-token snippet
MAX_TERMS_BUCKETS = 1000

_SORTS: dict[str, list[dict[str, Any]]] = {
    "relevance": [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}],
    # SQLite orders NULL dates last when descending and first when ascending; so do we
    "newest": [
        {"published": {"order": "desc", "missing": "_last"}},
        {"_score": {"order": "desc"}},
        {"id": {"order": "asc"}},
    ],
    "oldest": [
        {"published": {"order": "asc", "missing": "_first"}},
        {"_score": {"order": "desc"}},
        {"id": {"order": "asc"}},
    ],
}
# Cursors (SearchResult.next_cursor): [n] is an offset (collapsed results); [AFTER, *sort values]
# pages with search_after on the index; [PIT, id, *sort values] with search_after inside a point
# in time, which keeps every page on the index as it was when the first page was read.
AFTER = "after"
PIT = "pit"


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: an offset, or after a hit's sort values (in a point in time)."""

    offset: int = 0
    after: list[Any] | None = None
    pit: str | None = None


def compile_term(term: Term, fields: list[tuple[str, float]]) -> dict[str, Any]:
    """A term matches in any field; hits in several fields add up, as FTS5's bm25 does."""
    if term.prefix:
        # a prefix query is not analysed: it meets the indexed terms (stems), as on SQLite
        value = term.text.lower()
        return {"bool": {"should": [{"prefix": {name: {"value": value, "boost": boost}}}
                                    for name, boost in fields], "minimum_should_match": 1}}
    kind = "match_phrase" if term.phrase else "match"
    clauses = []
    for name, boost in fields:
        spec: dict[str, Any] = {"query": term.text, "boost": boost}
        if not term.phrase:
            spec["operator"] = "and"  # an analyzer may split one word into several tokens
        clauses.append({kind: {name: spec}})
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def compile_query(parsed: ParsedQuery, fields: list[tuple[str, float]]) -> dict[str, Any]:
    """All groups must match (any term of a group will do); no excluded term may match."""
    must = []
    for group in parsed.groups:
        alternatives = [compile_term(t, fields) for t in group]
        must.append(
            alternatives[0]
            if len(alternatives) == 1
            else {"bool": {"should": alternatives, "minimum_should_match": 1}}
        )
    query: dict[str, Any] = {"must": must}
    if parsed.excluded:
        query["must_not"] = [compile_term(t, fields) for t in parsed.excluded]
    return query


MAX_ANALYZED_OFFSET = 999_999


def _check_date(value: str) -> str:
    """The date in extended ISO form: Elasticsearch reads a compact ``20261101`` (which Python
    accepts) as epoch milliseconds, so only the normalized spelling is ever sent."""
    try:
        if len(value) <= 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise QueryError(f"not a date (YYYY-MM-DD): {value}") from None


def compile_filters(request: SearchRequest) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if request.outlets:
        filters.append({"terms": {"outlet": list(request.outlets)}})
    if request.languages:
        filters.append({"terms": {"language": list(request.languages)}})
    bounds: dict[str, str] = {}
    if request.date_from:
        bounds["gte"] = _check_date(request.date_from)
    if request.date_to:
        value = _check_date(request.date_to)
        if len(value) == 10:  # inclusive day: everything before the next midnight
            bounds["lt"] = (date.fromisoformat(value) + timedelta(days=1)).isoformat()
        else:
            bounds["lte"] = value
    if bounds:
        filters.append({"range": {"published": {**bounds, "format": "strict_date_optional_time"}}})
    return filters


def parse_cursor(request: SearchRequest) -> Cursor:
    """Where the requested page starts, from the request's cursor or offset."""
    cursor = request.search_after
    if not cursor:
        return Cursor(offset=request.offset)
    if len(cursor) == 1 and isinstance(cursor[0], int) and cursor[0] >= 0:
        return Cursor(offset=cursor[0])
    if not request.collapse and len(cursor) > 1 and cursor[0] == AFTER:
        return Cursor(after=list(cursor[1:]))
    if not request.collapse and len(cursor) > 2 and cursor[0] == PIT and isinstance(cursor[1], str):
        return Cursor(after=list(cursor[2:]), pit=cursor[1])
    raise QueryError("this cursor does not belong to this search")


def sort_length(request: SearchRequest) -> int:
    """How many sort values newsmon's own sort gives a hit (a point in time adds one more)."""
    return len(_SORTS[request.sort])


def build_body(
    request: SearchRequest, schema: ArticleSchema, parsed: ParsedQuery
) -> tuple[dict[str, Any], Cursor]:
    """The search body, and where it starts. One extra hit is asked for, to know whether a
    next page exists without counting. The caller adds the point in time, if any."""
    if request.sort not in _SORTS:
        raise QueryError(f"unknown sort {request.sort!r}: one of {', '.join(_SORTS)}")
    start = parse_cursor(request)
    offset, after = start.offset, start.after
    query = compile_query(parsed, schema.search_fields())
    query["filter"] = compile_filters(request)
    snippet_fields = schema.text_fields(schema.snippet_family)
    tr_snippet_fields = schema.text_fields(schema.translated_snippet_family)
    highlight_fields: dict[str, Any] = {
        name: {"number_of_fragments": 1, "fragment_size": SNIPPET_CHARS,
               "no_match_size": SNIPPET_CHARS}
        for name in snippet_fields
    }
    highlight_fields.update(
        {name: {"number_of_fragments": 1, "fragment_size": SNIPPET_CHARS}
         for name in tr_snippet_fields}
    )
    body: dict[str, Any] = {
        "query": {"bool": query},
        "sort": _SORTS[request.sort],
        "size": request.limit + 1,
        "track_total_hits": True,
        "_source": {"excludes": tr_snippet_fields},
        "highlight": {
            "type": "unified",
            # a body longer than index.highlight.max_analyzed_offset (1,000,000 characters by
            # default) would fail the whole search with a 400: highlight its start only
            "max_analyzed_offset": MAX_ANALYZED_OFFSET,
            "pre_tags": [MARK_START],
            "post_tags": [MARK_END],
            "fields": highlight_fields,
        },
    }
    if after is not None:
        body["search_after"] = after
    elif offset:
        body["from"] = offset
    aggs: dict[str, Any] = {}
    if request.collapse:
        body["collapse"] = {"field": schema.story_key}
        # exact below the threshold (ES documents it as "close to accurate")
        aggs["stories"] = {"cardinality": {"field": schema.story_key,
                                           "precision_threshold": 40000}}
    if request.facets:
        aggs.update(facet_aggs())
    if aggs:
        body["aggs"] = aggs
    return body, start


def facet_aggs() -> dict[str, Any]:
    return {
        "outlet": {"terms": {"field": "outlet", "size": MAX_TERMS_BUCKETS}},
        "outlet_missing": {"missing": {"field": "outlet"}},
        "language": {"terms": {"field": "language", "size": MAX_TERMS_BUCKETS}},
        "language_missing": {"missing": {"field": "language"}},
        "day": {"date_histogram": {"field": "published", "calendar_interval": "day",
                                   "format": "yyyy-MM-dd", "min_doc_count": 1}},
        "day_missing": {"missing": {"field": "published"}},
    }


def read_facets(aggregations: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Counts per article, like the SQLite backend: keys sorted, '' and missing as 'unknown'."""
    facets: dict[str, dict[str, int]] = {}
    for name in ("outlet", "language", "day"):
        if name not in aggregations:
            continue
        counts: dict[str, int] = {}
        for bucket in aggregations[name]["buckets"]:
            key = bucket.get("key_as_string", bucket["key"]) or "unknown"
            counts[key] = counts.get(key, 0) + bucket["doc_count"]
        missing = aggregations.get(f"{name}_missing", {}).get("doc_count", 0)
        if missing:
            counts["unknown"] = counts.get("unknown", 0) + missing
        facets[name] = {k: counts[k] for k in sorted(counts, key=lambda k: (k != "unknown", k))}
    return facets


def _with_ellipsis(fragment: str, text: str) -> str:
    """Mark a cut like FTS5's snippet does: '…' where the fragment is not the text's edge."""
    plain = fragment.replace(MARK_START, "").replace(MARK_END, "")
    start = text.find(plain)
    if start < 0:
        return fragment
    prefix = "…" if text[:start].strip() else ""
    suffix = "…" if text[start + len(plain):].strip() else ""
    return prefix + fragment + suffix


def read_hit(raw: dict[str, Any], schema: ArticleSchema) -> SearchHit:
    """One hit of a search whose body ``build_body`` made."""
    src = raw["_source"]
    language = src.get("language", "")
    highlight = raw.get("highlight", {})
    snippet = next(
        (highlight[n][0] for n in schema.text_fields(schema.snippet_family) if highlight.get(n)),
        "",
    )
    body_field = schema.families[schema.snippet_family].field_for(language)
    if snippet and isinstance(src.get(body_field), str):
        snippet = _with_ellipsis(snippet, src[body_field])
    tr_snippet = next(
        (highlight[n][0] for n in schema.text_fields(schema.translated_snippet_family)
         if highlight.get(n) and MARK_START in highlight[n][0]),
        "",
    )
    title_family = schema.families["title"]
    title = next(
        (src[n] for n in [title_family.field_for(language), *title_family.all_fields]
         if isinstance(src.get(n), str)),
        "",
    )
    done = [t for t in src.get("translations") or [] if t.get("status") == "done"]
    tr_titles: list[str] = []
    for name in schema.text_fields("tr_title"):
        value = src.get(name)
        if value:
            tr_titles.extend(value if isinstance(value, list) else [value])
    story = src.get(schema.story_key) or src.get("id", raw["_id"])
    return SearchHit(
        id=src.get("id", raw["_id"]),
        title=title,
        url=src.get("canonical_url", ""),
        outlet=src.get("outlet", ""),
        language=language,
        published=src.get("published"),
        score=float(raw.get("_score") or 0.0),
        snippet=snippet,
        translated_title=" ".join(t for t in tr_titles if t),
        translated_snippet=tr_snippet,
        translation_language=done[0]["target"] if done else "",
        story_id=story,
    )
