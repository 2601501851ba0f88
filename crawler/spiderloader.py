"""A spider loader that builds one spider per outlet definition, so outlets stay data."""

from __future__ import annotations

from scrapy import Request
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

from crawler.config import load_config
from crawler.outlets import Outlet, load_outlets
from crawler.spiders.outlet import OutletSpider


def spider_class(outlet: Outlet, shared_frontier: bool = False) -> type[OutletSpider]:
    """A subclass of OutletSpider named after the outlet, with its politeness settings.

    On a shared frontier the delay between requests to the outlet is kept across processes by
    ``crawler.frontier.SharedPoliteness`` (NEWSMON_SHARED_DELAY), not by each process's slot.
    """
    delay = {"DOWNLOAD_DELAY": 0.0, "NEWSMON_SHARED_DELAY": outlet.download_delay} if shared_frontier \
        else {"DOWNLOAD_DELAY": outlet.download_delay}
    return type(
        f"{outlet.id.title().replace('_', '')}Spider",
        (OutletSpider,),
        {
            "name": outlet.id,
            "outlet": outlet,
            "allowed_domains": list(outlet.allowed_domains),
            "custom_settings": {
                **delay,
                "AUTOTHROTTLE_START_DELAY": max(outlet.download_delay, 0.05),
                "CONCURRENT_REQUESTS_PER_DOMAIN": outlet.concurrency,
            },
        },
    )


class OutletSpiderLoader:
    """Reads the bundled outlets plus ``NEWSMON_OUTLET_DIRS``; ``scrapy list`` shows them all.

    Implements ``scrapy.spiderloader.SpiderLoaderProtocol``.
    """

    def __init__(self, outlet_dirs: list[str], shared_frontier: bool = False) -> None:
        self._spiders = {oid: spider_class(o, shared_frontier)
                         for oid, o in load_outlets(outlet_dirs).items()}

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> OutletSpiderLoader:
        if (settings.getpriority("NEWSMON_OUTLET_DIRS") or 0) <= SETTINGS_PRIORITIES["project"]:
            # `scrapy list` builds the loader without applying addons, so the value is still the
            # project module's default: read the config here
            config = load_config(settings.get("NEWSMON_CONFIG") or None)
            return cls([str(p) for p in config.outlet_dirs])
        return cls(settings.getlist("NEWSMON_OUTLET_DIRS"), bool(settings.get("NEWSMON_REDIS_URL")))

    def load(self, spider_name: str) -> type[OutletSpider]:
        try:
            return self._spiders[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None

    def list(self) -> list[str]:
        return sorted(self._spiders)

    def find_by_request(self, request: Request) -> list[str]:
        return [name for name, cls in self._spiders.items() if cls.handles_request(request)]
