"""Decode fetched bytes to text, whatever the page declares (or fails to declare)."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes
from w3lib.encoding import html_to_unicode, http_content_type_encoding, resolve_encoding


def _detect(body: bytes) -> str | None:
    """Guess a legacy encoding when neither the header nor the page declares one."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(body[:200_000], cp_isolation=None).best()
    return best.encoding if best else None


def http_charset(content_type: str | None) -> str | None:
    return http_content_type_encoding(content_type) if content_type else None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding) using, in order: BOM, HTTP header, valid UTF-8, <meta> charset,
    detection.

    w3lib applies the browser precedence rules; charset-normalizer covers pages that declare
    nothing (e.g. windows-1251 or koi8-r served as bare text/html), where browsers would guess.
    """
    if not http_charset(content_type) and _is_utf8(body):
        # a legacy-encoded page with non-ASCII text is almost never valid UTF-8, while UTF-8
        # pages that still carry an old <meta charset> (templates, CMS migrations) are common
        return body.decode("utf-8").removeprefix("\ufeff"), "utf-8"
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_detect)
    return text, codecs.lookup(resolve_encoding(encoding) or encoding).name


def _is_utf8(body: bytes) -> bool:
    if body.isascii():
        return False  # nothing to tell encodings apart: let the declaration decide
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
