"""Split article text into sentences for translation, and put the translations back in place.

NMT models translate sentences, and batching across articles needs the sentences of every
article in one list. Paragraph breaks are kept exactly; sentences come from sentencex
(Wikimedia's rule-based segmenter for ~300 languages: no model download, works offline).
Text without letters (numbers, dates, punctuation) and paragraphs already in the target
language are kept as they are instead of being sent to the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sentencex import segment

_NEWLINES = re.compile(r"(\n+)")
_NO_SPACE_TARGETS = frozenset({"zh", "zt", "ja", "th", "lo", "my", "km"})
MAX_SENTENCE_CHARS = 400  # longer "sentences" (lists, tables) are cut at spaces


@dataclass
class Segmented:
    """A text as literal pieces and numbered sentences; ``sentences[i]`` goes to the model."""

    paragraphs: list[str | list[str | int]] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    kept_paragraphs: int = 0  # paragraphs left as they are (already in the target language)

    def join(self, translations: Sequence[str], target: str = "en") -> str:
        """The text with each sentence replaced by its translation, structure unchanged."""
        if len(translations) != len(self.sentences):
            raise ValueError("one translation per sentence is needed")
        joiner = "" if target in _NO_SPACE_TARGETS else " "
        out = []
        for paragraph in self.paragraphs:
            if isinstance(paragraph, str):
                out.append(paragraph)
            else:
                out.append(joiner.join(
                    p if isinstance(p, str) else translations[p].strip() for p in paragraph
                ))
        return "".join(out)


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _cut(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    pieces, current = [], ""
    for word in sentence.split():
        if current and len(current) + 1 + len(word) > limit:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    return pieces


def split_text(
    text: str,
    language: str,
    *,
    keep: Callable[[str], bool] | None = None,
    max_chars: int = MAX_SENTENCE_CHARS,
) -> Segmented:
    """Split ``text`` (in ``language``); ``keep(paragraph)`` True leaves a paragraph untranslated."""
    result = Segmented()
    for chunk in _NEWLINES.split(text):
        core = chunk.strip()
        if not core or not _has_letters(core):
            result.paragraphs.append(chunk)
            continue
        if keep is not None and keep(core):
            result.paragraphs.append(chunk)
            result.kept_paragraphs += 1
            continue
        start = chunk.index(core[0])
        lead, trail = chunk[:start], chunk[start + len(core):]
        pieces: list[str | int] = []
        for sentence in segment(language or "en", core):
            sentence = sentence.strip()
            if not sentence:
                continue
            if not _has_letters(sentence):
                pieces.append(sentence)
                continue
            for piece in _cut(sentence, max_chars):
                pieces.append(len(result.sentences))
                result.sentences.append(piece)
        if lead:
            result.paragraphs.append(lead)
        result.paragraphs.append(pieces)
        if trail:
            result.paragraphs.append(trail)
    return result
