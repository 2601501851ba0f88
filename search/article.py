"""The article record shared by the pipelines, the store and the search backends."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field, fields
from typing import Any


def article_id(canonical_url: str) -> str:
    """Stable id of an article: a hash of its canonical URL, so writing twice is idempotent."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:20]


_WORDS = re.compile(r"\w+", re.UNICODE)


def text_fingerprint(text: str) -> str:
    """SHA-256 of the text's words, case-folded: the same text under two URLs has one print."""
    words = _WORDS.findall(unicodedata.normalize("NFC", text).casefold())
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


@dataclass
class Translation:
    """A translation of an article's title and body into one target language."""

    target: str
    status: str  # done | missing-model | failed: <reason> | skipped: already in target | pending
    title: str = ""
    body: str = ""
    model: str = ""  # e.g. "translate-ru_en"
    model_version: str = ""
    translated_at: str = ""
    source_language: str = ""


@dataclass
class Article:
    """One article, normalized: what the store keeps and the indexes search."""

    canonical_url: str
    outlet: str
    title: str
    body: str
    edition: str = ""
    urls: list[str] = field(default_factory=list)  # every URL it was seen under
    authors: list[str] = field(default_factory=list)
    published: str | None = None  # UTC ISO-8601, e.g. 2026-11-19T08:30:00Z
    updated: str | None = None
    section: str = ""
    tags: list[str] = field(default_factory=list)
    language: str = ""  # ISO 639-1; Norwegian Bokmål is "nb"
    language_probability: float = 0.0
    language_source: str = ""  # detected | declared | edition
    declared_language: str = ""
    fetched_at: str = ""
    http_status: int = 200
    raw_sha256: str = ""
    text_sha256: str = ""
    story_id: str = ""
    warc_record_id: str = ""  # the archived response this text was extracted from, if any
    translations: list[Translation] = field(default_factory=list)
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            self.id = article_id(self.canonical_url)
        if not self.text_sha256:
            self.text_sha256 = text_fingerprint(self.title + "\n" + self.body)
        if self.canonical_url not in self.urls:
            self.urls.insert(0, self.canonical_url)
        self.translations = [
            t if isinstance(t, Translation) else Translation(**t) for t in self.translations
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def translation(self, target: str) -> Translation | None:
        return next((t for t in self.translations if t.target == target), None)
