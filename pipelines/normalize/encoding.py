"""Decode fetched bytes to text, whatever the page declares (or fails to declare)."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes
from w3lib.encoding import html_to_unicode, http_content_type_encoding, resolve_encoding

# C0 controls other than whitespace: never text, and libxml2 stops parsing at them (the rest of
# a page after one stray ESC or NUL would be lost)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


MAX_BINARY_SHARE = 0.05


class BinaryContent(ValueError):
    """The bytes are not text in any encoding (an image or archive sent as text/html)."""


def binary_share(text: str, sample: int = 65536) -> float:
    """Share of control characters in the start of decoded text: a few in a broken page,
    about one in ten in binary data."""
    head = text[:sample]
    return len(_CONTROLS.findall(head)) / max(1, len(head))


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


def _latin1_family(charset: str) -> bool:
    return codecs.lookup(resolve_encoding(charset) or charset).name in (
        "cp1252", "latin-1", "iso8859-1", "iso8859-15")


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding) using, in order: BOM, HTTP header, valid UTF-8, <meta> charset,
    detection; without control characters (libxml2 stops parsing at one). Raises BinaryContent
    for bytes that are no text in any encoding.

    w3lib applies the browser precedence rules; charset-normalizer covers pages that declare
    nothing (e.g. windows-1251 or koi8-r served as bare text/html), where browsers would guess.
    """
    declared = http_charset(content_type)
    if _is_utf8(body) and (not declared or _latin1_family(declared)):
        # a legacy-encoded page with non-ASCII text is almost never valid UTF-8, while UTF-8
        # pages that still carry an old <meta charset> (templates, CMS migrations) or sit behind
        # a server's default latin-1 header are common
        text, encoding = body.decode("utf-8").removeprefix("\ufeff"), "utf-8"
    else:
        found, text = html_to_unicode(content_type, body, auto_detect_fun=_detect)
        encoding = codecs.lookup(resolve_encoding(found) or found).name
    if binary_share(text) > MAX_BINARY_SHARE:
        raise BinaryContent(f"{binary_share(text):.0%} control characters")
    return _CONTROLS.sub("", text), encoding


def _is_utf8(body: bytes) -> bool:
    if body.isascii():
        return False  # nothing to tell encodings apart: let the declaration decide
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
