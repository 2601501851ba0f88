"""The user's query language, parsed once and compiled by each backend.

Syntax: words (all must match), ``"a phrase"``, ``-word`` or ``-"a phrase"`` (exclude),
``a OR b`` (either). Backends compile the parsed form, so user text never reaches the FTS5
or Elasticsearch query syntax unescaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.errors import QueryError

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Term:
    text: str  # words separated by single spaces
    phrase: bool = False


@dataclass
class ParsedQuery:
    """All groups must match (each group: any of its terms); no excluded term may match."""

    groups: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    def terms(self) -> list[Term]:
        return [t for group in self.groups for t in group]


def _term(raw: str, phrase: bool) -> Term | None:
    words = _WORD.findall(raw)
    if not words:
        return None
    return Term(" ".join(words), phrase=phrase or len(words) > 1)


def parse_query(text: str) -> ParsedQuery:
    """Parse the user's query; raise QueryError when nothing searchable is left."""
    parsed = ParsedQuery()
    pending_or = False
    for match in _TOKEN.finditer(text):
        negated, quoted, bare = match.group(1), match.group(2), match.group(3)
        if bare == "OR":
            pending_or = bool(parsed.groups)
            continue
        if quoted is not None:
            term = _term(quoted, phrase=True)
        else:
            negated = "-" if bare.startswith("-") and len(bare) > 1 else ""
            term = _term(bare[1:] if negated else bare, phrase=False)
        if term is None:
            continue
        if negated:
            parsed.excluded.append(term)
        elif pending_or:
            parsed.groups[-1].append(term)
        else:
            parsed.groups.append([term])
        pending_or = False
    if not parsed.groups:
        if parsed.excluded:
            raise QueryError("the query needs at least one word that is not excluded")
        raise QueryError("the query is empty: give at least one word")
    return parsed


def _fts_term(term: Term) -> str:
    return '"' + term.text.replace('"', '""') + '"'


def to_fts5(parsed: ParsedQuery) -> str:
    """Compile to an SQLite FTS5 MATCH expression; every term is quoted, so it is inert."""
    parts = []
    for group in parsed.groups:
        alternatives = [_fts_term(t) for t in group]
        parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
    expression = " AND ".join(parts)
    for term in parsed.excluded:
        expression = f"({expression}) NOT {_fts_term(term)}"
    return expression
