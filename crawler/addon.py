"""A Scrapy addon that applies newsmon.toml (and the environment) to Scrapy's settings.

With it, ``scrapy crawl meduza`` and ``newsmon crawl meduza`` read the same configuration.
Settings given on the command line (``-s``) or by the ``newsmon`` CLI still win.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

from crawler.config import load_config


class NewsmonAddon:
    @staticmethod
    def _apply(settings: BaseSettings) -> None:
        config = load_config(settings.get("NEWSMON_CONFIG") or None)
        for name, value in config.scrapy_settings().items():
            settings.set(name, value, priority="addon")

    @classmethod
    def update_pre_crawler_settings(cls, settings: BaseSettings) -> None:
        """Before the spider loader exists: it needs NEWSMON_OUTLET_DIRS."""
        cls._apply(settings)

    def update_settings(self, settings: BaseSettings) -> None:
        self._apply(settings)
