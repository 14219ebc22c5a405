"""What the HTTP and PostgreSQL benchmarks share: a free port, a running server, wrk's report,
a scratch PostgreSQL schema."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(database_url: str, workers: int, *, timeout: float = 60) -> Iterator[int]:
    """`scamwall serve` on a free loopback port with ``workers`` processes; yields the port once
    it accepts connections, and stops the server afterwards."""
    port = free_port()
    env = {**os.environ, "SCAMWALL_DATABASE_URL": database_url, "SCAMWALL_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "scamwall", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def parse_wrk(output: str) -> tuple[float, float, int, int]:
    """Requests/s, p99 in ms, non-2xx responses and total requests (negative on socket errors)
    from ``wrk --latency``'s report."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99_text = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    assert p99_text is not None, output
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99_text.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return (
        rps,
        float(p99_text.group(1)) * scale,
        int(non2xx.group(1)) if non2xx else 0,
        total if not errors else -total,
    )


@contextmanager
def scratch_postgres(base_url: str) -> Iterator[str]:
    """A URL of ``base_url``'s server in a new schema of its own, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    server = make_url(base_url).set(drivername="postgresql+psycopg")
    admin = create_engine(server)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
