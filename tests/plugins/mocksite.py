"""The mock news sites as subprocesses (each binds port 0 and reports its URL), and a way to
run the real ``newsmon`` CLI against them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from newsmon.mocksite import outlet_definition

SITES = ("kolokol", "fjordposten")


@dataclass
class RunningSite:
    name: str
    url: str
    process: subprocess.Popen

    def requests(self) -> list[str]:
        """Paths requested so far (method GET/HEAD), in order."""
        with urllib.request.urlopen(self.url + "/__log", timeout=5) as response:
            return [path for _method, path in json.load(response)]

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(self.url + "/__reset", method="POST"), timeout=5).close()


@dataclass
class MockWorld:
    """Both mock outlets, their definitions in a folder, and a store path for newsmon."""

    sites: dict[str, RunningSite]
    outlets_dir: Path
    db: Path
    env: dict[str, str] = field(default_factory=dict)

    def newsmon(self, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
        """Run the real CLI in a subprocess, as a user would."""
        result = subprocess.run(
            [sys.executable, "-m", "newsmon.cli", *args],
            capture_output=True, text=True, env=self.env, timeout=timeout, check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"newsmon {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result


def start_site_process(name: str, *extra: str) -> RunningSite:
    process = subprocess.Popen(
        [sys.executable, "-m", "newsmon.mocksite.server", "--site", name, *extra],
        stdout=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline().strip()
    if not line.startswith("URL "):
        process.kill()
        raise RuntimeError(f"mock site {name} did not start: {line!r}")
    return RunningSite(name, line.split(" ", 1)[1], process)


@contextmanager
def open_world(
    root: Path, names: tuple[str, ...] = SITES, *site_args: str, **env: str
) -> Iterator[MockWorld]:
    """Start the named mock sites, write their outlet files, and give the CLI an environment
    (store, outlets and data folder under ``root``; ``env`` adds or overrides variables)."""
    sites: dict[str, RunningSite] = {}
    try:
        for name in names:
            sites[name] = start_site_process(name, *site_args)
        outlets_dir = root / "outlets"
        outlets_dir.mkdir()
        for name, site in sites.items():
            (outlets_dir / f"{name}.toml").write_text(outlet_definition(name, site.url), encoding="utf-8")
        db = root / "newsmon.sqlite3"
        variables = {
            **os.environ,
            "NEWSMON_DB": str(db),
            "NEWSMON_OUTLETS": str(outlets_dir),
            "NEWSMON_DATA_DIR": str(root / "data"),
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            **env,
        }
        yield MockWorld(sites, outlets_dir, db, variables)
    finally:
        for site in sites.values():
            site.process.kill()
            site.process.wait(timeout=10)


@pytest.fixture
def mock_world(tmp_path: Path) -> Iterator[MockWorld]:
    with open_world(tmp_path) as world:
        yield world
