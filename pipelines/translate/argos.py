"""argostranslate, pointed at newsmon's own folders, and model management on top of it.

argostranslate reads its folders from the environment when ``argostranslate.settings`` is
first imported and creates them under the user's home. ``bind`` imports it with
ARGOS_PACKAGES_DIR and the XDG folders pointed into newsmon's data directory, then re-points
the settings module (and clears argostranslate's installed-package caches) whenever another
models folder is used in the same process. Install, discovery, loading and removal of packages
are argostranslate's own (``argostranslate.package``).

This is newsmon's only process-wide state, forced by argostranslate: its settings are module
globals. It stays in this module, and every function here that binds the settings holds one
lock for the whole call, so two engines or commands with different folders cannot interleave.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

from pipelines.translate.errors import ModelError, NoNetwork
from search.errors import NotFound

INDEX_TIMEOUT = 30.0

_P = ParamSpec("_P")
_R = TypeVar("_R")
_ARGOS_LOCK = threading.RLock()  # argostranslate's settings are process-wide: one user at a time


def _exclusive(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Hold the argostranslate lock for the whole call (bind, then use the bound settings)."""

    def locked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _ARGOS_LOCK:
            return function(*args, **kwargs)

    locked.__name__, locked.__doc__ = function.__name__, function.__doc__
    return locked


@dataclass(frozen=True)
class ArgosDirs:
    """Where argostranslate may write: packages, and its own data/config/cache folders."""

    packages: Path
    home: Path  # argostranslate's data, config and cache folders live below this
    package_index: str = ""  # "" = argostranslate's default (or $ARGOS_PACKAGE_INDEX)

    @classmethod
    def from_config(cls, config: Any) -> ArgosDirs:
        from crawler.config import data_dir

        section = config.section("translate")
        return cls(config.models_dir, data_dir() / "argos-home", section["package_index"])


@dataclass(frozen=True)
class ModelInfo:
    """One translation package, installed or offered by the package index."""

    from_code: str
    to_code: str
    name: str  # argospm name, e.g. translate-ru_en
    version: str
    path: str = ""  # installed folder; "" for an available package

    @property
    def pair(self) -> str:
        return f"{self.from_code}→{self.to_code}"


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@_exclusive
def bind(dirs: ArgosDirs) -> ModuleType:
    """Import ``argostranslate.package`` configured for ``dirs`` and return it."""
    dirs.packages.mkdir(parents=True, exist_ok=True)
    data, config, cache = dirs.home / "data", dirs.home / "config", dirs.home / "cache"
    if "argostranslate.settings" not in sys.modules:
        with _environment({
            "ARGOS_PACKAGES_DIR": str(dirs.packages),
            "XDG_DATA_HOME": str(data),
            "XDG_CONFIG_HOME": str(config),
            "XDG_CACHE_HOME": str(cache),
        }):
            import argostranslate.package  # noqa: F401  (reads the settings above at import)
    from argostranslate import package, settings

    previous = settings.package_data_dir
    settings.package_data_dir = dirs.packages
    settings.package_dirs = [dirs.packages]
    settings.data_dir = data / "argos-translate"
    settings.cache_dir = cache / "argos-translate"
    settings.downloads_dir = settings.cache_dir / "downloads"
    settings.downloads_dir.mkdir(parents=True, exist_ok=True)
    settings.local_package_index = settings.data_dir / "index.json"
    if dirs.package_index:
        index = dirs.package_index if dirs.package_index.endswith("/") else dirs.package_index + "/"
        settings.package_index = index
        settings.remote_package_index = index + "index.json"
    if Path(previous) != dirs.packages:
        clear_caches()
    return package


def clear_caches() -> None:
    """Forget argostranslate's installed-language caches (after install, removal, new folder)."""
    translate = sys.modules.get("argostranslate.translate")
    if translate is not None:
        translate.get_installed_languages.cache_clear()
        translate.installed_translates.clear()


def package_name(pkg: Any) -> str:
    return f"{pkg.type}-{pkg.from_code}_{pkg.to_code}"


def _info(pkg: Any) -> ModelInfo:
    path = str(getattr(pkg, "package_path", "") or "")
    return ModelInfo(pkg.from_code, pkg.to_code, package_name(pkg), pkg.package_version, path)


@_exclusive
def installed_packages(dirs: ArgosDirs) -> list[Any]:
    """argostranslate's installed translate packages in the models folder."""
    package = bind(dirs)
    try:
        packages = package.get_installed_packages()
    except (FileNotFoundError, json.JSONDecodeError, KeyError) as exc:
        raise ModelError(f"broken model folder in {dirs.packages}: {exc}") from None
    return [p for p in packages if p.type == "translate" and p.from_code and p.to_code]


def installed(dirs: ArgosDirs) -> list[ModelInfo]:
    return sorted((_info(p) for p in installed_packages(dirs)), key=lambda m: m.name)


def read_metadata(path: Path) -> dict[str, Any]:
    """The metadata.json of a .argosmodel file; ModelError when it is not a translate package."""
    if not path.is_file():
        raise ModelError(f"no such file: {path}")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path} is not an Argos package (.argosmodel is a zip archive)")
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/metadata.json")]
        if len(names) != 1:
            raise ModelError(f"{path}: expected one top-level folder holding metadata.json")
        try:
            metadata = json.loads(archive.read(names[0]).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: metadata.json is not valid JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise ModelError(f"{path}: metadata.json must hold an object")
    if metadata.get("type", "translate") != "translate":
        raise ModelError(f"{path}: not a translation package (type {metadata.get('type')!r})")
    if not metadata.get("from_code") or not metadata.get("to_code"):
        raise ModelError(f"{path}: metadata.json lacks from_code or to_code")
    return metadata


@_exclusive
def install_file(dirs: ArgosDirs, path: str | Path) -> ModelInfo:
    """Install a .argosmodel file offline, replacing any installed package for the same pair."""
    path = Path(path).expanduser()
    metadata = read_metadata(path)
    package = bind(dirs)
    from_code, to_code = metadata["from_code"], metadata["to_code"]
    for old in installed_packages(dirs):
        if (old.from_code, old.to_code) == (from_code, to_code):
            package.uninstall(old)
    try:
        package.install_from_path(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"cannot install {path}: {exc}") from None
    clear_caches()
    for info in installed(dirs):
        if (info.from_code, info.to_code) == (from_code, to_code):
            return info
    raise ModelError(f"{path} was unpacked but argostranslate does not list it as installed")


@_exclusive
def remove(dirs: ArgosDirs, from_code: str, to_code: str) -> list[ModelInfo]:
    """Uninstall every installed package for the pair; NotFound when there is none."""
    package = bind(dirs)
    removed = []
    for pkg in installed_packages(dirs):
        if (pkg.from_code, pkg.to_code) == (from_code, to_code):
            removed.append(_info(pkg))
            package.uninstall(pkg)
    if not removed:
        raise NotFound(f"no model {from_code}→{to_code} is installed in {dirs.packages}")
    clear_caches()
    return removed


@_exclusive
def refresh_index(dirs: ArgosDirs) -> Path:
    """Download the package index into newsmon's argos folder (needs network)."""
    bind(dirs)
    from argostranslate import settings

    # argostranslate.package.update_package_index has no timeout and hides the error (and
    # get_available_packages then recurses without end offline), so fetch it here.
    url = settings.remote_package_index
    try:
        with urllib.request.urlopen(url, timeout=INDEX_TIMEOUT) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NoNetwork(
            f"cannot reach the Argos package index at {url} ({reason}): installing from the"
            " index needs network; offline, use `newsmon models install-file PATH.argosmodel`"
        ) from None
    try:
        json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelError(f"the package index at {url} is not valid JSON") from None
    index = Path(settings.local_package_index)
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_bytes(data)
    return index


@_exclusive
def available(dirs: ArgosDirs) -> list[ModelInfo]:
    """Translation packages offered by the package index (downloads the index first)."""
    refresh_index(dirs)
    package = bind(dirs)
    offered = [p for p in package.get_available_packages() if p.type == "translate"]
    return sorted((_info(p) for p in offered), key=lambda m: (m.name, m.version))


@_exclusive
def install_from_index(dirs: ArgosDirs, from_code: str, to_code: str) -> ModelInfo:
    """Download a package from the index and install it (needs network)."""
    refresh_index(dirs)
    package = bind(dirs)
    offered = [
        p for p in package.get_available_packages()
        if p.type == "translate" and (p.from_code, p.to_code) == (from_code, to_code)
    ]
    if not offered:
        sources = sorted({p.to_code for p in package.get_available_packages()
                          if p.from_code == from_code})
        hint = f"; from {from_code} the index offers: {', '.join(sources)}" if sources else ""
        raise NotFound(f"the package index has no model {from_code}→{to_code}{hint}")
    best = max(offered, key=lambda p: _version_key(p.package_version))
    try:
        download = best.download()
    except OSError as exc:  # writing the download failed: a disk or folder problem, not network
        from argostranslate import settings

        raise ModelError(f"cannot save the download of {package_name(best)} in"
                         f" {settings.downloads_dir}: {exc.strerror or exc}") from None
    except Exception as exc:
        if type(exc) is not Exception:
            raise  # a bug, not a failed download: let it show
        # argostranslate raises a bare Exception when none of the package's links answered
        links = ", ".join(best.links)
        raise NoNetwork(f"cannot download {package_name(best)} from {links}: {exc}") from None
    try:
        return install_file(dirs, download)
    finally:
        download.unlink(missing_ok=True)


def _version_key(version: str) -> tuple:
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)
