"""Sentence translation with the CTranslate2 model of installed Argos packages, batched and cached.

argostranslate translates one text at a time; newsmon collects the sentences of many articles,
serves repeats from the persistent cache, sorts the rest by length and sends them to
``ctranslate2.Translator.translate_batch`` in batches of ``batch_size``. The packages, their
sentencepiece tokenizers and their model folders are argostranslate's own (discovered by
``argostranslate.package``); a language pair without a direct package is chained through a
pivot language, as argostranslate itself does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.translate.argos import ArgosDirs, installed_packages, package_name
from pipelines.translate.errors import ModelError
from search.errors import ConfigError
from search.translation_cache import TranslationCache

logger = logging.getLogger(__name__)

DEVICES = ("cpu", "cuda", "auto")
MAX_DECODING_LENGTH = 256  # argostranslate's (and CTranslate2's) default
LENGTH_PENALTY = 0.2  # argostranslate's


@dataclass(frozen=True)
class EngineSettings:
    """CTranslate2 options, from the [translate] section."""

    # Defaults: crawler/config.py [translate] (EngineSettings.defaults()).
    device: str
    compute_type: str
    threads: int  # 0 = CTranslate2's default
    beam_size: int
    batch_size: int  # sentences per translate_batch call
    pivot: str
    max_decoding_length: int = MAX_DECODING_LENGTH  # tokens; bounds a model that loops

    @classmethod
    def defaults(cls) -> EngineSettings:
        from crawler.config import DEFAULTS

        return cls.from_section(DEFAULTS["translate"])

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> EngineSettings:
        settings = cls(
            device=str(section["device"]),
            compute_type=str(section["compute_type"]),
            threads=int(section["threads"]),
            beam_size=int(section["beam_size"]),
            batch_size=int(section["batch_size"]),
            pivot=str(section["pivot"]),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.device not in DEVICES:
            raise ConfigError(f"translate.device must be one of {', '.join(DEVICES)}, not {self.device!r}")
        if self.batch_size < 1 or self.beam_size < 1 or self.threads < 0:
            raise ConfigError("translate.batch_size and beam_size must be >= 1, threads >= 0")


@dataclass
class EngineStats:
    """Counters since the engine was opened (per hop of a pivoted route)."""

    sentences: int = 0  # sentences asked for
    repeated: int = 0  # repeats within one request, translated once
    cached: int = 0  # served from the persistent cache
    translated: int = 0  # sent to the model
    calls: int = 0  # translate_batch calls
    call_sizes: list[int] = field(default_factory=list)

    def snapshot(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("sentences", "repeated", "cached", "translated", "calls")}


@dataclass(frozen=True)
class Route:
    """How to get from one language to another: one package, or two through a pivot."""

    source: str
    target: str
    hops: tuple[Any, ...]  # argostranslate.package.Package objects

    @property
    def model(self) -> str:
        return "+".join(package_name(p) for p in self.hops)

    @property
    def version(self) -> str:
        return "+".join(p.package_version for p in self.hops)

    @property
    def pivoted(self) -> bool:
        return len(self.hops) > 1


class TranslationEngine:
    """Installed packages, their loaded translators, and the cache; one user thread at a time."""

    def __init__(
        self,
        packages: Sequence[Any],
        settings: EngineSettings | None = None,
        cache: TranslationCache | None = None,
    ) -> None:
        self.settings = settings or EngineSettings.defaults()
        self.cache = cache
        self.stats = EngineStats()
        self._packages: dict[tuple[str, str], Any] = {}
        for pkg in packages:
            key = (pkg.from_code, pkg.to_code)
            current = self._packages.get(key)
            if current is None or _newer(pkg.package_version, current.package_version):
                self._packages[key] = pkg
        self._translators: dict[str, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, dirs: ArgosDirs, settings: EngineSettings, cache: TranslationCache | None = None
    ) -> TranslationEngine:
        """Discover the packages installed in ``dirs`` and check the device."""
        settings.check()
        if settings.device == "cuda":
            import ctranslate2

            if ctranslate2.get_cuda_device_count() == 0:
                raise ConfigError("translate.device is cuda, but CTranslate2 sees no CUDA device")
        return cls(installed_packages(dirs), settings, cache)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return sorted(self._packages)

    def route(self, source: str, target: str) -> Route | None:
        """A direct package, else a chain through the pivot (then any other) language."""
        direct = self._packages.get((source, target))
        if direct is not None:
            return Route(source, target, (direct,))
        middles = [self.settings.pivot] + sorted({t for (_, t) in self._packages})
        for middle in middles:
            first, second = self._packages.get((source, middle)), self._packages.get((middle, target))
            if first is not None and second is not None and middle not in (source, target):
                return Route(source, target, (first, second))
        return None

    def translate_terms(self, source: str, target: str, terms: list[str]) -> list[str] | None:
        """Short terms (a query's words and phrases) translated; None without a model."""
        route = self.route(source, target)
        return None if route is None else self.translate(route, terms)

    def translate(self, route: Route, sentences: Sequence[str]) -> list[str]:
        """Translate sentences along a route; the result is aligned with the input."""
        with self._lock:
            current = list(sentences)
            for pkg in route.hops:
                current = self._translate_hop(pkg, current)
            return current

    def _translate_hop(self, pkg: Any, sentences: list[str]) -> list[str]:
        name, version = package_name(pkg), pkg.package_version
        unique = list(dict.fromkeys(sentences))
        self.stats.sentences += len(sentences)
        self.stats.repeated += len(sentences) - len(unique)
        done = self.cache.lookup(name, version, unique) if self.cache is not None else {}
        self.stats.cached += len(done)
        missing = [s for s in unique if s not in done]
        if missing:
            translator = self._translator(pkg)
            tokens = [pkg.tokenizer.encode(s) for s in missing]
            order = sorted(range(len(missing)), key=lambda i: len(tokens[i]))
            size = self.settings.batch_size
            for start in range(0, len(order), size):
                chosen = order[start:start + size]
                outputs = self.translate_tokens(translator, pkg, [tokens[i] for i in chosen])
                pairs = [(missing[i], out) for i, out in zip(chosen, outputs)]
                done.update(pairs)
                if self.cache is not None:
                    self.cache.store(name, version, pairs)
        return [done[s] for s in sentences]

    def translate_tokens(self, translator: Any, pkg: Any, batch: list[list[str]]) -> list[str]:
        """One translate_batch call, decoded the way argostranslate decodes."""
        prefix = pkg.target_prefix or ""
        results = translator.translate_batch(
            batch,
            target_prefix=[[prefix]] * len(batch) if prefix else None,
            beam_size=self.settings.beam_size,
            max_batch_size=self.settings.batch_size,
            replace_unknowns=True,
            length_penalty=LENGTH_PENALTY,
            max_decoding_length=self.settings.max_decoding_length,
        )
        self.stats.calls += 1
        self.stats.call_sizes.append(len(batch))
        self.stats.translated += len(batch)
        outputs = []
        for result in results:
            value = pkg.tokenizer.decode(result.hypotheses[0])
            if prefix and value.startswith(prefix):
                value = value[len(prefix):]
            outputs.append(value.removeprefix(" "))
        return outputs

    def _translator(self, pkg: Any) -> Any:
        key = str(pkg.package_path)
        translator = self._translators.get(key)
        if translator is None:
            import ctranslate2

            try:
                translator = ctranslate2.Translator(
                    str(pkg.package_path / "model"),
                    device=self.settings.device,
                    compute_type=self.settings.compute_type,
                    inter_threads=1,
                    intra_threads=self.settings.threads,
                )
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelError(f"cannot load {package_name(pkg)} from {pkg.package_path}: {exc}") from None
            logger.info("loaded %s %s on %s", package_name(pkg), pkg.package_version, self.settings.device)
            self._translators[key] = translator
        return translator

    def close(self) -> None:
        self._translators.clear()
        if self.cache is not None:
            self.cache.close()


def _newer(candidate: str, current: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(candidate) > Version(current)
    except InvalidVersion:
        return candidate > current


def open_engine(config: Any, cache_path: str | Path | None = None) -> TranslationEngine:
    """The engine for a newsmon configuration, caching in ``cache_path`` (the store file)."""
    settings = EngineSettings.from_section(config.section("translate"))
    cache = TranslationCache(cache_path) if cache_path is not None else None
    try:
        return TranslationEngine.open(ArgosDirs.from_config(config), settings, cache)
    except BaseException:
        if cache is not None:
            cache.close()
        raise
