"""Find watched actors in text: names and role phrases, in any inflection, script or spelling.

Every alias is keyed word by word (``keys.Keyer``) and indexed by the keys of its first word,
so finding mentions costs one hash lookup per word of text whatever the number of actors.
Surnames spelled a new way (Oshkin for Osechkin) are caught by fuzzy matching (rapidfuzz)
against the surnames that start with the same letter and have about the same length; the
threshold is measured on the tuning part of the evaluation set (docs/statements.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from crawler.config import DEFAULTS
from pipelines.statements.actors import Actor
from pipelines.statements.keys import Keyer, Token

DEFAULT_FUZZY_THRESHOLD = float(DEFAULTS["statements"]["fuzzy_threshold"])  # measured: docs
_FUZZY_MIN_LENGTH = 5  # shorter keys are too easy to confuse


@dataclass(frozen=True)
class Mention:
    actor: str
    start: int  # character offsets in the text
    end: int
    text: str
    via: str  # name | role | fuzzy
    first_token: int
    last_token: int  # inclusive


@dataclass(frozen=True)
class _Alias:
    actor: str
    words: tuple[frozenset[str], ...]
    via: str  # name | role
    needs_capital: bool


class MentionIndex:
    """Aliases of all actors, indexed by the keys of their first word."""

    def __init__(self, actors: Iterable[Actor], keyer: Keyer,
                 fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD) -> None:
        self.keyer = keyer
        self.fuzzy_threshold = fuzzy_threshold
        self.actors = {a.id: a for a in actors}
        self._by_first: dict[str, list[_Alias]] = defaultdict(list)
        # surname key -> actor ids; bucketed by (first letter, length) for fuzzy look-ups
        self._surnames: dict[str, set[str]] = defaultdict(set)
        self._buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for actor in self.actors.values():
            for language, name in actor.all_names():
                self._add(actor, name, language, "name")
                words = self.keyer.tokens(name, language)
                if actor.is_person and len(words) > 1:
                    self._add(actor, words[-1].text, language, "name")  # the surname alone
            for language, role in actor.all_roles():
                self._add(actor, role, language, "role")
        for key in self._surnames:
            self._buckets[(key[0], len(key))].append(key)

    def _add(self, actor: Actor, phrase: str, language: str, via: str) -> None:
        words = self.keyer.tokens(phrase, language)
        if not words:
            return
        alias = _Alias(actor.id, tuple(w.keys for w in words), via,
                       needs_capital=via == "name" and words[0].capitalized)
        for key in words[0].keys:
            if alias not in self._by_first[key]:
                self._by_first[key].append(alias)
        if via == "name" and len(words) == 1 and actor.is_person:
            for key in words[0].keys:
                if len(key) >= _FUZZY_MIN_LENGTH:
                    self._surnames[key].add(actor.id)

    def find(self, text: str, language: str, tokens: list[Token] | None = None) -> list[Mention]:
        """Non-overlapping mentions in ``text``, longest first where they compete."""
        tokens = self.keyer.tokens(text, language) if tokens is None else tokens
        found: list[tuple[int, int, str, str]] = []  # (first, last, actor, via)
        for i, token in enumerate(tokens):
            matched = False
            seen: set[_Alias] = set()
            for key in token.keys:
                for alias in self._by_first.get(key, ()):
                    if alias in seen:
                        continue
                    seen.add(alias)
                    if alias.needs_capital and not token.capitalized:
                        continue
                    n = len(alias.words)
                    if i + n > len(tokens):
                        continue
                    if all(alias.words[j] & tokens[i + j].keys for j in range(1, n)):
                        found.append((i, i + n - 1, alias.actor, alias.via))
                        matched = True
            if not matched and token.capitalized:
                actor = self._fuzzy(token)
                if actor is not None:
                    found.append((i, i, actor, "fuzzy"))
        found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
        taken: set[int] = set()
        kept: list[tuple[int, int, str, str]] = []
        for first, last, actor, via in found:
            span = set(range(first, last + 1))
            if span & taken:
                # a body named inside someone's role ("founder of Gulagu.net") is mentioned too
                if via == "name" and any(v == "role" and a != actor and f <= first and last <= la
                                         for f, la, a, v in kept):
                    kept.append((first, last, actor, via))
                continue
            taken |= span
            kept.append((first, last, actor, via))
        mentions = []
        for first, last, actor, via in kept:
            start, end = tokens[first].start, tokens[last].end
            mentions.append(Mention(actor, start, end, text[start:end], via, first, last))
        mentions.sort(key=lambda m: m.start)
        return mentions

    def _fuzzy(self, token: Token) -> str | None:
        best: tuple[float, str] | None = None
        for key in token.keys:
            if len(key) < _FUZZY_MIN_LENGTH:
                continue
            candidates = [k for length in range(len(key) - 2, len(key) + 3)
                          for k in self._buckets.get((key[0], length), ())]
            if not candidates:
                continue
            hit = process.extractOne(key, candidates, scorer=fuzz.ratio,
                                     score_cutoff=self.fuzzy_threshold)
            if hit is not None and (best is None or hit[1] > best[0]):
                best = (hit[1], hit[0])
        if best is None:
            return None
        actors = self._surnames[best[1]]
        return next(iter(actors)) if len(actors) == 1 else None  # ambiguous: say nothing
