"""Argument types shared by the CLI commands."""

from __future__ import annotations

import argparse


def positive_int(value: str) -> int:
    """A whole number >= 1, or a one-line usage error."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return number
