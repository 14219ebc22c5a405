"""An open-loop HTTP load: requests sent on a fixed schedule, whatever the server does.

A closed loop (``wrk``, each connection waiting for its answer before the next request) slows
down when the server stalls, so the requests that would have waited are never sent and its
percentiles understate the stall ("coordinated omission"). Here request ``i`` is due at
``start + i / rate``; it goes out on an idle keep-alive connection, or a new one, and its
latency runs from when it was *due*, so time spent waiting behind a stall counts.

The client is one asyncio process (uvloop when installed) speaking HTTP/1.1 on loopback; at
1,000-2,000 requests/s it takes under a tenth of a core.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OpenLoopResult:
    """What an open-loop run measured."""

    sent: int
    answered: int
    failed: int
    seconds: float
    #: latency of each answered request, from when it was due, in seconds, sorted
    latencies: list[float]
    connections: int
    #: why requests failed: an HTTP status, or the error that cut the connection
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds

    def percentile(self, share: float) -> float:
        """Latency at ``share`` (0-1) in milliseconds."""
        if not self.latencies:
            return float("nan")
        index = min(len(self.latencies) - 1, int(share * len(self.latencies)))
        return self.latencies[index] * 1000


async def _answer(reader: asyncio.StreamReader) -> int:
    """Reads one response; returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _run(
    host: str, port: int, requests: list[bytes], rate: float, seconds: float
) -> OpenLoopResult:
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    opened = 0

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        """An idle connection the server has not closed (it closes those idle for its
        keep-alive timeout), else a new one; and whether it was reused."""
        nonlocal opened
        while idle:
            reader, writer = idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer, True
            writer.close()
        reader, writer = await asyncio.open_connection(host, port)
        opened += 1
        return reader, writer, False

    async def one(payload: bytes, due: float) -> None:
        try:
            reader, writer, reused = await connection()
            writer.write(payload)
            try:
                status = await _answer(reader)
            except asyncio.IncompleteReadError as error:
                if not (reused and not error.partial):
                    raise
                # closed by the server as it went out: sent again on a new connection, as an
                # HTTP client does, the time lost counting in its latency
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                writer.write(payload)
                status = await _answer(reader)
        except (asyncio.IncompleteReadError, OSError) as error:
            failures[type(error).__name__] += 1
            return
        latencies.append(time.perf_counter() - due)
        if status != 200:
            failures[f"HTTP {status}"] += 1
        idle.append((reader, writer))

    total = int(rate * seconds)
    tasks = []
    start = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(requests[i % len(requests)], due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for _, writer in idle:
        writer.close()
    latencies.sort()
    failed = sum(failures.values())
    return OpenLoopResult(total, len(latencies), failed, elapsed, latencies, opened, failures)


def open_loop(
    host: str, port: int, requests: list[bytes], *, rate: float, seconds: float
) -> OpenLoopResult:
    """Send ``requests`` (raw HTTP/1.1, keep-alive, cycled) at ``rate`` per second for
    ``seconds`` (module docstring)."""
    try:
        import uvloop  # noqa: PLC0415
    except ImportError:
        return asyncio.run(_run(host, port, requests, rate, seconds))
    return uvloop.run(_run(host, port, requests, rate, seconds))


def post_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """A raw keep-alive HTTP/1.1 POST."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
