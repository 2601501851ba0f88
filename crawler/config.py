"""newsmon's configuration: one TOML file plus environment variables.

Every default lives in ``DEFAULTS`` below, and the documented file in ``newsmon.example.toml``
at the repository root shows the same values. Lookup order for the file: ``--config PATH``,
``$NEWSMON_CONFIG``, ``./newsmon.toml``, then ``<user config dir>/newsmon/newsmon.toml``.
Environment variables override the file (see ``ENVIRONMENT``).
"""

from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from search.errors import ConfigError

DEFAULTS: dict[str, dict[str, Any]] = {
    "store": {
        # SQLite database file: the system of record (articles, fetch log, translations, stories).
        "path": "",  # "" = <user data dir>/newsmon/newsmon.sqlite3
    },
    "index": {
        # "" = search the embedded SQLite store; "http://localhost:9200" = Elasticsearch.
        "url": "",
        "name": "newsmon",  # alias; versioned indices are <name>-v<N>
        "api_key": "",  # better: $NEWSMON_ES_API_KEY
        "username": "",
        "password": "",  # better: $NEWSMON_ES_PASSWORD
        "ca_certs": "",
        "verify_certs": True,
        "bulk_size": 200,
        "flush_interval": 5.0,  # seconds between bulk flushes during a crawl
        "timeout": 10.0,
        "max_retries": 5,  # on HTTP 429, 5xx and connection errors, with exponential backoff
        "retry_backoff": 0.5,  # seconds before the first retry; doubles each time (max 30)
    },
    "crawl": {
        "outlet_dirs": [],  # extra folders of outlet definitions, besides the bundled ones
        "user_agent": "newsmon/0.1 (news monitoring crawler; +https://github.com/newsmon/newsmon)",
        "recheck_after_hours": 0.0,  # 0 = never fetch a stored article again
        # re-check stored articles this many hours after first seeing them (edits, removals)
        "recheck_schedule_hours": [1.0, 6.0, 24.0, 168.0],
        "max_page_bytes": 5_000_000,
        "min_words": 60,  # fewer words of body text = not an article
        "autothrottle": True,
        "autothrottle_target_concurrency": 2.0,
        "retry_times": 2,
        "retry_after_max": 120.0,  # a longer Retry-After (429/503) is not waited for: the request fails
        "timeout": 30,
        "http_cache": False,
        "log_level": "WARNING",
        "cpu_workers": 0,  # processes for extraction and language detection; 0 = one per core
    },
    "language": {
        "min_chars": 120,  # shorter body: trust the page's declared language
        "min_probability": 0.80,  # less sure: trust the declared, then the edition's language
        "seed": 0,
    },
    "translate": {
        "enabled": True,
        "targets": ["en"],
        "models_dir": "",  # "" = <user data dir>/newsmon/argos-packages
        "device": "cpu",  # "cpu" or "cuda"
        "compute_type": "int8",
        "threads": 0,  # 0 = CTranslate2's default
        "beam_size": 2,
        "batch_size": 32,  # sentences per translate_batch call
        "pivot": "en",
        "during_crawl": True,  # False: store as pending, translate with `newsmon translate --pending`
        "keep_target_paragraphs": True,  # paragraphs already in the target language are copied
        "package_index": "",  # "" = argostranslate's default index (or $ARGOS_PACKAGE_INDEX)
        "flush_seconds": 0.2,  # during a crawl: wait this long to batch articles together ...
        "max_batch_articles": 64,  # ... or until this many are waiting
    },
    "dedup": {
        # Story clustering; docs/dedup.md explains each value. Changing num_perm, shingle_size
        # or near_threshold requires `newsmon dedup rebuild`.
        "enabled": True,
        "num_perm": 128,  # MinHash signature size
        "shingle_size": 4,  # words per shingle
        "near_threshold": 0.5,  # estimated Jaccard of word shingles: a near copy
        "containment_threshold": 0.8,  # or this share of the shorter text is in the longer one
        "cross_threshold": 0.25,  # Jaccard of content words of the pivot-language texts ...
        "cross_signals_min": 0.6,  # ... and agreement of their rare names/numbers/dates
        "signal_threshold": 0.6,  # agreement of rare signals, any two languages or one
        "window_days": 7,  # cross-language matches are published this close together
        "signal_window_hours": 48,  # ... and this close when there is no translation
    },
    "statements": {
        # Who said what: watched actors and their statements (docs/statements.md).
        "enabled": True,
        "actor_dirs": [],  # extra folders of actor definitions, besides the bundled ones
        "fuzzy_threshold": 80.0,  # rapidfuzz ratio for a surname spelled a new way (measured)
    },
    "web": {
        "host": "127.0.0.1",  # anything but a loopback address requires a token
        "port": 8765,
        "token": "",  # better: $NEWSMON_WEB_TOKEN; required when host is not loopback
        "page_size": 20,
        "webhook_timeout": 10.0,  # seconds per webhook POST (`newsmon watch run`)
        "webhook_retries": 3,  # further attempts in the same run; then retried on the next run
        "webhook_backoff": 1.0,  # seconds before the first retry; doubles each time
    },
    "archive": {
        # Raw responses as WARC files (docs/evidence.md): what newsmon saw, provable later.
        "enabled": True,
        "dir": "",  # "" = <user data dir>/newsmon/warc
        "max_file_bytes": 1_000_000_000,  # start a new .warc.gz file past this size
        "discovery": False,  # also archive feeds and sitemaps, not only article responses
        "queue_size": 256,  # responses waiting for the writer thread; a full queue slows the crawl
        "ingest_workers": 0,  # processes extracting pages in `newsmon ingest-warc`; 0 = one per core
    },
    "redis": {
        # Several crawl processes (or machines) share one frontier here; "" = crawl alone.
        "url": "",  # e.g. "redis://localhost:6379/0" or "unix:///run/redis/redis.sock"
        "heartbeat": 1.0,  # seconds between a crawl process's heartbeats
        "worker_timeout": 30.0,  # silent this long = dead: its in-flight requests are re-queued
    },
}

# Environment variable -> (section, key). Secrets belong here, not in the file.
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "NEWSMON_DB": ("store", "path"),
    "NEWSMON_INDEX_URL": ("index", "url"),
    "NEWSMON_INDEX_NAME": ("index", "name"),
    "NEWSMON_ES_API_KEY": ("index", "api_key"),
    "NEWSMON_ES_USERNAME": ("index", "username"),
    "NEWSMON_ES_PASSWORD": ("index", "password"),
    "NEWSMON_ES_CA_CERTS": ("index", "ca_certs"),
    "NEWSMON_OUTLETS": ("crawl", "outlet_dirs"),
    "NEWSMON_ACTORS": ("statements", "actor_dirs"),
    "NEWSMON_MODELS_DIR": ("translate", "models_dir"),
    "NEWSMON_ARCHIVE_DIR": ("archive", "dir"),
    "NEWSMON_TRANSLATE_DEVICE": ("translate", "device"),
    "NEWSMON_WEB_TOKEN": ("web", "token"),
    "NEWSMON_REDIS_URL": ("redis", "url"),
}


def data_dir() -> Path:
    """newsmon's data folder: $NEWSMON_DATA_DIR or the platform's user data dir."""
    return Path(os.environ.get("NEWSMON_DATA_DIR") or platformdirs.user_data_dir("newsmon"))


@dataclass
class Config:
    """Loaded configuration: ``values[section][key]`` plus where it came from."""

    values: dict[str, dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(DEFAULTS))
    source: Path | None = None

    def section(self, name: str) -> dict[str, Any]:
        return self.values[name]

    @property
    def store_path(self) -> Path:
        path = self.values["store"]["path"]
        return Path(path).expanduser() if path else data_dir() / "newsmon.sqlite3"

    @property
    def models_dir(self) -> Path:
        path = self.values["translate"]["models_dir"]
        return Path(path).expanduser() if path else data_dir() / "argos-packages"

    @property
    def actor_dirs(self) -> list[Path]:
        return [Path(p).expanduser() for p in self.values["statements"]["actor_dirs"]]

    @property
    def archive_dir(self) -> Path:
        path = self.values["archive"]["dir"]
        return Path(path).expanduser() if path else data_dir() / "warc"

    @property
    def outlet_dirs(self) -> list[Path]:
        return [Path(p).expanduser() for p in self.values["crawl"]["outlet_dirs"]]

    def scrapy_settings(self) -> dict[str, Any]:
        """The Scrapy settings this configuration implies (read by the newsmon addon)."""
        crawl, index = self.values["crawl"], self.values["index"]
        settings: dict[str, Any] = {
            "NEWSMON_STORE_PATH": str(self.store_path),
            "NEWSMON_OUTLET_DIRS": [str(p) for p in self.outlet_dirs],
            "NEWSMON_RECHECK_AFTER_HOURS": float(crawl["recheck_after_hours"]),
            "NEWSMON_RECHECK_SCHEDULE_HOURS": [float(h) for h in crawl["recheck_schedule_hours"]],
            "NEWSMON_MAX_PAGE_BYTES": int(crawl["max_page_bytes"]),
            "NEWSMON_MIN_WORDS": int(crawl["min_words"]),
            "NEWSMON_LANGUAGE_MIN_CHARS": int(self.values["language"]["min_chars"]),
            "NEWSMON_LANGUAGE_MIN_PROBABILITY": float(self.values["language"]["min_probability"]),
            "NEWSMON_LANGUAGE_SEED": int(self.values["language"]["seed"]),
            "NEWSMON_INDEX_URL": index["url"],
            "NEWSMON_INDEX_NAME": index["name"],
            "NEWSMON_INDEX_BULK_SIZE": int(index["bulk_size"]),
            "NEWSMON_INDEX_FLUSH_INTERVAL": float(index["flush_interval"]),
            "USER_AGENT": crawl["user_agent"],
            "AUTOTHROTTLE_ENABLED": bool(crawl["autothrottle"]),
            "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl["autothrottle_target_concurrency"]),
            "RETRY_TIMES": int(crawl["retry_times"]),
            "NEWSMON_RETRY_AFTER_MAX": float(crawl["retry_after_max"]),
            "DOWNLOAD_TIMEOUT": int(crawl["timeout"]),
            "DOWNLOAD_MAXSIZE": int(crawl["max_page_bytes"]),
            "HTTPCACHE_ENABLED": bool(crawl["http_cache"]),
            "LOG_LEVEL": crawl["log_level"],
            "NEWSMON_CPU_WORKERS": int(crawl["cpu_workers"]),
            "NEWSMON_PROGRESS_INTERVAL": 0.0,  # seconds between progress lines; `newsmon crawl` sets it
        }
        archive = self.values["archive"]
        settings.update({
            "NEWSMON_ARCHIVE_ENABLED": bool(archive["enabled"]),
            "NEWSMON_ARCHIVE_DIR": str(self.archive_dir),
            "NEWSMON_ARCHIVE_MAX_FILE_BYTES": int(archive["max_file_bytes"]),
            "NEWSMON_ARCHIVE_DISCOVERY": bool(archive["discovery"]),
            "NEWSMON_ARCHIVE_QUEUE_SIZE": int(archive["queue_size"]),
            "NEWSMON_INGEST_WORKERS": int(archive["ingest_workers"]),
        })
        translate = self.values["translate"]
        settings.update({
            "NEWSMON_TRANSLATE_ENABLED": bool(translate["enabled"]),
            "NEWSMON_TRANSLATE_TARGETS": list(translate["targets"]),
            "NEWSMON_TRANSLATE_MODELS_DIR": str(self.models_dir),
            "NEWSMON_TRANSLATE_ARGOS_HOME": str(data_dir() / "argos-home"),
            "NEWSMON_TRANSLATE_PACKAGE_INDEX": translate["package_index"],
            "NEWSMON_TRANSLATE_DEVICE": translate["device"],
            "NEWSMON_TRANSLATE_COMPUTE_TYPE": translate["compute_type"],
            "NEWSMON_TRANSLATE_THREADS": int(translate["threads"]),
            "NEWSMON_TRANSLATE_BEAM_SIZE": int(translate["beam_size"]),
            "NEWSMON_TRANSLATE_BATCH_SIZE": int(translate["batch_size"]),
            "NEWSMON_TRANSLATE_PIVOT": translate["pivot"],
            "NEWSMON_TRANSLATE_DURING_CRAWL": bool(translate["during_crawl"]),
            "NEWSMON_TRANSLATE_KEEP_TARGET_PARAGRAPHS": bool(translate["keep_target_paragraphs"]),
            "NEWSMON_TRANSLATE_FLUSH_SECONDS": float(translate["flush_seconds"]),
            "NEWSMON_TRANSLATE_MAX_BATCH_ARTICLES": int(translate["max_batch_articles"]),
        })
        redis = self.values["redis"]
        settings.update({
            "NEWSMON_REDIS_URL": redis["url"],
            "NEWSMON_REDIS_HEARTBEAT": float(redis["heartbeat"]),
            "NEWSMON_REDIS_WORKER_TIMEOUT": float(redis["worker_timeout"]),
        })
        if redis["url"]:
            from crawler.frontier import scrapy_settings as frontier_settings

            settings.update(frontier_settings(redis["url"]))
        dedup = self.values["dedup"]
        settings.update({
            "NEWSMON_DEDUP_ENABLED": bool(dedup["enabled"]),
            "NEWSMON_DEDUP_PIVOT": translate["pivot"],
            **{f"NEWSMON_DEDUP_{key.upper()}": dedup[key] for key in dedup if key != "enabled"},
        })
        statements = self.values["statements"]
        settings.update({
            "NEWSMON_STATEMENTS_ENABLED": bool(statements["enabled"]),
            "NEWSMON_STATEMENTS_ACTOR_DIRS": [str(p) for p in self.actor_dirs],
            "NEWSMON_STATEMENTS_FUZZY_THRESHOLD": float(statements["fuzzy_threshold"]),
            "NEWSMON_STATEMENTS_PIVOT": translate["pivot"],
        })
        return settings


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file in force, or None when there is none (defaults only)."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        return path
    env = os.environ.get("NEWSMON_CONFIG")
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ConfigError(f"NEWSMON_CONFIG points to a missing file: {path}")
        return path
    for candidate in (
        Path.cwd() / "newsmon.toml",
        Path(platformdirs.user_config_dir("newsmon")) / "newsmon.toml",
    ):
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Defaults, overlaid with the config file, overlaid with the environment."""
    config = Config()
    path = find_config_file(explicit)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        _merge(config.values, data, path)
        config.source = path
    for name, (section, key) in ENVIRONMENT.items():
        raw = os.environ.get(name)
        if raw is None or raw == "":
            continue
        default = DEFAULTS[section][key]
        config.values[section][key] = raw.split(os.pathsep) if isinstance(default, list) else raw
    return config


def _merge(values: dict[str, dict[str, Any]], data: dict[str, Any], path: Path) -> None:
    for section, table in data.items():
        if section not in DEFAULTS:
            raise ConfigError(f"{path}: unknown section [{section}]")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        for key, value in table.items():
            if key not in DEFAULTS[section]:
                raise ConfigError(f"{path}: unknown setting {section}.{key}")
            default = DEFAULTS[section][key]
            if not _same_kind(default, value):
                kind = type(default).__name__
                raise ConfigError(f"{path}: {section}.{key} must be a {kind}, got {value!r}")
            values[section][key] = value


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, type(default))
