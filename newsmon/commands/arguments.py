"""Argument types shared by the CLI commands."""

from __future__ import annotations

import argparse
from datetime import date


def positive_int(value: str) -> int:
    """A whole number >= 1, or a one-line usage error."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return number


def iso_date(value: str) -> str:
    """A YYYY-MM-DD date, or a one-line usage error."""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    """The filters a search takes (``newsmon search``, ``newsmon watch add``)."""
    p.add_argument("--outlet", action="append", default=[], help="only this outlet (repeatable)")
    p.add_argument("--language", "--lang", action="append", default=[],
                   help="only this ISO 639-1 language (repeatable)")
    p.add_argument("--from", dest="date_from", type=iso_date, help="published on or after YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=iso_date, help="published on or before YYYY-MM-DD")
    p.add_argument("--cross-lingual", action="store_true",
                   help="also search the query translated into each indexed language")
