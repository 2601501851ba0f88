"""Cross-lingual search: also search the query translated into each language of the index.

An English query finds a Russian article through its stored translation; but an article
that was never translated (no model at crawl time) can only be found in its own language.
So the query's terms are translated (with the installed models, the same engine and cache
as article translation) into every language present in the store, and each translated form
searches the articles of its language. Hits say which form matched (``matched_form``).

The query is taken to be in the first target language (``translate.targets[0]``). Terms are
translated one by one, so the query syntax (phrases, OR, exclusions) survives translation.
Merged totals are an upper bound when forms match the same articles beyond the fetched page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace

from search.base import SearchBackend, SearchHit, SearchRequest, SearchResult
from search.query import ParsedQuery, Term, parse_query

ORIGINAL = "original"
_WORD = re.compile(r"\w+", re.UNICODE)

# (source, target, terms) -> the terms translated, or None when no model covers the pair.
# The caller passes one in (newsmon's CLI wraps the translation engine), so search does not
# depend on the translation stage.
TermTranslator = Callable[[str, str, list[str]], "list[str] | None"]


def cross_lingual_search(
    backend: SearchBackend,
    request: SearchRequest,
    *,
    query_language: str,
    languages: Iterable[str],
    translate_terms: TermTranslator,
) -> tuple[SearchResult, list[str]]:
    """Search the query as given and translated into each indexed language; merge the hits.

    Returns the merged result and the languages that no model could translate the query into.
    """
    parsed = parse_query(request.query)
    wanted = [
        code for code in sorted(languages)
        if code not in ("unknown", "", query_language)
        and (not request.languages or code in request.languages)
    ]
    forms: list[tuple[str, SearchRequest]] = [(ORIGINAL, request)]
    missing = []
    for code in wanted:
        query = translate_query(parsed, translate_terms, query_language, code)
        if query is None:
            missing.append(code)
        elif query != request.query:
            forms.append((f"{code}: {query}", replace(request, query=query, languages=[code])))
    return merge(backend, forms, request), missing


def translate_query(
    parsed: ParsedQuery, translate_terms: TermTranslator, source: str, target: str
) -> str | None:
    """The query with each term translated, in the same syntax; None without a model."""
    terms = list(dict.fromkeys(t.text for t in (*parsed.terms(), *parsed.excluded)))
    translations = translate_terms(source, target, terms)
    if translations is None:
        return None
    translated = dict(zip(terms, translations))
    groups = []
    for group in parsed.groups:
        rendered = [_render(term, translated[term.text], in_or=len(group) > 1) for term in group]
        groups.append(" OR ".join(rendered))
    excluded = ["-" + _render(term, translated[term.text], in_or=True) for term in parsed.excluded]
    return " ".join(groups + excluded)


def _render(term: Term, translation: str, *, in_or: bool) -> str:
    words = _WORD.findall(translation) or term.text.split()
    if len(words) == 1 and not term.phrase:
        return words[0]
    if term.phrase or in_or:
        return '"' + " ".join(words) + '"'
    return " ".join(words)  # one word became several: all of them must match


def merge(
    backend: SearchBackend, forms: list[tuple[str, SearchRequest]], request: SearchRequest
) -> SearchResult:
    """Run each form, keep one hit per article (per story when collapsed), page the union."""
    offset = int(request.search_after[0]) if request.search_after else request.offset
    wanted = offset + request.limit
    hits: dict[str, SearchHit] = {}
    keys: dict[str, str] = {}
    total, facets, exact, largest = 0, {}, True, 0
    for label, form in forms:
        result = backend.search(replace(form, offset=0, limit=wanted, search_after=None,
                                            point_in_time=False))
        total += result.total
        exact = exact and result.total_exact
        largest = max(largest, result.total)
        for name, counts in result.facets.items():
            merged = facets.setdefault(name, {})
            for key, n in counts.items():
                merged[key] = merged.get(key, 0) + n
        for hit in result.hits:
            key = (hit.story_id or hit.id) if request.collapse else hit.id
            if key in keys:
                first = hits[keys[key]]
                if label not in first.matched_form.split(" | "):
                    first.matched_form += f" | {label}"
                total -= 1
                continue
            keys[key] = hit.id
            hit.matched_form = label
            hits[hit.id] = hit
    ordered = list(hits.values())
    if request.sort == "newest":
        ordered.sort(key=lambda h: (h.published or "", h.score), reverse=True)
    elif request.sort == "oldest":
        ordered.sort(key=lambda h: (h.published or "\uffff", -h.score))
    else:
        ordered.sort(key=lambda h: h.score, reverse=True)
    page = ordered[offset:wanted]
    if not exact:  # a form's count stopped at the cap: say "at least" the largest of them
        total = largest
    more = offset + len(page) < total or (not exact and len(page) == request.limit)
    return SearchResult(
        total=total, total_exact=exact, hits=page, facets=facets,
        next_cursor=[offset + len(page)] if more and page else None,
    )
