"""Watched actors as data: TOML files, validated when loaded, errors naming file and field.

An actor file holds one actor (top-level keys) or several (``[[actors]]`` tables). The bundled
example set lives in ``pipelines/statements/actors/``; users add folders with
``statements.actor_dirs`` in newsmon.toml or ``$NEWSMON_ACTORS``. An actor in a later folder
replaces an earlier one with the same id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.tomlfolder import load_folders, read_toml
from search.errors import ActorError

BUNDLED_DIR = Path(__file__).parent / "actors"
KINDS = ("official", "body", "ngo", "person", "media")
# speakers (people) are preferred over the bodies they speak for when both are named
PERSON_KINDS = frozenset({"official", "person"})
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{4})?$")
RESERVED_IDS = frozenset({"rebuild"})  # `newsmon statements rebuild` is a command


@dataclass(frozen=True)
class Actor:
    id: str
    kind: str
    name: str  # display name
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> names, aliases
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> role phrases
    parent: str = ""
    source: Path | None = None

    @property
    def is_person(self) -> bool:
        return self.kind in PERSON_KINDS

    def all_names(self) -> list[tuple[str, str]]:
        return [(lang, n) for lang, names in self.names.items() for n in names]

    def all_roles(self) -> list[tuple[str, str]]:
        return [(lang, r) for lang, roles in self.roles.items() for r in roles]


class _Reader:
    """Typed access to one actor's fields; every error names the file and the field."""

    def __init__(self, data: dict[str, Any], path: Path, prefix: str) -> None:
        self.data, self.path, self.prefix = data, path, prefix

    def fail(self, key: str, message: str) -> ActorError:
        return ActorError(f"{self.path}: field '{self.prefix}{key}': {message}")

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "is required")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(key, f"must be a {kind.__name__}, got {value!r}")
        return value

    def phrases(self, key: str) -> dict[str, tuple[str, ...]]:
        table = self.get(key, dict, {})
        result: dict[str, tuple[str, ...]] = {}
        for language, values in table.items():
            if not _LANGUAGE.match(language):
                raise self.fail(f"{key}.{language}", "use an ISO 639-1 code such as 'ru' or 'nb'")
            if isinstance(values, str):
                values = [values]
            if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
                raise self.fail(f"{key}.{language}", f"must be a list of non-empty strings, got {values!r}")
            result[language] = tuple(v.strip() for v in values)
        return result


def parse_actor(data: dict[str, Any], path: Path, prefix: str = "") -> Actor:
    r = _Reader(data, path, prefix)
    known = {"id", "kind", "name", "names", "roles", "parent"}
    for key in data:
        if key not in known:
            raise r.fail(key, f"unknown field (expected one of: {', '.join(sorted(known))})")
    actor_id = r.get("id", str)
    if not _ID.match(actor_id):
        raise r.fail("id", "use lowercase letters, digits and _, starting with a letter")
    if actor_id in RESERVED_IDS:
        raise r.fail("id", f"'{actor_id}' is reserved by the CLI")
    kind = r.get("kind", str)
    if kind not in KINDS:
        raise r.fail("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    names = r.phrases("names")
    if not names:
        raise r.fail("names", "needs at least one name, e.g. en = [\"Dmitry Peskov\", \"Peskov\"]")
    display = r.get("name", str, "") or next(iter(names.values()))[0]
    parent = r.get("parent", str, "")
    if parent and not _ID.match(parent):
        raise r.fail("parent", "must be an actor id")
    return Actor(actor_id, kind, display, names, r.phrases("roles"), parent, path)


def load_actor_file(path: Path) -> list[Actor]:
    data = read_toml(path, ActorError)
    if "actors" in data:
        if set(data) != {"actors"} or not isinstance(data["actors"], list):
            raise ActorError(f"{path}: field 'actors': use either [[actors]] tables or one actor"
                             " at the top level, not both")
        return [parse_actor(entry if isinstance(entry, dict) else {}, path, f"actors[{i}].")
                for i, entry in enumerate(data["actors"])]
    return [parse_actor(data, path)]


def load_actors(extra_dirs: Iterable[str | Path] = (), *, bundled: bool = True) -> dict[str, Actor]:
    """All actors by id: the bundled ones, then each extra folder (later ones win)."""
    folders = ([BUNDLED_DIR] if bundled else []) + [Path(d) for d in extra_dirs]
    actors = load_folders(folders, load_actor_file, ActorError, "actor")
    for actor in actors.values():
        if actor.parent and actor.parent not in actors:
            raise ActorError(f"{actor.source}: field 'parent': no actor with id '{actor.parent}'")
    return actors
