"""The CPU pool of a crawl process: its worker processes leave with the crawl, even after a
SIGKILL (which never runs the pool's shutdown)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import os, sys
from pipelines import cpu
pool = cpu.acquire_pool(2)
pids = list(pool.submit(os.getpid).result(timeout=120) for _ in range(4))
print(" ".join(str(pid) for pid in {*pids, *pool._processes}), flush=True)
sys.stdin.read()  # until killed
"""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _forkserver_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_workers_and_fork_server_exit_when_the_crawl_is_killed() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        workers = [int(pid) for pid in child.stdout.readline().split()]
        assert workers, "the pool started no worker"
        fork_server = _forkserver_of(workers[0])
        assert fork_server != child.pid and _alive(fork_server)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(map(_alive, [*workers, fork_server])):
            assert time.monotonic() < deadline, (
                f"still running 30 s after the crawl was killed: "
                f"{[pid for pid in [*workers, fork_server] if _alive(pid)]}")
            time.sleep(0.1)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
