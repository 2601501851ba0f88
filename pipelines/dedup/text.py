"""Text features for story matching: word shingles, and language-independent signals.

Shingles (overlapping word n-grams of the normalized text) are what MinHash compares within a
language. Signals are what two articles in different languages can share without a
translation: numbers, dates, URLs, and names reduced to a transliteration-insensitive key.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…]+[\s\"'»”)]*$")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"«»]+", re.IGNORECASE)
_TOKEN = re.compile(r"(?:https?://|www\.)[^\s<>\"«»]+|\w+|[^\w\s]", re.IGNORECASE | re.UNICODE)

# Cyrillic -> Latin, close to the common English/BGN practice; the name key below then folds
# away what differs between English, Norwegian and scholarly transliterations.
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g",
}
# Sound groups spelled differently across languages, longest first: each becomes one letter.
_FOLDS = (
    ("shch", "s"), ("tsch", "c"), ("tsj", "c"), ("tch", "c"), ("sch", "s"), ("skj", "s"),
    ("sh", "s"), ("sj", "s"), ("zh", "z"), ("kh", "h"), ("ch", "c"), ("ts", "c"), ("tz", "c"),
    ("ph", "f"), ("ck", "k"), ("qu", "kv"), ("q", "k"), ("w", "v"), ("x", "ks"), ("j", "y"),
)
_VOWELS = frozenset("aeiouyåæøäöüéèêáàíóú")
# Russian case endings, longest first: stripped from Cyrillic names before the key is made, so
# that «Калинина», «Калининым» and "Kalinin" share one key.
_RU_ENDINGS = (
    "ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "ой", "ей", "ом", "ем", "ым", "им",
    "ах", "ях", "ов", "ев", "ую", "юю", "ая", "яя", "ые", "ие", "а", "я", "у", "ю", "е", "ы", "и",
)

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


def name_key(word: str) -> str:
    """A spelling-insensitive key of a name: transliterated, sound groups folded, vowels dropped.

    ``Мирошниченко``, ``Miroshnichenko`` and ``Mirosjnitsjenko`` all give ``mrsn``. Keys are
    short and collide by design; they are only ever used together with other signals.
    """
    lower = normalize(word)
    if any("а" <= ch <= "я" for ch in lower) and len(lower) > 4:
        for ending in _RU_ENDINGS:
            if lower.endswith(ending) and len(lower) - len(ending) >= 4:
                lower = lower[: -len(ending)]
                break
    latin = "".join(_CYRILLIC.get(ch, ch) for ch in lower)
    latin = unicodedata.normalize("NFKD", latin)
    latin = "".join(ch for ch in latin if ch.isalpha() and not unicodedata.combining(ch))
    for group, letter in _FOLDS:
        latin = latin.replace(group, letter)
    consonants: list[str] = []
    for ch in latin:
        if ch in _VOWELS or not ch.isascii():
            continue
        if consonants and consonants[-1] == ch:
            continue
        consonants.append(ch)
    return "".join(consonants[:4])


def signals(text: str, language: str = "") -> set[str]:
    """Language-independent tokens of a text: ``n:`` numbers (also written as words in en, nb
    and ru), ``d:`` dates, ``u:`` URLs and ``e:`` name keys of capitalized words that do not
    start a sentence."""
    found: set[str] = set()
    for url in _URL.findall(text):
        found.add("u:" + url.lower().removeprefix("https://").removeprefix("http://")
                  .removeprefix("www.").rstrip(".,;:)/"))
    for line in _URL.sub(" ", text).splitlines():  # a headline or paragraph starts a sentence
        _line_signals(_TOKEN.findall(line), _NUMBERS.get(language, {}), found)
    return found


def _fold(token: str) -> str:
    """Cheap case folding for dictionary look-ups (number words and months are plain)."""
    return token.lower().replace("ё", "е")


def _line_signals(tokens: list[str], numbers: dict[str, int], found: set[str]) -> None:
    sentence_start = True
    for i, token in enumerate(tokens):
        first = token[0]
        if token.isdigit():
            found.add("n:" + (token.lstrip("0") or "0"))
            month = _month_after(tokens, i)
            if month and 1 <= int(token) <= 31:
                found.add(f"d:{month:02d}-{int(token):02d}")
            sentence_start = False
        elif first.isalpha():
            folded = _fold(token)
            number = numbers.get(folded)
            month = _MONTHS.get(folded)
            if number is not None:
                found.add(f"n:{number}")
            elif month and i + 1 < len(tokens) and tokens[i + 1].isdigit():
                day = int(tokens[i + 1])
                if 1 <= day <= 31:
                    found.add(f"d:{month:02d}-{day:02d}")
            elif (
                not sentence_start
                and first.isupper()
                and len(token) >= 3
                and not month
                and not (token.isupper() and len(token) <= 4)  # acronyms differ per language
            ):
                key = name_key(token)
                if len(key) >= 2:
                    found.add("e:" + key)
            sentence_start = False
        elif _SENTENCE_END.match(token):
            sentence_start = True


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
