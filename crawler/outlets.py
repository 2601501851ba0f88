"""Outlet definitions: one TOML file per outlet, validated when loaded.

The bundled definitions live in ``crawler/outlets/``; users add their own folders with
``crawl.outlet_dirs`` in newsmon.toml or ``$NEWSMON_OUTLETS``. A definition in a user folder
replaces a bundled one with the same id. A wrong definition fails with the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.tomlfolder import load_folders, read_toml
from search.errors import OutletError

BUNDLED_DIR = Path(__file__).parent / "outlets"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
HINT_FIELDS = ("title", "body", "published", "updated", "author")


@dataclass(frozen=True)
class Edition:
    id: str
    language: str  # ISO 639-1 (Norwegian Bokmål: "nb")
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    url_prefix: str = ""  # article URLs under this prefix belong to this edition


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    home: str
    allowed_domains: tuple[str, ...]
    article_pattern: re.Pattern[str]
    editions: tuple[Edition, ...]
    download_delay: float = 1.0
    concurrency: int = 2
    hints: dict[str, str] = field(default_factory=dict)  # CSS selectors, see HINT_FIELDS
    source: Path | None = None

    def is_article_url(self, url: str) -> bool:
        return bool(self.article_pattern.search(url))

    def edition_for(self, url: str, default: Edition | None = None) -> Edition:
        """The edition an article URL belongs to: the longest matching prefix, else the default."""
        prefixed = [e for e in self.editions if e.url_prefix and url.startswith(e.url_prefix)]
        if prefixed:
            return max(prefixed, key=lambda e: len(e.url_prefix))
        if default is not None:
            return default
        unprefixed = [e for e in self.editions if not e.url_prefix]
        return (unprefixed or list(self.editions))[0]


class _Reader:
    """Typed access to one definition's fields; every error names the file and the field."""

    def __init__(self, data: dict[str, Any], path: Path, prefix: str = "") -> None:
        self.data, self.path, self.prefix = data, path, prefix

    def fail(self, key: str, message: str) -> OutletError:
        return OutletError(f"{self.path}: field '{self.prefix}{key}': {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "is required")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(key, f"must be a {names}, got {value!r}")
        return value

    def url(self, key: str, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.fail(key, f"not an http(s) URL: {value!r}")
        return value

    def urls(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list, [])
        for value in values:
            if not isinstance(value, str):
                raise self.fail(key, f"must be a list of URLs, got {value!r}")
            self.url(key, value)
        return tuple(values)


def parse_outlet(data: dict[str, Any], path: Path) -> Outlet:
    """Validate one definition (already parsed from TOML)."""
    r = _Reader(data, path)
    known = {"id", "name", "home", "allowed_domains", "article_pattern", "editions",
             "politeness", "hints"}
    for key in data:
        if key not in known:
            raise r.fail(key, f"unknown field (expected one of: {', '.join(sorted(known))})")
    outlet_id = r.get("id", str)
    if not _ID.match(outlet_id):
        raise r.fail("id", "use lowercase letters, digits and _, starting with a letter")
    pattern_text = r.get("article_pattern", str)
    try:
        pattern = re.compile(pattern_text)
    except re.error as exc:
        raise r.fail("article_pattern", f"not a valid regular expression: {exc}") from None
    domains = r.get("allowed_domains", list)
    if not domains or not all(isinstance(d, str) and d for d in domains):
        raise r.fail("allowed_domains", "must be a non-empty list of host names")
    editions_data = r.get("editions", list)
    if not editions_data:
        raise r.fail("editions", "needs at least one [[editions]] table")
    editions = tuple(_edition(e, path, i) for i, e in enumerate(editions_data))
    if len({e.id for e in editions}) != len(editions):
        raise r.fail("editions", "edition ids must be unique")
    if not any(e.feeds or e.sitemaps for e in editions):
        raise r.fail("editions", "at least one edition needs feeds or sitemaps to discover articles")
    politeness = _Reader(r.get("politeness", dict, {}), path, "politeness.")
    delay = politeness.get("download_delay", (int, float), 1.0)
    concurrency = politeness.get("concurrency", int, 2)
    if delay < 0 or concurrency < 1:
        raise politeness.fail("download_delay", "delay must be >= 0 and concurrency >= 1")
    hints_reader = _Reader(r.get("hints", dict, {}), path, "hints.")
    hints = {}
    for key in hints_reader.data:
        if key not in HINT_FIELDS:
            raise hints_reader.fail(key, f"unknown hint (expected one of: {', '.join(HINT_FIELDS)})")
        hints[key] = hints_reader.get(key, str)
    return Outlet(
        id=outlet_id,
        name=r.get("name", str),
        home=r.url("home", r.get("home", str)),
        allowed_domains=tuple(domains),
        article_pattern=pattern,
        editions=editions,
        download_delay=float(delay),
        concurrency=concurrency,
        hints=hints,
        source=path,
    )


def _edition(data: Any, path: Path, index: int) -> Edition:
    r = _Reader(data if isinstance(data, dict) else {}, path, f"editions[{index}].")
    if not isinstance(data, dict):
        raise r.fail("", "each edition must be a table")
    language = r.get("language", str)
    if not _LANGUAGE.match(language):
        raise r.fail("language", f"use an ISO 639-1 code such as 'ru' or 'nb', got {language!r}")
    prefix = r.get("url_prefix", str, "")
    if prefix:
        r.url("url_prefix", prefix)
    return Edition(
        id=r.get("id", str),
        language=language,
        feeds=r.urls("feeds"),
        sitemaps=r.urls("sitemaps"),
        url_prefix=prefix,
    )


def load_outlet_file(path: Path) -> Outlet:
    return parse_outlet(read_toml(path, OutletError), path)


def load_outlets(extra_dirs: Iterable[str | Path] = (), *, bundled: bool = True) -> dict[str, Outlet]:
    """All outlets by id: the bundled ones, then each extra folder (later ones win)."""
    folders = ([BUNDLED_DIR] if bundled else []) + [Path(d) for d in extra_dirs]
    return load_folders(folders, lambda path: [load_outlet_file(path)], OutletError, "outlet")
