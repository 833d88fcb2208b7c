"""Running the HTTP API under uvicorn: `ruskontrakt serve` and the benchmark server."""

from __future__ import annotations

import gc
import logging
import socket
import threading

from fastapi import FastAPI

from infra import log_privacy
from infra.bootstrap import Container
from infra.settings import Settings

# The live-case cache (services/live_cases.py) fills after start-up, so it is not frozen,
# and under load the objects of requests in flight outlive young collections: with the
# default thresholds (700, 10, 10) a full collection ran every 1-2 s at 900 requests/s,
# scanning every cached case for 12-70 ms with the GIL held, and each one showed as a
# stall of the open-loop tail (issue 20). A young generation of 10,000 objects is
# collected in a few milliseconds, and in steady state (garbage freed by reference
# counting) it is hardly ever reached; cyclic garbage waits a little longer for its turn.
GC_THRESHOLDS = (10_000, 20, 20)


def run(app: FastAPI, container: Container, settings: Settings, host: str, port: int) -> None:
    import uvicorn

    logging.getLogger("ruskontrakt").info("serving on http://%s:%d (docs at /docs)", host, port)
    config = uvicorn.Config(app, host=host, port=port, log_level=settings.log_level.lower())
    server = uvicorn.Server(config)
    sockets = [_shared_socket(host, port)] if settings.reuse_port else None
    log_privacy.install()  # after uvicorn configured its loggers
    # What start-up built (modules, the app, its schemas) lives as long as the process, yet
    # every full garbage collection would scan it again: pauses of tens of milliseconds in
    # the latency tail. Frozen objects are left out of collections for good.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    container.case_news  # noqa: B018 (started: another process's saves keep this one's cases current)
    stop = threading.Event()
    if container.embedded is not None and settings.deadline_interval_seconds > 0:
        # Embedded mode has no other process: the deadlines are this one's to keep.
        scheduler = threading.Thread(
            target=container.deadlines.run, args=(stop, settings.deadline_interval_seconds), name="deadlines"
        )
        scheduler.start()
    try:
        server.run(sockets=sockets)
    finally:
        stop.set()
        container.close()


def _shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket other processes may bind too (`RUSKONTRAKT_REUSE_PORT`): the
    kernel hands each new connection to one of them, so two `serve` processes on two cores
    answer on one port without a proxy in front."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The protocol named, not left 0: asyncio sets TCP_NODELAY only on sockets whose
    # `proto` is IPPROTO_TCP, and connections accepted from a proto-0 socket waited for
    # Nagle and the client's delayed ACK, about 40 ms per answer (half the commands/s).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock
