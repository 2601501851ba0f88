"""The user's query language, parsed once and compiled by each backend.

Syntax: words (all must match), ``"a phrase"``, ``-word`` or ``-"a phrase"`` (exclude),
``a OR b`` (either), ``prefix*`` (words that begin so). Backends compile the parsed form, so
user text never reaches the FTS5 or Elasticsearch query syntax unescaped. Both backends match
every word form (stems, see ``search.analysis``), in phrases too: ``"penal colonies"`` finds
"penal colony"; the words must stand next to each other in that order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from search.errors import QueryError

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+(?:['’ʼ]\w+)*")  # в'язниця is one word
_PREFIX = re.compile(r"(\w+(?:['’ʼ]\w+)*)\*")
MIN_PREFIX = 3  # characters: a shorter prefix would match much of the index


@dataclass(frozen=True)
class Term:
    text: str  # words separated by single spaces
    phrase: bool = False
    prefix: bool = False  # one word; matches the indexed words (stems) that begin with it


@dataclass
class ParsedQuery:
    """All groups must match (each group: any of its terms); no excluded term may match."""

    groups: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    def terms(self) -> list[Term]:
        return [t for group in self.groups for t in group]


def _term(raw: str, phrase: bool) -> Term | None:
    prefix = None if phrase else _PREFIX.fullmatch(raw)
    if prefix is not None:
        if len(prefix.group(1)) < MIN_PREFIX:
            raise QueryError(f"a prefix needs at least {MIN_PREFIX} letters: {raw}")
        return Term(prefix.group(1), prefix=True)
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


def fts_string(text: str) -> str:
    """An FTS5 string: quoted, so whatever it holds is inert."""
    return '"' + text.replace('"', '""') + '"'


def _exact(term: Term) -> list[str]:
    return [fts_string(term.text) + ("*" if term.prefix else "")]


def to_fts5(parsed: ParsedQuery, forms: Callable[[Term], list[str]] = _exact) -> str:
    """Compile to an SQLite FTS5 MATCH expression. ``forms`` gives the FTS5 strings that one
    term stands for (its analysed forms, one per language); any of them may match."""
    def alternatives(terms: list[Term]) -> str:
        options = list(dict.fromkeys(f for t in terms for f in forms(t)))
        return options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"

    expression = " AND ".join(alternatives(group) for group in parsed.groups)
    for term in parsed.excluded:
        expression = f"({expression}) NOT {alternatives([term])}"
    return expression
