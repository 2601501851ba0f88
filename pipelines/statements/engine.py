"""The statements stage without Scrapy: find statements in an article and file them in the store.

A statement reported by several articles (wire copies, the story's other members, other
languages) is one statement with several reports: a new report joins a stored statement of
the same speaker when their texts agree, compared as written and in the pivot language
(the article's own translation, sentence-aligned). The earliest report is marked first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from crawler.config import DEFAULTS
from pipelines.names import fold
from pipelines.statements.actors import Actor, load_actors
from pipelines.statements.extract import Found, StatementExtractor, _sentences, paragraphs
from pipelines.statements.keys import Keyer
from pipelines.statements.mentions import DEFAULT_FUZZY_THRESHOLD, MentionIndex
from search.article import Article

SAME_STATEMENT = 80.0  # _similarity of two texts of one speaker at or above this: one statement
WINDOW_DAYS = 14  # reports of one statement are this close in time
# responses to a story: officials and the bodies they speak for first, then everyone else
RESPONSE_ORDER = {"official": 0, "body": 0, "ngo": 1, "person": 1, "media": 2}


@dataclass
class StatementOptions:
    actor_dirs: tuple[str, ...] = ()
    fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD
    pivot: str = DEFAULTS["translate"]["pivot"]
    bundled: bool = True


class StatementEngine:
    """Actors, their mention index and the extractor, built once per crawl or command."""

    def __init__(self, actors: Iterable[Actor], fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD,
                 pivot: str = DEFAULTS["translate"]["pivot"]) -> None:
        self.actors = {a.id: a for a in actors}
        self.keyer = Keyer()
        self.index = MentionIndex(self.actors.values(), self.keyer, fuzzy_threshold)
        self.extractor = StatementExtractor(self.index)
        self.pivot = pivot

    @classmethod
    def from_options(cls, options: StatementOptions) -> StatementEngine:
        actors = load_actors([Path(d) for d in options.actor_dirs], bundled=options.bundled)
        return cls(actors.values(), options.fuzzy_threshold, options.pivot)

    # -- one article ------------------------------------------------------------------------
    def analyze(self, article: Article) -> list[Found]:
        """Statements of an article, each with its translation into the pivot when one exists."""
        found, _ = self.extractor.extract(article.body, article.language)
        translation = article.translation(self.pivot)
        if translation is not None and translation.status == "done" and translation.body:
            _attach_translations(article.body, translation.body, article.language, self.pivot,
                                 found)
        elif article.language == self.pivot:
            for f in found:
                f.translation = ""
        return found

    def mentions(self, text: str, language: str) -> list[str]:
        """Actor ids mentioned in a text (for the evaluation and for ``newsmon actors``)."""
        return sorted({m.actor for m in self.index.find(text, language)})

    # -- filing in the store ------------------------------------------------------------------
    def store_article(self, store, article: Article, found: list[Found] | None = None) -> int:
        """Replace the statements an article reports; returns how many it has. ``found``: what
        ``analyze`` gave for it elsewhere (the crawl runs that part in its worker processes)."""
        if found is None:
            found = self.analyze(article)
        reports = []  # an earlier version of this article's reports matches itself: ids stay
        for f in found:
            pivot_text = f.text if article.language == self.pivot else (f.translation or f.text)
            speaker_key = f.speaker_actor or "name:" + fold(f.speaker_name)
            statement_id = self._match(store, speaker_key, f.text, pivot_text, article.published)
            if statement_id is None:
                statement_id = hashlib.sha256(
                    f"{speaker_key}\n{article.id}\n{f.start}".encode()).hexdigest()[:16]
            reports.append({
                "statement_id": statement_id, "speaker_key": speaker_key,
                "speaker_actor": f.speaker_actor, "speaker_name": f.speaker_name,
                "kind": f.kind, "text": f.text, "translation": f.translation,
                "pivot_text": pivot_text, "paragraph": f.paragraph, "start": f.start,
                "end": f.end,
            })
        store.save_statement_reports(article.id, reports)
        return len(reports)

    @staticmethod
    def _match(store, speaker_key: str, text: str, pivot_text: str,
               published: str | None) -> str | None:
        best: tuple[float, str] | None = None
        for candidate in store.statement_candidates(speaker_key, published, WINDOW_DAYS):
            score = max(_similarity(text, candidate["text"]),
                        _similarity(pivot_text, candidate["pivot_text"]))
            if score >= SAME_STATEMENT and (best is None or score > best[0]):
                best = (score, candidate["id"])
        return best[1] if best else None

    def responses(self, store, story_id: str) -> list[dict]:
        """Who responded to a story: one entry per speaker (officials and bodies first, then
        advocates and others, each group by first report), with its statements and reports."""
        by_speaker: dict[str, dict] = {}
        for s in store.story_responses(story_id):
            actor = self.actors.get(s["speaker_actor"])
            entry = by_speaker.setdefault(s["speaker_key"], {
                "speaker": s["speaker_actor"] or s["speaker_name"],
                "name": actor.name if actor else s["speaker_name"],
                "kind": actor.kind if actor else "unwatched",
                "parent": actor.parent if actor else "",
                "first_published": s["first_published"], "statements": [],
            })
            entry["statements"].append(s)
        return sorted(by_speaker.values(), key=lambda e: (RESPONSE_ORDER.get(e["kind"], 3),
                                                          e["first_published"] or ""))

    def rebuild(self, store, progress=None) -> tuple[int, int]:
        """Re-extract every stored article (after the actor files changed): (articles, reports)."""
        store.clear_statements()
        articles = reports = 0
        for article in store.iter_articles_by_date():
            reports += self.store_article(store, article)
            articles += 1
            if progress is not None:
                progress(articles)
        return articles, reports


def _similarity(a: str, b: str) -> float:
    """How alike two renderings of a statement are (0-100); a short quote inside a long one of
    the same speaker is another statement, not the same one."""
    wa, wb = len(a.split()), len(b.split())
    if not wa or not wb or min(wa, wb) / max(wa, wb) < 0.6:
        return 0.0
    a, b = a.casefold(), b.casefold()
    return max(fuzz.token_sort_ratio(a, b), fuzz.token_set_ratio(a, b) if min(wa, wb) >= 6 else 0)


def _attach_translations(body: str, translated: str, language: str, pivot: str,
                         found: list[Found]) -> None:
    """Give each statement the sentences of the translation that render it.

    The translation keeps the paragraphs of the original; within a paragraph, sentences are
    paired one to one when both sides split into the same number, else the paragraph is used.
    """
    original = paragraphs(body)
    rendered = paragraphs(translated)
    if len(original) != len(rendered):
        return
    for f in found:
        offset, text = original[f.paragraph]
        target = rendered[f.paragraph][1]
        ours, theirs = _sentences(text, language), _sentences(target, pivot)
        if len(ours) != len(theirs):
            f.translation = target.strip()
            continue
        start, end = f.start - offset, f.end - offset
        picked = [theirs[i] for i, (a, b) in enumerate(ours) if a < end and start < b]
        f.translation = " ".join(target[a:b] for a, b in picked).strip() or target.strip()
