"""Untrusted crawled text in HTML: escape first, then add our own markup; only http(s) links."""

from __future__ import annotations

from urllib.parse import urlsplit

from markupsafe import Markup, escape

from newsmon.render import one_line
from search.base import MARK_END, MARK_START


def highlight(snippet: str | None) -> Markup:
    """Escape the snippet, then turn the store's private-use marks into balanced <mark> tags.

    Marks that crawled text itself carries can at worst open or close a highlight: an
    unmatched end is dropped and an open highlight is closed at the end.
    """
    out: list[str] = []
    open_mark = False
    for char in one_line(snippet):
        if char == MARK_START:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif char == MARK_END:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        else:
            out.append(str(escape(char)))
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))


def unmarked(text: str | None) -> str:
    """Text with any stray private-use marks removed (titles, bodies)."""
    return (text or "").replace(MARK_START, "").replace(MARK_END, "")


def safe_link(url: str | None) -> str | None:
    """The URL if it is http(s) with a host, else None (the page then shows it as text)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.hostname:
        return url.strip()
    return None
