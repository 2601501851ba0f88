"""Definitions as data: folders of TOML files, read in order, a later folder's definition
replacing an earlier one with the same id (outlets here, watched actors in pipelines/statements).

Every error names the file (and the field): the user who wrote the file fixes it from the message.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar


class _Defined(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_Defined)


def read_toml(path: Path, error: type[Exception]) -> dict[str, Any]:
    """One file's table; ``error`` (naming the file) when it is not UTF-8 TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def load_folders(folders: Iterable[Path], load_file: Callable[[Path], Iterable[T]],
                 error: type[Exception], what: str) -> dict[str, T]:
    """Every definition by id, from each folder's ``*.toml`` files in name order; one id twice
    in one folder is an error, in a later folder it replaces the earlier definition."""
    found: dict[str, T] = {}
    for folder in folders:
        if not folder.is_dir():
            raise error(f"{what} folder not found: {folder}")
        seen_here: dict[str, Path] = {}
        for path in sorted(folder.glob("*.toml")):
            for item in load_file(path):
                if item.id in seen_here:
                    raise error(f"{path}: field 'id': '{item.id}' is also defined in"
                                f" {seen_here[item.id]}")
                seen_here[item.id] = path
                found[item.id] = item
    return found
