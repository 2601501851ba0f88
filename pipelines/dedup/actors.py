"""Organisations named by their watched-actor aliases: one signal whatever the language.

ФСИН, FSIN, «Федеральной службы исполнения наказаний» and *det russiske fengselsvesenet* are
one body; the actor files (``pipelines/statements/actors``, plus ``statements.actor_dirs``) list
those aliases per language, and the statements stage already finds them in any inflection. Story
clustering reuses both, the loader and the mention index, rather than a copy: a mention of an
organisation (kinds body, ngo, media) becomes the signal ``a:<actor id>``. People are left to the
name keys (``e:``), which already match them across scripts: a second token would count them
twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pipelines.statements.actors import load_actors
from pipelines.statements.keys import Keyer
from pipelines.statements.mentions import MentionIndex

ORGANISATION_KINDS = frozenset({"body", "ngo", "media"})


class OrganisationFinder:
    """Finds organisations in text by their aliases (names and role phrases)."""

    def __init__(self, actor_dirs: Iterable[str | Path] = (), *, bundled: bool = True) -> None:
        actors = [a for a in load_actors(actor_dirs, bundled=bundled).values()
                  if a.kind in ORGANISATION_KINDS]
        self.index = MentionIndex(actors, shared_keyer())

    def spans(self, text: str, language: str) -> list[tuple[int, int, str]]:
        """(start, end, actor id) of each organisation mentioned, in text order."""
        return [(m.start, m.end, m.actor) for m in self.index.find(text, language)
                if m.via != "fuzzy"]


@lru_cache(maxsize=1)
def shared_keyer() -> Keyer:
    """One keyer per process for the organisation and quote finders (it holds the analysers
    and a cache of keyed words)."""
    return Keyer()


@lru_cache(maxsize=8)
def organisation_finder(actor_dirs: tuple[str, ...] = ()) -> OrganisationFinder:
    """One finder per set of actor folders (building the index loads the analysers)."""
    return OrganisationFinder(actor_dirs)
