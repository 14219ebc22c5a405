"""`scamwall serve --workers 2`: connections spread over the workers; a dead worker comes back."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from scamwall.api.workers import reuse_port_available
from scamwall.store import Store

pytestmark = pytest.mark.skipif(
    not (reuse_port_available() and Path("/proc/net/tcp").exists()),
    reason="needs SO_REUSEPORT and Linux's /proc to see which worker holds a connection",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _workers(supervisor: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if parent == supervisor and b"spawn_main" in command:
            found.append(int(entry.name))
    return sorted(found)


def _connections_by_worker(port: int, workers: list[int]) -> Counter[int]:
    """Established connections to ``port`` each worker holds (from /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and int(fields[1].split(":")[1], 16) == port:
            inodes.add(fields[9])
    held: Counter[int] = Counter()
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held[pid] += 1
    return held


def _ask(port: int) -> socket.socket:
    """A connection that has had one answer and stays open."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /v1/whoami HTTP/1.1\r\nHost: test\r\n\r\n")
    answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
    return sock


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    store = Store.open(url, require_schema=False)
    store.initialise()
    store.close()
    port = _free_port()
    env = {
        **os.environ,
        "SCAMWALL_DATABASE_URL": url,
        "SCAMWALL_LOG_LEVEL": "WARNING",
        "SCAMWALL_API_ANONYMOUS_PER_MINUTE": "100000",  # the test asks without a token
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "scamwall", "serve", "--port", str(port), "--workers", "2"],
        env=env,
    )
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _until_both_answer(port: int, pid: int) -> tuple[list[int], Counter[int], list[socket.socket]]:
    deadline = time.monotonic() + 60
    opened: list[socket.socket] = []
    while True:
        workers = _workers(pid)
        with contextlib.suppress(OSError):  # not listening yet
            opened += [_ask(port) for _ in range(8)]
        held = _connections_by_worker(port, workers)
        if len(workers) == 2 and len(held) == 2:
            return workers, held, opened
        if time.monotonic() > deadline:
            raise AssertionError(f"workers {workers} hold {dict(held)}")
        time.sleep(0.2)


def test_connections_spread_over_the_workers_and_a_dead_one_comes_back(
    supervisor: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = supervisor
    workers, held, opened = _until_both_answer(port, process.pid)
    assert sum(held.values()) == len(opened)  # every connection held by one of the two
    for sock in opened:
        sock.close()

    # a pool opened at once, as a gateway opens it: on one shared listening socket the worker
    # that wakes first takes them all; on a socket each, the kernel splits them by hash (at
    # most 3 of 32 on one side: a chance of about 1 in 100,000)
    burst = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(32)]
    for sock in burst:
        sock.sendall(b"GET /v1/whoami HTTP/1.1\r\nHost: test\r\n\r\n")
    for sock in burst:
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    held = _connections_by_worker(port, workers)
    assert sum(held.values()) == 32
    assert min(held[pid] for pid in workers) >= 4, dict(held)
    for sock in burst:
        sock.close()

    os.kill(workers[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while workers[0] in _workers(process.pid) or len(_workers(process.pid)) < 2:
        assert time.monotonic() < deadline, "the dead worker was not replaced"
        time.sleep(0.2)
    replaced, held, opened = _until_both_answer(port, process.pid)
    assert workers[0] not in replaced
    assert workers[1] in replaced
    for sock in opened:
        sock.close()

    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    assert _workers(process.pid) == []
