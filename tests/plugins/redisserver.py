"""A real Redis for the tests: Debian's ``redis-server``, started by the suite.

``redis_url`` (per test) is a private server on 127.0.0.1 at a free port, with no persistence,
stopped after the test; ``.ci/run`` installs the package.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis


def free_port() -> int:
    """A port free on 127.0.0.1 now (start_redis retries if it is taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(workdir: Path, attempts: int = 3) -> tuple[subprocess.Popen, str]:
    """Start redis-server; retry on another port if the free one was taken meanwhile."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server; see .ci/run)")
    for _ in range(attempts):
        port = free_port()
        process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--logfile", str(workdir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if client.ping():
                    return process, url
            except redis.ConnectionError:
                time.sleep(0.05)  # polling a condition: the server is not listening yet
        process.kill()
        process.wait(timeout=10)
    raise RuntimeError(f"redis-server did not start; see {workdir / 'redis.log'}")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    workdir = tmp_path / "redis"
    workdir.mkdir()
    process, url = start_redis(workdir)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
