"""An Elasticsearch-compatible server for the tests: noida-db, started by the suite itself.

``elasticsearch_url`` (session) is the URL of a server on 127.0.0.1 at a free port, stopped
after the session; set NEWSMON_TEST_ELASTICSEARCH_URL to use a real Elasticsearch instead.
``noida_server`` (per test) is a private server a test may stop and start again.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV_URL = "NEWSMON_TEST_ELASTICSEARCH_URL"


_LISTENING = re.compile(rb"elasticsearch\s+(http://127\.0\.0\.1:(\d+))")


class NoidaServer:
    """``noida-db start --only elasticsearch`` in the foreground, as a child process.

    The first start binds port 0 and reads the port the server chose from its output; a
    restart (fault tests) asks for that same port again.
    """

    def __init__(self, data_dir: Path, port: int = 0) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}.log"

    def start(self, timeout: float = 30.0) -> None:
        executable = shutil.which("noida-db")
        if executable is None:
            pytest.fail(
                "noida-db is not installed: `pip install -e .[test]`, or set"
                f" {ENV_URL} to an Elasticsearch URL"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        offset = log.tell()
        self.process = subprocess.Popen(
            [executable, "start", "--only", "elasticsearch", "--elasticsearch-port",
             str(self.port), "--data-dir", str(self.data_dir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() reaches the server too
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"noida-db exited with {self.process.returncode}: {self._log_tail()}")
            if not self.port:
                found = _LISTENING.search(self.log_path.read_bytes()[offset:])
                if found is None:
                    time.sleep(0.05)
                    continue
                self.port, self.url = int(found[2]), found[1].decode()
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"noida-db did not answer on {self.url} within {timeout}s: {self._log_tail()}")

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful stop (SIGTERM to the process group; the server saves its data)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # the wrapper may exit before the server does
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                break
            time.sleep(0.05)
        self.process = None

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


@pytest.fixture(scope="session")
def elasticsearch_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the suite's Elasticsearch (noida-db unless NEWSMON_TEST_ELASTICSEARCH_URL)."""
    external = os.environ.get(ENV_URL)
    if external:
        yield external
        return
    server = NoidaServer(tmp_path_factory.mktemp("noida-session") / "data")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def noida_server(tmp_path: Path) -> Iterator[NoidaServer]:
    """A private server, started, that the test may stop and start again (fault tests)."""
    server = NoidaServer(tmp_path / "noida-data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def index_name() -> str:
    """A fresh alias name per test, so tests never share an index (also on a real cluster)."""
    return f"newsmon-test-{uuid.uuid4().hex[:10]}"
