"""What components need from Scrapy settings before they can exist.

A component whose switch is off, or that has no store to work on, raises ``NotConfigured`` in
``from_crawler``: Scrapy then leaves it out of the crawl and logs why.
"""

from __future__ import annotations

from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings


def store_path(settings: BaseSettings, switch: str | None = None) -> str:
    """``NEWSMON_STORE_PATH``, once ``switch`` (a boolean setting) says the component is on."""
    if switch is not None and not settings.getbool(switch):
        raise NotConfigured(f"{switch} is off")
    path = settings.get("NEWSMON_STORE_PATH")
    if not path:
        raise NotConfigured("NEWSMON_STORE_PATH is not set")
    return str(path)
