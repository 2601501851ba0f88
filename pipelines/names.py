"""Names across scripts, transliteration schemes and inflection: one key per name.

Shared by the stages that match people, places and organisations between languages (story
clustering in ``pipelines/dedup``, official statements in ``pipelines/statements``), so that both
agree on when two spellings are one name. A Cyrillic word is lemmatized with pymorphy3
(«Озёрного» -> «озёрный», «Калининой» -> «калинин»), transliterated with cyrtranslit, and then
every word goes through one fold of what transliteration schemes spell differently
(English *Kovalyov*, Norwegian *Kovaljov*, scholarly *Koval'ëv*, ё written as е), so that

    Озёрный, Ozyorny, Ozjornyj, Ozernyj  -> ``ozerni``
    Ковалёв, Kovalyov, Kovaljov, Kovalev -> ``kovalev``
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import cyrtranslit
import pymorphy3

__all__ = ["CYRILLIC", "WORD", "NameNormalizer", "fold", "skeleton"]

WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UKRAINIAN = re.compile(r"[іїєґ]")
# Applied in this order to lowercase ASCII; longest groups first. Each line collapses the ways
# English (BGN/PCGN), Norwegian, German and scholarly schemes write one Cyrillic sound.
_FOLDS = (
    ("shch", "s"), ("sjtsj", "s"), ("shh", "s"), ("tsch", "c"), ("tsj", "c"), ("tch", "c"),
    ("sch", "s"), ("skj", "s"), ("zh", "z"), ("zjo", "zio"), ("zj", "z"), ("sh", "s"), ("sj", "s"), ("kh", "h"),
    ("ch", "c"), ("cz", "c"), ("ts", "c"), ("tz", "c"), ("ck", "k"), ("ph", "f"), ("w", "v"),
    ("x", "ks"), ("q", "k"), ("j", "i"), ("y", "i"),
    ("io", "e"),  # ё: yo / jo / ë / e
)
# Latin-script endings a name takes in running text: English and Norwegian genitive.
_LATIN_ENDINGS = ("'s", "’s", "s")


def fold(word: str) -> str:
    """Lowercase ASCII skeleton of one word in Latin or Cyrillic script (no lemmatization)."""
    lower = unicodedata.normalize("NFKC", word).casefold()
    if CYRILLIC.search(lower):
        lower = cyrtranslit.to_latin(lower, "ua" if _UKRAINIAN.search(lower) else "ru")
    lower = unicodedata.normalize("NFKD", lower.replace("ø", "o").replace("æ", "ae"))
    text = "".join(ch for ch in lower if ch.isascii() and ch.isalnum())
    for group, letter in _FOLDS:
        text = text.replace(group, letter)
    if text.startswith("ie"):  # initial е: Yevgeny / Jevgenij / Evgeny
        text = text[1:]
    out: list[str] = []
    for ch in text:
        if not out or out[-1] != ch or ch.isdigit():
            out.append(ch)
    return "".join(out)


def skeleton(key: str, length: int = 4) -> str:
    """The first consonants of a folded key: coarser, for when vowels were translated too."""
    out = [ch for ch in key if ch not in "aeiou"]
    return "".join(out[:length])


class NameNormalizer:
    """Keys of names in any supported script; the morphological analysers are loaded once.

    ``key(word, language)`` is the one key to index a word under; ``keys(word, language)``
    every key it may stand for (each normal form of an ambiguous Cyrillic word, a Latin word
    with and without a genitive ending), for matching a word against indexed keys.
    """

    def __init__(self, cache_size: int = 100_000) -> None:
        self._morph = {"ru": pymorphy3.MorphAnalyzer(lang="ru"),
                       "uk": pymorphy3.MorphAnalyzer(lang="uk")}
        self.key = lru_cache(maxsize=cache_size)(self._key)
        self.keys = lru_cache(maxsize=cache_size)(self._keys)

    def lemmas(self, word: str, language: str = "") -> list[str]:
        """Normal forms of a word, most likely first: pymorphy3 for Cyrillic, else the word
        without a genitive ending (``Kolokol's``, Norwegian ``Kovaljovs``)."""
        lower = unicodedata.normalize("NFKC", word).casefold()
        if CYRILLIC.search(lower):
            analyser = self._morph["uk" if language == "uk" or _UKRAINIAN.search(lower) else "ru"]
            forms: list[str] = []
            parses = analyser.parse(lower)[:4]
            # a reading as a name first: «Вересова» is Veresov's, not an adjective of «вереск»
            parses.sort(key=lambda p: not {"Surn", "Name", "Patr", "Geox", "Orgn"} & p.tag.grammemes)
            for parse in parses:
                # the nominative singular of the same gender: Калининой -> калинина (Kalinina)
                inflected = parse.inflect({"nomn", "sing"}) if "plur" not in parse.tag else None
                form = inflected.word if inflected is not None else parse.normal_form
                if form not in forms:
                    forms.append(form)
            return forms or [lower]
        for ending in _LATIN_ENDINGS:
            if lower.endswith(ending) and len(lower) - len(ending) >= 4:
                return [lower, lower[: -len(ending)]] if ending == "s" else [lower[: -len(ending)]]
        return [lower]

    def _key(self, word: str, language: str = "") -> str:
        return fold(self.lemmas(word, language)[0])

    def _keys(self, word: str, language: str = "") -> frozenset[str]:
        found = {fold(word), *(fold(lemma) for lemma in self.lemmas(word, language))}
        found.discard("")
        return frozenset(found)

    def phrase_key(self, words: Iterable[str], language: str = "") -> str:
        """Key of a multi-word name (``Ozjornyj kraj``, «Озёрного края»): keys joined by spaces."""
        return " ".join(self.key(word, language) for word in words)
