"""Word keys that survive inflection, script and spelling: what mentions are matched on.

A Cyrillic word is lemmatized with pymorphy3 (every normal form it may have, so «Пескова» keys
as «песков»), transliterated with cyrtranslit; a Latin word is stemmed with Snowball for its
language. Both then go through ``pipelines.names.fold`` (shared with story clustering), the one
fold of sound groups that languages spell differently (ch/tsch/tsj -> c, sh/sj -> s, w -> v,
y/j -> i ...), so Осечкин, Osechkin, Osetschkin and Osetsjkin share one key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pymorphy3
import snowballstemmer

from pipelines.names import fold

WORD = re.compile(r"\w+(?:[-.'’]\w+)*", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_STEMMERS = {
    "en": "english", "nb": "norwegian", "nn": "norwegian", "no": "norwegian", "da": "danish",
    "sv": "swedish", "de": "german", "fr": "french", "es": "spanish", "it": "italian",
    "nl": "dutch", "fi": "finnish", "pt": "portuguese",
}
# Latin-script genitive and plural endings a name may carry (Peskovs, Peskov's)
_LATIN_NAME_ENDINGS = ("'s", "’s", "s")


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str
    keys: frozenset[str]  # every key this word may stand for
    capitalized: bool
    lemma: str  # first normal form, lowercase, in its own script (speech verbs, pronouns)
    future: bool = False  # a Russian or Ukrainian verb in the future tense ("ответят")


class Keyer:
    """Tokenizes text and keys each word; analysers are built once and reused (cached per word)."""

    def __init__(self) -> None:
        self._morph = {"ru": pymorphy3.MorphAnalyzer(lang="ru"),
                       "uk": pymorphy3.MorphAnalyzer(lang="uk")}
        self._stemmers: dict[str, snowballstemmer.stemmer] = {}
        self.word_keys = lru_cache(maxsize=200_000)(self._word_keys)

    def _stemmer(self, language: str):
        name = _STEMMERS.get(language)
        if name is None:
            return None
        if name not in self._stemmers:
            self._stemmers[name] = snowballstemmer.stemmer(name)
        return self._stemmers[name]

    def _word_keys(self, word: str, language: str) -> tuple[frozenset[str], str, bool]:
        lower = word.casefold()
        keys = {fold(lower)}
        future = False
        if _CYRILLIC.search(lower):
            morph = self._morph["uk" if language == "uk" else "ru"]
            parses = morph.parse(lower)[:4]
            forms = [p.normal_form for p in parses] or [lower]
            keys.update(fold(f) for f in forms)
            lemma = forms[0]
            future = bool(parses) and "futr" in parses[0].tag
        else:
            lemma = lower
            stemmer = self._stemmer(language)
            if stemmer is not None:
                stem = stemmer.stemWord(lower)
                keys.add(fold(stem))
                lemma = stem
            for ending in _LATIN_NAME_ENDINGS:
                if lower.endswith(ending) and len(lower) - len(ending) >= 3:
                    keys.add(fold(lower[: -len(ending)]))
                    break
        keys.discard("")
        return frozenset(keys), lemma, future

    def tokens(self, text: str, language: str) -> list[Token]:
        out = []
        for match in WORD.finditer(text):
            word = match.group().rstrip(".")
            keys, lemma, future = self.word_keys(word, language)
            out.append(Token(match.start(), match.start() + len(word), word, keys,
                             word[:1].isupper(), lemma, future))
        return out
