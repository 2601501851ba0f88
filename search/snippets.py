"""Snippets cut from the text as written, marking the words whose analysed form matched.

The full-text index holds analysed terms (stems), so FTS5's own ``snippet()`` would show
stems; the embedded backend cuts its snippets here instead, from the stored text, for the
few hits of a page.
"""

from __future__ import annotations

from dataclasses import dataclass

from search.analysis import Analyzer
from search.base import MARK_END, MARK_START

SNIPPET_TOKENS = 32  # as FTS5's snippet() was asked for
ELLIPSIS = "…"


@dataclass(frozen=True)
class Marks:
    """What to mark in a text of one language: whole terms, and term prefixes."""

    terms: frozenset[str]
    prefixes: tuple[str, ...] = ()

    def matches(self, term: str) -> bool:
        return term in self.terms or term.startswith(self.prefixes)


def snippet(text: str, analyzer: Analyzer, marks: Marks, size: int = SNIPPET_TOKENS) -> str:
    """Up to ``size`` words around the densest run of matches (the start when none match),
    matched words between MARK_START and MARK_END, '…' where the text goes on."""
    tokens = list(analyzer.tokens(text))
    if not tokens:
        return text
    term = analyzer.term
    matched = [marks.matches(term(m.group())) for m in tokens]
    start = _best_window(tokens, matched, analyzer, size)
    end = min(len(tokens), start + size)
    pieces = [ELLIPSIS if start > 0 else text[:tokens[0].start()]]
    position = tokens[start].start()
    for index in range(start, end):
        token = tokens[index]
        pieces.append(text[position:token.start()])
        pieces.append(MARK_START + token.group() + MARK_END if matched[index] else token.group())
        position = token.end()
    pieces.append(ELLIPSIS if end < len(tokens) else text[position:])
    return "".join(pieces)


def _best_window(tokens: list, matched: list[bool], analyzer: Analyzer, size: int) -> int:
    """The window start with the most distinct matched words (then most matches), a few
    words of context before the first of them."""
    hits = [i for i, is_hit in enumerate(matched) if is_hit]
    if not hits:
        return 0
    best, best_score = 0, (-1, -1)
    for first in hits:
        start = max(0, min(first - 3, len(tokens) - size))
        inside = [i for i in hits if start <= i < start + size]
        score = (len({analyzer.term(tokens[i].group()) for i in inside}), len(inside))
        if score > best_score:
            best, best_score = start, score
    return best
