"""Tiny Argos packages built by the tests themselves, isolated argos folders, a network guard.

argostranslate reads its folders when first imported and creates them under the user's home,
so ``pytest_configure`` points ARGOS_PACKAGES_DIR and the XDG folders at a temporary folder
before any test can import it. newsmon itself re-points argostranslate at each test's own
models folder (``pipelines.translate.argos.bind``).
"""

from __future__ import annotations

import http.server
import ipaddress
import json
import os
import shutil
import socket
import socketserver
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_SESSION_HOME: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    home = Path(tempfile.mkdtemp(prefix="newsmon-argos-session-"))
    _SESSION_HOME.append(home)
    os.environ["ARGOS_PACKAGES_DIR"] = str(home / "argos-packages")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        os.environ.setdefault(name, str(home / name.lower()))


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _SESSION_HOME:
        shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class ArgosPackages:
    """Paths of the .argosmodel files built for the session."""

    ru_en: Path
    ru_en_v11: Path  # a newer version of ru→en, for --retranslate
    nb_en: Path
    en_ru: Path


@pytest.fixture(scope="session")
def argos_packages(tmp_path_factory: pytest.TempPathFactory) -> ArgosPackages:
    from newsmon.mocksite.tinymodel import build_package

    folder = tmp_path_factory.mktemp("argosmodels")
    return ArgosPackages(
        ru_en=build_package(folder / "v10", "ru", "en", seed=1),
        ru_en_v11=build_package(folder / "v11", "ru", "en", version="1.1", seed=2),
        nb_en=build_package(folder / "v10", "nb", "en", seed=3),
        en_ru=build_package(folder / "v10", "en", "ru", seed=4),
    )


def _is_local(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    """Refuse (and record) every connection or name lookup that is not for this machine."""
    attempts: list = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(address, tuple) and not _is_local(str(host)):
            attempts.append(address)
            raise OSError(f"network access blocked by the test: {address}")

    def connect(self, address):
        check(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_local(str(host)):
            attempts.append(host)
            raise socket.gaierror(f"name lookup blocked by the test: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts


class RecordingProxy:
    """A loopback 'proxy' that records and refuses: set as HTTP(S)_PROXY for a subprocess, it
    shows whether anything in that process tried to reach the internet over HTTP."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.requests.append(conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1"))
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def env(self) -> dict[str, str]:
        return {"HTTP_PROXY": self.url, "HTTPS_PROXY": self.url, "http_proxy": self.url,
                "https_proxy": self.url, "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost"}

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def recording_proxy() -> Iterator[RecordingProxy]:
    proxy = RecordingProxy()
    yield proxy
    proxy.close()


class PackageIndexServer:
    """A local stand-in for the Argos package index: index.json plus the package files."""

    def __init__(self, packages: list[Path]) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="argos-index-"))
        root = self.root

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def log_message(self, *args) -> None:
                pass

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        index = []
        from pipelines.translate.argos import read_metadata

        for path in packages:
            shutil.copy(path, root / path.name)
            metadata = read_metadata(path)
            index.append({**metadata, "links": [self.url + path.name]})
        (root / "index.json").write_text(json.dumps(index), encoding="utf-8")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def package_index(argos_packages: ArgosPackages) -> Iterator[PackageIndexServer]:
    server = PackageIndexServer([argos_packages.ru_en, argos_packages.nb_en])
    yield server
    server.close()
