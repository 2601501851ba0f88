"""Text features for story matching: word shingles, and language-independent signals.

Shingles (overlapping word n-grams of the normalized text) are what MinHash compares within a
language. Signals are what two articles can share without sharing wording or language: numbers,
dates, URLs, and names keyed across scripts and inflection by ``pipelines.names``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING

from pipelines.names import NameNormalizer

if TYPE_CHECKING:
    from pipelines.dedup.actors import OrganisationFinder

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…]+[\s\"'»”)]*$")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"«»]+", re.IGNORECASE)
_TOKEN = re.compile(r"(?:https?://|www\.)[^\s<>\"«»]+|\w+|[^\w\s]", re.IGNORECASE | re.UNICODE)

_MONTHS = {
    # en
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    # nb (those that differ from English)
    "januar": 1, "februar": 2, "mars": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10,
    "desember": 12,
    # ru, nominative and genitive
    "январь": 1, "января": 1, "февраль": 2, "февраля": 2, "март": 3, "марта": 3, "апрель": 4,
    "апреля": 4, "май": 5, "мая": 5, "июнь": 6, "июня": 6, "июль": 7, "июля": 7, "август": 8,
    "августа": 8, "сентябрь": 9, "сентября": 9, "октябрь": 10, "октября": 10, "ноябрь": 11,
    "ноября": 11, "декабрь": 12, "декабря": 12,
}


# Numbers written as words, so "более сорока", "more than forty" and "over førti" share n:40.
# Per language ("to" is two in Norwegian, a preposition in English); Russian lists the case
# forms news text uses; "one" is left out (mostly not a quantity).
_NUMBER_WORDS = {
    "en": "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
          " sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty"
          " ninety hundred",
    "nb": "to tre fire fem seks sju åtte ni ti elleve tolv tretten fjorten femten seksten sytten"
          " atten nitten tjue tretti førti femti seksti sytti åtti nitti hundre",
    "ru": "два|две|двух|двум|двумя три|трех|трем|тремя четыре|четырех|четырем|четырьмя"
          " пять|пяти|пятью шесть|шести|шестью семь|семи|семью восемь|восьми|восемью"
          " девять|девяти|девятью десять|десяти|десятью одиннадцать|одиннадцати"
          " двенадцать|двенадцати тринадцать|тринадцати четырнадцать|четырнадцати"
          " пятнадцать|пятнадцати шестнадцать|шестнадцати семнадцать|семнадцати"
          " восемнадцать|восемнадцати девятнадцать|девятнадцати двадцать|двадцати"
          " тридцать|тридцати сорок|сорока пятьдесят|пятидесяти шестьдесят|шестидесяти"
          " семьдесят|семидесяти восемьдесят|восьмидесяти девяносто|девяноста сто|ста",
}
_VALUES = (*range(2, 21), 30, 40, 50, 60, 70, 80, 90, 100)
_NUMBERS = {
    language: {
        form: value
        for value, forms in zip(_VALUES, words_.split(), strict=True)
        for form in forms.split("|")
    }
    for language, words_ in _NUMBER_WORDS.items()
}
_NUMBERS["no"] = _NUMBERS["nn"] = _NUMBERS["nb"]

# Dates relative to the publication day: days back, or -(weekday + 1) for a named weekday
# (its latest occurrence). Russian weekdays in the accusative of "в среду".
_RELATIVE_WORDS = {
    "en": ("today", "yesterday", "", "monday tuesday wednesday thursday friday saturday sunday"),
    "nb": ("", "går", "forgårs", "mandag tirsdag onsdag torsdag fredag lørdag søndag"),
    "ru": ("сегодня", "вчера", "позавчера",
           "понедельник вторник среду четверг пятницу субботу воскресенье"),
}
_RELATIVE = {
    language: {
        **{word: back for back, word in enumerate((today, yesterday, before)) if word},
        **{day: -(n + 1) for n, day in enumerate(weekdays.split())},
    }
    for language, (today, yesterday, before, weekdays) in _RELATIVE_WORDS.items()
}
_RELATIVE["no"] = _RELATIVE["nn"] = _RELATIVE["nb"]


def normalize(text: str) -> str:
    """Case-folded NFKC text with ё folded to е, so spelling variants shingle alike."""
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def shingles(text: str, size: int) -> set[str]:
    """The set of overlapping ``size``-word sequences of a text (one shingle if it is shorter)."""
    tokens = words(text)
    if not tokens:
        return set()
    if len(tokens) <= size:
        return {" ".join(tokens)}
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def signals(
    text: str, language: str = "", names: NameNormalizer | None = None,
    published: date | None = None, organisations: OrganisationFinder | None = None,
) -> set[str]:
    """Language-independent tokens of a text: ``n:`` numbers (also written as words in en, nb
    and ru), ``d:`` dates (also "yesterday", "on Monday", resolved against ``published``),
    ``u:`` URLs, ``a:`` organisations named by a watched-actor alias (``organisations``), and
    ``e:`` name keys (pipelines/names.py) of the other capitalized words that do not start a
    sentence. A name of several words (Pavel Zhukov, Ozyorny Krai) keys every word, and adds
    ``r:<n>:<keys>``, which tells ``run_shares`` that those keys are parts of one n-word name."""
    found: set[str] = set()
    if organisations is not None:
        parts, last = [], 0
        for start, end, actor in organisations.spans(text, language):
            found.add("a:" + actor)
            parts += [text[last:start], " , "]  # not a name any more; ends a run of names
            last = end
        text = "".join([*parts, text[last:]])
    for url in _URL.findall(text):
        found.add("u:" + url.lower().removeprefix("https://").removeprefix("http://")
                  .removeprefix("www.").rstrip(".,;:)/"))
    reader = _Reader(language, names or NameNormalizer(), published)
    for line in _URL.sub(" ", text).splitlines():  # a headline or paragraph starts a sentence
        reader.line(_TOKEN.findall(line), found)
    found |= reader.name_tokens()
    return found


def _fold(token: str) -> str:
    """Cheap case folding for dictionary look-ups (number words and months are plain)."""
    return token.lower().replace("ё", "е")


class _Reader:
    """Reads the signals of one text, line by line; names are keyed at the end, when every
    spelling the text uses is known (so «Жукова» keys as «Жуков» when that form occurs too)."""

    def __init__(self, language: str, names: NameNormalizer, published: date | None) -> None:
        self.numbers = _NUMBERS.get(language, {})
        self.relative = _RELATIVE.get(language, {})
        self.language = language
        self.names = names
        self.published = published
        self.runs: list[list[str]] = []  # runs of capitalized words: one name each

    def line(self, tokens: list[str], found: set[str]) -> None:
        sentence_start = True
        run: list[str] = []
        for i, token in enumerate(tokens):
            named = False
            first = token[0]
            if token.isdigit():
                found.add("n:" + (token.lstrip("0") or "0"))
                month = _month_after(tokens, i)
                if month and 1 <= int(token) <= 31:
                    found.add(f"d:{month:02d}-{int(token):02d}")
                sentence_start = False
            elif first.isalpha():
                folded = _fold(token)
                number = self.numbers.get(folded)
                month = _MONTHS.get(folded)
                back = self.relative.get(folded)
                if number is not None:
                    found.add(f"n:{number}")
                elif month and i + 1 < len(tokens) and tokens[i + 1].isdigit():
                    day = int(tokens[i + 1])
                    if 1 <= day <= 31:
                        found.add(f"d:{month:02d}-{day:02d}")
                elif back is not None and self.published is not None and (
                    back < 0 or self.language not in ("nb", "nn", "no")
                    or (i and tokens[i - 1].lower() == "i")  # "i går": "går" is also "goes"
                ):
                    if back < 0:  # a weekday: its latest occurrence up to the publication day
                        back = (self.published.weekday() - (-back - 1)) % 7
                    found.add(f"d:{self.published - timedelta(days=back):%m-%d}")
                elif (
                    not sentence_start
                    and first.isupper()
                    and len(token) >= 3
                    and not month
                    and not (token.isupper() and len(token) <= 4)  # acronyms differ per language
                ):
                    # every word of a run of capitalized words (Pavel Zhukov, Ozyorny Krai):
                    # which of them another text shares is not known here (Озёрного края
                    # capitalizes only the first)
                    run.append(token)
                    named = True
                sentence_start = False
            elif _SENTENCE_END.match(token):
                sentence_start = True
            if run and not named:
                self.runs.append(run)
                run = []
        if run:
            self.runs.append(run)

    def name_tokens(self) -> set[str]:
        words_ = {w for run in self.runs for w in run}
        primary = {w: self.names.key(w, self.language) for w in words_}
        used = set(primary.values())
        final = {}
        for word, key in primary.items():
            others = sorted(self.names.keys(word, self.language) & used - {key}, key=len)
            if others and len(others[0]) < len(key):
                key = others[0]
            if len(key) >= 3:
                final[word] = key
        out = {"e:" + key for key in final.values()}
        # the share of one name each key stands for: 1 where a word is a name of its own
        # somewhere in the text, else 1/n for the n distinct keys of its run
        alone = {final[run[0]] for run in self.runs if len(run) == 1 and run[0] in final}
        for run in self.runs:
            keys = sorted({final[w] for w in run if w in final})
            if len(keys) > 1 and set(keys) - alone:
                out.add(f"r:{len(keys)}:" + " ".join(k for k in keys if k not in alone))
        return out


def run_shares(tokens: Iterable[str]) -> dict[str, float]:
    """The share of one name each ``e:`` token of a text stands for, where it is below 1 (a
    word of a longer name), read from the ``r:`` tokens ``signals`` adds: "one name, one
    signal", so a first name and surname do not count as two pieces of evidence."""
    shares: dict[str, float] = {}
    for token in tokens:
        if token.startswith("r:"):
            count, _, keys = token[2:].partition(":")
            share = 1.0 / int(count)
            for key in keys.split(" "):
                shares["e:" + key] = max(shares.get("e:" + key, 0.0), share)
    return shares


def _month_after(tokens: list[str], i: int) -> int | None:
    """The month named right after a day number ("19 ноября", "15. januar", "2 December")."""
    j = i + 1
    if j < len(tokens) and tokens[j] == ".":
        j += 1
    if j < len(tokens):
        return _MONTHS.get(_fold(tokens[j]))
    return None


# Function words of the usual pivot language; other pivots rely on the length filter alone.
_STOPWORDS = {
    "en": frozenset({
        "the", "a", "an", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and", "or",
        "but", "nor", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had",
        "do", "does", "did", "it", "its", "this", "that", "these", "those", "which", "who",
        "whom", "whose", "what", "when", "where", "why", "how", "as", "than", "then", "there",
        "here", "not", "no", "he", "she", "they", "we", "you", "i", "his", "her", "their", "our",
        "your", "him", "them", "us", "me", "my", "said", "says", "say", "told", "also", "would",
        "will", "can", "could", "should", "may", "might", "must", "shall", "all", "any", "some",
        "more", "most", "other", "such", "into", "over", "under", "about", "after", "before",
        "between", "during", "without", "within", "up", "down", "out", "off", "so", "if",
        "while", "because", "per", "via",
    }),
}


def content_terms(text: str, language: str) -> set[str]:
    """Stems (first five letters) of a text's content words: what two translations share.

    Two translations of one story rarely share word sequences but do share most of their
    nouns, names and numbers; the short stem absorbs inflection (torture/tortured).
    """
    stop = _STOPWORDS.get(language, frozenset())
    return {w[:5] for w in words(text) if (len(w) >= 3 or w.isdigit()) and w not in stop}
