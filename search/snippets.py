"""Snippets cut from the text as written, marking the words whose analysed form matched.

The full-text index holds analysed terms (stems), so FTS5's own ``snippet()`` would show
stems; the embedded backend cuts its snippets here instead, from the stored text, for the
few hits of a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, islice

from search.analysis import Analyzer
from search.base import MARK_END, MARK_START

SNIPPET_TOKENS = 32  # as FTS5's snippet() was asked for
ELLIPSIS = "…"
_CHUNK = re.compile(r"\S+")  # what str.split() splits a text into


@dataclass(frozen=True)
class Marks:
    """What to mark in a text of one language: whole terms, and term prefixes."""

    terms: frozenset[str]
    prefixes: tuple[str, ...] = ()

    def matches(self, term: str) -> bool:
        return term in self.terms or term.startswith(self.prefixes)


def snippet(text: str, analyzer: Analyzer, marks: Marks, size: int = SNIPPET_TOKENS) -> str:
    """Up to ``size`` words around the densest run of matches (the start when none match),
    matched words between MARK_START and MARK_END, '…' where the text goes on.

    A search shows ten snippets, each cut from a whole article, so the text is looked at in
    whitespace-separated chunks ("«пыток»,"), through the analyser's cache of chunk terms (a
    C-level split and dict lookups, a tenth of running the word pattern over the text); the
    pattern runs only over the chunks that matched, to mark the words in them."""
    chunks = text.split()
    if not chunks:
        return text
    terms = list(map(analyzer.chunk_terms, chunks))  # "" for punctuation, "a b" for "a-b"
    matched = list(map(marks.terms.__contains__, terms))
    check = range(len(terms)) if marks.prefixes else [
        i for i, t in enumerate(terms) if " " in t
    ]
    for i in check:
        matched[i] = any(map(marks.matches, terms[i].split()))
    start = _best_window(terms, list(compress(range(len(terms)), matched)), size)
    end = min(len(terms), start + size)
    skipped = _skip(start).match(text).end()
    window = [m.span() for m in islice(_CHUNK.finditer(text, skipped), end - start)]
    pieces = [ELLIPSIS if start > 0 else text[:window[0][0]]]
    position = window[0][0]
    for index, (first, last) in enumerate(window, start):
        pieces.append(text[position:first])
        pieces.append(_marked(chunks[index], analyzer, marks) if matched[index] else chunks[index])
        position = last
    pieces.append(ELLIPSIS if end < len(terms) else text[position:])
    return "".join(pieces)


@lru_cache(maxsize=256)
def _skip(count: int) -> re.Pattern[str]:
    """A pattern that steps over ``count`` chunks in one call (a loop of finditer makes a
    match object per chunk, most of the time of a snippet cut from far into a text)."""
    return re.compile(r"(?:\s*\S+){" + str(count) + "}")


def _marked(chunk: str, analyzer: Analyzer, marks: Marks) -> str:
    """A chunk with its matched words between MARK_START and MARK_END."""
    pieces, position = [], 0
    for token in analyzer.tokens(chunk):
        if marks.matches(analyzer.term(token.group())):
            pieces += [chunk[position:token.start()], MARK_START, token.group(), MARK_END]
            position = token.end()
    return "".join(pieces) + chunk[position:]


def _best_window(terms: list[str], hits: list[int], size: int) -> int:
    """The window start with the most distinct matched words (then most matches), a few
    words of context before the first of them."""
    if not hits:
        return 0
    best, best_score = 0, (-1, -1)
    for first in hits:
        start = max(0, min(first - 3, len(terms) - size))
        inside = [i for i in hits if start <= i < start + size]
        score = (len({terms[i] for i in inside}), len(inside))
        if score > best_score:
            best, best_score = start, score
    return best
