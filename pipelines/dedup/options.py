"""The tunable parameters of story matching, read from the [dedup] config or Scrapy settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.config import Config
from search.errors import ConfigError

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


@dataclass(frozen=True)
class DedupOptions:
    """What counts as the same story; docs/dedup.md explains each value and how it was chosen."""

    # Defaults: crawler/config.py [dedup] (DedupOptions.defaults()).
    num_perm: int  # MinHash permutations (signature size)
    shingle_size: int  # words per shingle for same-language matching
    near_threshold: float  # estimated Jaccard of shingles: a near copy
    containment_threshold: float  # share of the shorter text found in the longer one
    cross_threshold: float  # Jaccard of content-word stems of the pivot-language texts
    cross_signals_min: float  # ... and weighted agreement of their rare signals
    signal_threshold: float  # weighted agreement of rare signals, when there is no translation
    window_days: int  # cross-language candidates are published this close to each other
    signal_window_hours: int  # ... and this close when only signals can be compared
    pivot: str  # translate.pivot: the language translations are compared in
    actor_dirs: tuple[str, ...] = ()  # statements.actor_dirs: organisations' aliases (a: signals)

    def __post_init__(self) -> None:
        for name in ("near_threshold", "containment_threshold", "cross_threshold",
                     "cross_signals_min", "signal_threshold"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ConfigError(f"dedup.{name} must be in (0, 1], got {value!r}")
        if not 16 <= self.num_perm <= 1024:
            raise ConfigError(f"dedup.num_perm must be between 16 and 1024, got {self.num_perm}")
        if not 1 <= self.shingle_size <= 12:
            raise ConfigError(f"dedup.shingle_size must be between 1 and 12, got {self.shingle_size}")
        if self.window_days < 0 or self.signal_window_hours < 0:
            raise ConfigError("dedup.window_days and dedup.signal_window_hours must be >= 0")
        if not self.pivot:
            raise ConfigError("translate.pivot must name a language")

    @classmethod
    def defaults(cls) -> DedupOptions:
        return cls.from_config(Config())

    @classmethod
    def from_config(cls, config: Config) -> DedupOptions:
        section = config.section("dedup")
        values: dict[str, Any] = {k: section[k] for k in cls.field_names() if k in section}
        values["pivot"] = config.section("translate")["pivot"]
        values["actor_dirs"] = tuple(str(p) for p in config.actor_dirs)
        return cls(**values)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> DedupOptions:
        """From the NEWSMON_DEDUP_* Scrapy settings (derived from the [dedup] section)."""
        getters = {"int": settings.getint, "float": settings.getfloat, "str": settings.get}
        return cls(**{
            name: getters[str(f.type)](f"NEWSMON_DEDUP_{name.upper()}")
            for name, f in cls.__dataclass_fields__.items() if name != "actor_dirs"
        }, actor_dirs=tuple(settings.getlist("NEWSMON_STATEMENTS_ACTOR_DIRS")))

    @classmethod
    def field_names(cls) -> list[str]:
        return [name for name in cls.__dataclass_fields__ if name != "actor_dirs"]

    def signature_params(self) -> dict[str, Any]:
        """The values stored signatures depend on: changing one requires `newsmon dedup rebuild`."""
        return {"index_version": 4, "num_perm": self.num_perm, "shingle_size": self.shingle_size,
                "near_threshold": self.near_threshold, "pivot": self.pivot}
