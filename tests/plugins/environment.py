"""Keep every test away from the user's real folders and config."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from crawler.config import load_config


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("home")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.setenv("NEWSMON_DATA_DIR", str(home / "newsmon-data"))
    for name in ("NEWSMON_CONFIG", "NEWSMON_DB", "NEWSMON_INDEX_URL", "NEWSMON_OUTLETS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(home)
    yield home


def newsmon_crawler(**settings: Any) -> Crawler:
    """A Scrapy crawler with newsmon's settings (from the configuration's defaults) and overrides."""
    return get_crawler(settings_dict={**load_config().scrapy_settings(), **settings})


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback URL that refuses connections: a port bound (so nobody else takes it) and never
    listened on, held for the whole test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
