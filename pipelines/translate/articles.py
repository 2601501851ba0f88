"""Translate articles: pick a route per article, batch all their sentences, record a status.

Every article gets one ``Translation`` per target language, whatever happens: ``done``,
``missing-model`` (nothing installed for the pair; translated later by
``newsmon translate --pending``), ``failed: <reason>``, ``skipped: already in target``,
``skipped: language unknown`` or ``pending`` (translation left to a later stage).
A failure of the model or of the input becomes a status; a programming error (``BUGS``) is
not the article's fault and escapes, so it is seen and fixed instead of recorded per article.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pipelines.translate.splitter import Segmented, split_text
from search.article import Article, Translation

if TYPE_CHECKING:
    from pipelines.language.detect import LanguageDetector
    from pipelines.translate.engine import Route, TranslationEngine

logger = logging.getLogger("newsmon.translate")

DONE = "done"
MISSING_MODEL = "missing-model"
PENDING = "pending"
SKIPPED_IN_TARGET = "skipped: already in target"
SKIPPED_UNKNOWN = "skipped: language unknown"
FAILED = "failed"

# errors that mean a bug in newsmon or a library, not a bad article or model
BUGS: tuple[type[Exception], ...] = (
    AttributeError, AssertionError, ImportError, IndexError, KeyError, NameError, TypeError,
)

# langdetect and page declarations that argostranslate spells differently
_ARGOS_CODES = {"no": "nb"}


def status_kind(status: str) -> str:
    """The counter name of a status: done, missing-model, failed, skipped or pending."""
    return status.split(":", 1)[0].strip()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{FAILED}: {text[:200]}"


@dataclass
class _Job:
    article: Article
    title: Segmented
    body: Segmented


@dataclass
class TranslationRun:
    """Counts of one run (a crawl, or one ``newsmon translate`` call)."""

    statuses: Counter = field(default_factory=Counter)
    kept_paragraphs: int = 0
    missing_pairs: set[tuple[str, str]] = field(default_factory=set)


class ArticleTranslator:
    """Turns articles into Translation records; one instance per run (it warns once per pair)."""

    def __init__(
        self,
        engine: TranslationEngine | None,
        targets: Sequence[str],
        *,
        detector: LanguageDetector | None = None,
        keep_min_chars: int = 80,
        keep_min_probability: float = 0.95,
        engine_error: str = "",
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.engine = engine
        self.targets = list(targets)
        self.detector = detector
        self.keep_min_chars = keep_min_chars
        self.keep_min_probability = keep_min_probability
        self.engine_error = engine_error or ("" if engine is not None else "no translation engine")
        self.warn = warn or logger.warning
        self.run = TranslationRun()

    # -- public -------------------------------------------------------------------------------
    def translate(self, articles: Sequence[Article], targets: Sequence[str] | None = None) -> None:
        """Set one Translation per target on each article (replacing older ones for it)."""
        for target in targets or self.targets:
            results = self.translate_to(articles, target)
            for article, translation in zip(articles, results):
                article.translations = [t for t in article.translations if t.target != target]
                article.translations.append(translation)

    def mark_pending(self, articles: Sequence[Article]) -> None:
        """Record ``pending`` for every article that needs translating, without translating."""
        for target in self.targets:
            for article in articles:
                source = source_language(article)
                status = self._skip_status(source, target) or PENDING
                translation = Translation(target=target, status=status, source_language=source)
                article.translations = [t for t in article.translations if t.target != target]
                article.translations.append(translation)
                self.run.statuses[status_kind(status)] += 1

    def translate_to(self, articles: Sequence[Article], target: str) -> list[Translation]:
        """One Translation per article, in order."""
        results: list[Translation | None] = [None] * len(articles)
        groups: dict[tuple[str, str], list[int]] = {}
        routes: dict[tuple[str, str], Route] = {}
        for i, article in enumerate(articles):
            source = source_language(article)
            status = self._skip_status(source, target)
            if status is None and self.engine is None:
                status = f"{FAILED}: {self.engine_error}"
            if status is None:
                route = self.engine.route(source, target)
                if route is None:
                    status = MISSING_MODEL
                    self._warn_missing(source, target)
                else:
                    routes[(source, target)] = route
                    groups.setdefault((source, target), []).append(i)
                    continue
            results[i] = Translation(target=target, status=status, source_language=source)
        for key, members in groups.items():
            for i, translation in zip(members, self._translate_group(routes[key], [articles[i] for i in members])):
                results[i] = translation
        for translation in results:
            if translation is None:
                raise RuntimeError("a translation status is missing")
            self.run.statuses[status_kind(translation.status)] += 1
        return results  # type: ignore[return-value]

    # -- internals ----------------------------------------------------------------------------
    def _skip_status(self, source: str, target: str) -> str | None:
        if not source:
            return SKIPPED_UNKNOWN
        if source == target:
            return SKIPPED_IN_TARGET
        return None

    def _warn_missing(self, source: str, target: str) -> None:
        if (source, target) in self.run.missing_pairs:
            return
        self.run.missing_pairs.add((source, target))
        self.warn(
            f"no translation model {source}→{target} installed: such articles are stored"
            f" untranslated (status {MISSING_MODEL}); install one with `newsmon models install"
            f" {source} {target}` (or install-file) and run `newsmon translate --pending`"
        )

    def _translate_group(self, route: Route, articles: list[Article]) -> list[Translation]:
        try:
            return self._translate_jobs(route, [self._job(a, route.target) for a in articles])
        except BUGS:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded as the article's status
            if len(articles) == 1:
                logger.error("translation of %s failed: %s", articles[0].canonical_url, exc)
                return [Translation(target=route.target, status=_reason(exc),
                                    source_language=route.source, model=route.model,
                                    model_version=route.version)]
            # one bad article must not fail the others: try them one by one
            return [t for a in articles for t in self._translate_group(route, [a])]

    def _job(self, article: Article, target: str) -> _Job:
        keep = self._keeper(target)
        source = source_language(article)
        title = split_text(article.title, source, keep=None)
        body = split_text(article.body, source, keep=keep)
        self.run.kept_paragraphs += body.kept_paragraphs
        return _Job(article, title, body)

    def _keeper(self, target: str) -> Callable[[str], bool] | None:
        detector = self.detector
        if detector is None:
            return None

        def keep(paragraph: str) -> bool:
            if len(paragraph) < self.keep_min_chars:
                return False
            found = detector.detect(paragraph)
            return bool(found and found[0] == target and found[1] >= self.keep_min_probability)

        return keep

    def _translate_jobs(self, route: Route, jobs: list[_Job]) -> list[Translation]:
        if self.engine is None:
            raise RuntimeError("no translation engine is open")
        sentences = [s for job in jobs for s in (*job.title.sentences, *job.body.sentences)]
        translated = self.engine.translate(route, sentences)
        out, position = [], 0
        for job in jobs:
            n_title, n_body = len(job.title.sentences), len(job.body.sentences)
            title = job.title.join(translated[position:position + n_title], route.target)
            position += n_title
            body = job.body.join(translated[position:position + n_body], route.target)
            position += n_body
            out.append(Translation(
                target=route.target, status=DONE, title=title, body=body, model=route.model,
                model_version=route.version, translated_at=_now(), source_language=route.source,
            ))
        return out


def source_language(article: Article) -> str:
    code = (article.language or "").strip().lower()
    return _ARGOS_CODES.get(code, code)
