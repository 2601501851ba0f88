"""Statements as story evidence: the same speaker quoted with the same numbers and names.

Two write-ups of one event usually quote the same people, and a retelling in another language
paraphrases the quote but keeps its numbers and names: «из 38 записей подлинными признаны
девять», says the prison service's spokesman in Russian, "ni av 38 videoopptak er ekte" in
Norwegian. That the same person said the same numbers is stronger evidence than the numbers
alone, while the same spokesman saying something else about another event is none.

The statements stage's extractor (``pipelines.statements.extract``: quotes and reported speech,
with their speaker) finds them; here each statement with a known speaker, a watched actor
(``a:<id>``) or a named person (``e:<name key>``, the surname keyed as story signals key names),
becomes tokens ``q:<speaker> <signal>``, one per number, date, name, organisation or link of
the statement that the article's own signals have, the speaker's own name left out. A speaker
without such content gives no token: a speaker alone is no evidence, nor is one number the same
spokesman says about two events (``MIN_QUOTED_ALIKE``). ``Deduplicator.agreement`` scores them
(docs/dedup.md, "Quotes").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path

from pipelines.dedup.actors import OrganisationFinder, shared_keyer
from pipelines.dedup.text import signals
from pipelines.names import WORD, NameNormalizer
from pipelines.statements.actors import load_actors
from pipelines.statements.extract import StatementExtractor
from pipelines.statements.mentions import MentionIndex

PREFIX = "q:"
MIN_QUOTED_ALIKE = 2  # rare signals two articles must quote one speaker with (one: coincidence)
_CONTENT = ("n:", "d:", "e:", "a:", "u:")  # what a statement says that another one can share


class QuoteFinder:
    """Statements of an article as ``q:`` tokens (speaker and what the statement names)."""

    def __init__(self, actor_dirs: Iterable[str | Path] = (), *, bundled: bool = True) -> None:
        actors = load_actors(actor_dirs, bundled=bundled).values()
        self.extractor = StatementExtractor(MentionIndex(actors, shared_keyer()))

    def tokens(self, body: str, language: str, found: set[str], names: NameNormalizer,
               published: date | None, organisations: OrganisationFinder | None = None
               ) -> set[str]:
        """``q:`` tokens of the statements in ``body``; ``found``: the article's own signals
        (a statement's content counts only as the article's signals key it)."""
        statements, _ = self.extractor.extract(body, language)
        own_names = {t for t in found if t.startswith("e:")}
        out: set[str] = set()
        for statement in statements:
            speaker, own = _speaker(statement.speaker_actor, statement.speaker_name, language,
                                    names, own_names)
            if not speaker:
                continue
            content = signals(statement.text, language, names, published, organisations)
            for token in sorted(content & found - own):
                if token.startswith(_CONTENT):
                    out.add(f"{PREFIX}{speaker} {token}")
        return out


def _speaker(actor: str, name: str, language: str, names: NameNormalizer,
             own_names: set[str]) -> tuple[str, set[str]]:
    """The speaker's token (``a:<actor>`` or ``e:<surname key>``) and the signals that only
    name the speaker (left out of what the statement says)."""
    words = WORD.findall(name)
    own = {"e:" + key for word in words for key in names.keys(word, language)}
    if actor:
        return "a:" + actor, own | {"a:" + actor}
    if not words:
        return "", own
    surname = words[-1]
    key = "e:" + names.key(surname, language)
    # as the article's names are keyed: a shorter form the text uses elsewhere (genitive
    # «Сабанина» -> «Сабанин» when that form occurs too)
    others = sorted(({"e:" + k for k in names.keys(surname, language)} & own_names) - {key},
                    key=len)
    if others and len(others[0]) < len(key):
        key = others[0]
    return (key, own) if len(key) >= 5 else ("", own)  # "e:" + at least 3 letters


def quoted(tokens: Iterable[str]) -> dict[str, set[str]]:
    """Speaker -> the signals their statements in one article carry (from its ``q:`` tokens)."""
    by_speaker: dict[str, set[str]] = defaultdict(set)
    for token in tokens:
        if token.startswith(PREFIX):
            speaker, _, content = token[len(PREFIX):].partition(" ")
            by_speaker[speaker].add(content)
    return by_speaker


@lru_cache(maxsize=8)
def quote_finder(actor_dirs: tuple[str, ...] = ()) -> QuoteFinder:
    """One finder per set of actor folders (building it loads the analysers)."""
    return QuoteFinder(actor_dirs)
