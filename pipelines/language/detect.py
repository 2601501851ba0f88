"""Language identification with langdetect, made deterministic and reported as ISO 639-1.

Scheme: ISO 639-1 codes. Written Norwegian is reported as ``nb`` (Bokmål), because langdetect
cannot tell Bokmål from Nynorsk: only a page that declares ``nn`` is reported as ``nn``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from search.article import Article

# langdetect's codes that differ from the ISO 639-1 code newsmon reports
_CODES = {"no": "nb", "zh-cn": "zh", "zh-tw": "zh"}
_DECLARED = {"no": "nb", "nob": "nb", "nno": "nn", "rus": "ru", "ukr": "uk", "eng": "en"}

# langdetect's cost grows with the text; a few paragraphs decide the language as well.
_SAMPLE_CHARS = 800

# Letters that only one of the two languages uses: they settle ru/uk on ordinary articles.
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    probability: float
    source: str  # detected | declared | edition


def normalize_code(code: str) -> str:
    code = code.strip().lower().replace("_", "-")
    if code in _CODES:
        return _CODES[code]
    base = code.split("-")[0]
    return _DECLARED.get(base, base)


class LanguageDetector:
    """One langdetect profile set and seed per instance: no process-wide state is touched."""

    def __init__(self, *, seed: int = 0, min_chars: int = 120, min_probability: float = 0.80) -> None:
        self._factory = DetectorFactory()
        self._factory.load_profile(PROFILES_DIRECTORY)
        self._factory.set_seed(seed)
        self.min_chars = min_chars
        self.min_probability = min_probability

    def detect(self, text: str) -> tuple[str, float] | None:
        """Best language and its probability, or None when langdetect finds no features."""
        detector = self._factory.create()
        detector.append(text[:_SAMPLE_CHARS])
        try:
            best = detector.get_probabilities()[0]
        except (LangDetectException, IndexError):
            return None
        code = normalize_code(best.lang)
        if code in ("ru", "uk", "bg", "mk"):
            code = _settle_cyrillic(text, code)
        return code, round(best.prob, 4)

    def guess(self, text: str, *, declared: str = "", edition: str = "") -> LanguageGuess:
        """Detected language when the text is long and clear enough; else declared, else edition."""
        declared_code = normalize_code(declared) if declared else ""
        detected = self.detect(text) if text.strip() else None
        if detected and len(text) >= self.min_chars and detected[1] >= self.min_probability:
            language, probability = detected
            if language == "nb" and declared_code == "nn":
                language = "nn"
            return LanguageGuess(language, probability, "detected")
        probability = detected[1] if detected else 0.0
        if declared_code:
            return LanguageGuess(declared_code, probability, "declared")
        if edition:
            return LanguageGuess(normalize_code(edition), probability, "edition")
        if detected:
            return LanguageGuess(detected[0], probability, "detected")
        return LanguageGuess("", 0.0, "unknown")


def _settle_cyrillic(text: str, guess: str) -> str:
    """Use letters unique to Ukrainian or Russian to overrule a close statistical call."""
    ukrainian = len(_UKRAINIAN_ONLY.findall(text))
    russian = len(_RUSSIAN_ONLY.findall(text))
    if ukrainian > 2 * russian and ukrainian >= 3:
        return "uk"
    if russian > 2 * ukrainian and russian >= 3:
        return "ru"
    return guess


def apply_language(article: Article, detector: LanguageDetector, edition_language: str) -> Article:
    guess = detector.guess(
        article.title + "\n\n" + article.body,
        declared=article.declared_language,
        edition=edition_language,
    )
    article.language = guess.language
    article.language_probability = guess.probability
    article.language_source = guess.source
    return article
