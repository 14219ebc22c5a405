"""Worker processes of `scamwall serve`, each listening on a socket of its own.

uvicorn's own supervisor shares one listening socket among its workers. The worker that wakes
first accepts every connection waiting, so a client that opens its connections together (an SMS
gateway's pool) can land them all on one worker while the other idles: with 16 connections
opened at once, one worker spent 791 ticks of CPU and the other 1, and the server answered half
the requests it answers when they are spread. Here each worker listens on a socket of its own,
bound to the same port with ``SO_REUSEPORT``, and the kernel spreads new connections across the
sockets by a hash of the client's address and port.

The supervisor keeps every socket open and starts a worker again on its socket when one dies:
the connections the kernel sends to that socket meanwhile wait in its queue, none is refused.
``SIGINT`` or ``SIGTERM`` stops the workers (each finishes what it is answering) and then the
supervisor.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
from multiprocessing.process import BaseProcess
from typing import Any

__all__ = ["reuse_port_available", "serve_workers"]

_log = logging.getLogger(__name__)

#: How often the supervisor looks for a worker that died, in seconds.
_WATCH_SECONDS = 0.5
#: How long a stopping worker may take to finish its requests, in seconds.
_STOP_SECONDS = 30.0


def reuse_port_available() -> bool:
    """Whether several sockets may listen on one port with the kernel spreading connections
    over them: Linux (3.9 on). macOS and most BSDs accept ``SO_REUSEPORT`` but send every new
    connection to one socket; there uvicorn's own supervisor serves."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _work(app: str, sock: socket.socket, options: dict[str, Any]) -> None:
    import uvicorn  # noqa: PLC0415 - imported in the worker process

    config = uvicorn.Config(app, factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def serve_workers(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Run ``workers`` processes of the ASGI app factory ``app`` ("module:function") on
    ``host:port`` until ``SIGINT`` or ``SIGTERM`` (module docstring); ``options`` go to
    ``uvicorn.Config``."""
    sockets = [_listening_socket(host, port) for _ in range(workers)]
    context = multiprocessing.get_context("spawn")
    options = {**options, "host": host, "port": port}

    def start(sock: socket.socket) -> BaseProcess:
        process = context.Process(target=_work, args=(app, sock, options), name="scamwall-worker")
        process.start()
        return process

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    processes = [start(sock) for sock in sockets]
    try:
        while not stop.wait(_WATCH_SECONDS):
            for index, process in enumerate(processes):
                # a worker that stopped on the terminal's Ctrl-C (the whole process group gets
                # SIGINT) is not started again
                if not process.is_alive() and not stop.is_set():
                    _log.warning(
                        "worker %s stopped (exit code %s); starting another on its socket",
                        process.pid,
                        process.exitcode,
                    )
                    processes[index] = start(sockets[index])
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes what it is answering
        for process in processes:
            process.join(_STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        for sock in sockets:
            sock.close()
