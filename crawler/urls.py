"""URL canonicalization: one spelling per article, without tracking parameters."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

# Query parameters that only say how a reader arrived, never which page they read.
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|yclid|mc_cid|mc_eid|_ga|_gl|igshid|ocid|"
    r"ref|ref_src|cmpid|at_medium|at_campaign|rss|from)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonicalize(url: str, base: str | None = None) -> str:
    """Absolute, lower-case scheme and host, no default port, fragment or tracking parameters.

    Raises ValueError for a URL that cannot be parsed (a broken IPv6 literal, a bad port).
    """
    if base:
        url = urljoin(base, url.strip())
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    cleaned = urlunsplit((scheme, host, path, parts.query, ""))
    params = [k for k, _ in _query_pairs(parts.query) if _TRACKING.match(k)]
    if params:
        cleaned = url_query_cleaner(cleaned, params, remove=True, unique=False, keep_fragments=False)
    return canonicalize_url(cleaned, keep_fragments=False)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for chunk in query.split("&"):
        if chunk:
            key, _, value = chunk.partition("=")
            pairs.append((key, value))
    return pairs


def same_site(url: str, other: str) -> bool:
    """True when both URLs are on the same host, ignoring a leading www."""
    def host(u: str) -> str:
        name = (urlsplit(u).hostname or "").lower()
        return name.removeprefix("www.")

    return host(url) == host(other)
