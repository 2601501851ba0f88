"""Word forms for the embedded search: each text is analysed in its own language.

An analyser turns a word into the form that is indexed and searched (its *term*), so that
пытки, пыток and пытками, or fengsel and fengselet, meet in one term. Which library does it:

- every language Snowball covers (Russian, English, Norwegian Bokmål and Nynorsk, German,
  French, Swedish, ...): the Snowball stemmer through PyStemmer, as Elasticsearch's language
  analyzers do;
- Russian additionally goes through pymorphy3's dictionary first (lemma, then stem), because
  Snowball leaves forms with a fleeting vowel apart (пыток / пытки);
- Ukrainian, which Snowball lacks: pymorphy3 with its Ukrainian dictionary (the lemma);
- any other language, and text of unknown language: the word itself, lower-cased.

Terms are tagged with their language (``ru\\ue010пытк``) so that a stem in one language never
matches a text in another (the English stem of "fange" is "fang", which is no Norwegian word).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import Stemmer

# What FTS5's unicode61 tokenizer treats as one token (letters, digits, private use); an
# apostrophe inside a word (Ukrainian в'язниця) is kept with it for the analyser.
TOKEN = re.compile(r"[^\W_]+(?:['’ʼ][^\W_]+)*")
_APOSTROPHES = str.maketrans("", "", "'’ʼ")
_ONE_APOSTROPHE = str.maketrans("’ʼ", "''")  # as the dictionaries spell в'язниця
TAG = "\ue010"  # private use: a token character for unicode61, never in crawled words
UNKNOWN = "und"  # the tag of text whose language is not known
_CACHE_LIMIT = 200_000  # words per analyser; a crawl's vocabulary fits

# ISO 639-1 (and the codes langdetect emits) -> Snowball algorithm
SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech",
    "da": "danish", "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian",
    "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "hi": "hindi",
    "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "no": "norwegian", "nb": "norwegian", "nn": "norwegian", "fa": "persian",
    "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "st": "sesotho", "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish",
    "yi": "yiddish",
}
PYMORPHY = {"ru": "ru", "uk": "uk"}  # languages with a pymorphy3 dictionary package


class _Terms(dict):
    """word -> term; a lookup of a word seen before stays in C (``map(terms.__getitem__)``)."""

    def __init__(self, analyse: Callable[[str], str]) -> None:
        super().__init__()
        self.analyse = analyse

    def __missing__(self, word: str) -> str:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        term = self[word] = self.analyse(word)
        return term


@dataclass
class Analyzer:
    """Word -> term for one language; remembers the words it has seen (a crawl repeats them)."""

    language: str
    name: str  # what `newsmon stats` shows, e.g. "pymorphy3 lemma + snowball russian"
    steps: list[Callable[[str], str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.term = _Terms(self._analyse).__getitem__  # the indexed form of one word
        # the terms of a whitespace-separated chunk ("«пыток»," -> one term): splitting on
        # whitespace and looking chunks up costs a tenth of running the tokenizer on the text
        self._chunk = _Terms(lambda chunk: " ".join(map(self.term, TOKEN.findall(chunk))))
        self.chunk_terms = self._chunk.__getitem__  # "«пыток»," -> "ru\ue010пытк"

    def _analyse(self, word: str) -> str:
        """Lower-cased, analysed, apostrophes dropped, tagged with the language."""
        form = word.lower().translate(_ONE_APOSTROPHE)
        for step in self.steps:
            form = step(form) or form
        return self.tag + form.translate(_APOSTROPHES).lower()

    @property
    def tag(self) -> str:
        """What the terms of this language begin with."""
        return (self.language or UNKNOWN) + TAG

    def surface(self, word: str) -> str:
        """A word as typed, in the shape of a term (lower-cased, tagged), not analysed."""
        return self.tag + word.lower().translate(_APOSTROPHES)

    def tokens(self, text: str) -> Iterator[re.Match[str]]:
        return TOKEN.finditer(text)

    def analyse(self, text: str) -> str:
        """The text as the full-text index stores it: one term per word, in order."""
        return " ".join(map(self._chunk.__getitem__, text.split()))


class Analysis:
    """One analyser per language, made on first use (a dictionary takes a moment to load)."""

    def __init__(self) -> None:
        self._analyzers: dict[str, Analyzer] = {}

    def __call__(self, language: str) -> Analyzer:
        analyzer = self._analyzers.get(language)
        if analyzer is None:
            analyzer = self._analyzers[language] = _make(language)
        return analyzer


def _make(language: str) -> Analyzer:
    steps: list[Callable[[str], str]] = []
    names = []
    if language in PYMORPHY:
        import pymorphy3  # loaded only for the languages that use it

        morph = pymorphy3.MorphAnalyzer(lang=PYMORPHY[language])

        def lemma(word: str, parse=morph.parse) -> str:
            return parse(word)[0].normal_form

        steps.append(lemma)
        names.append("pymorphy3 lemma")
    if SNOWBALL.get(language) in Stemmer.algorithms():  # an older PyStemmer has fewer
        steps.append(Stemmer.Stemmer(SNOWBALL[language]).stemWord)
        names.append(f"snowball {SNOWBALL[language]}")
    return Analyzer(language, " + ".join(names) or "exact words", steps)
