"""Running the HTTP API under uvicorn: `ruskontrakt serve` and the benchmark server."""

from __future__ import annotations

import gc
import logging
import threading

from fastapi import FastAPI

from infra import log_privacy
from infra.bootstrap import Container
from infra.settings import Settings


def run(app: FastAPI, container: Container, settings: Settings, host: str, port: int) -> None:
    import uvicorn

    logging.getLogger("ruskontrakt").info("serving on http://%s:%d (docs at /docs)", host, port)
    config = uvicorn.Config(app, host=host, port=port, log_level=settings.log_level.lower())
    server = uvicorn.Server(config)
    log_privacy.install()  # after uvicorn configured its loggers
    # What start-up built (modules, the app, its schemas) lives as long as the process, yet
    # every full garbage collection would scan it again: pauses of tens of milliseconds in
    # the latency tail. Frozen objects are left out of collections for good.
    gc.freeze()
    stop = threading.Event()
    if container.embedded is not None and settings.deadline_interval_seconds > 0:
        # Embedded mode has no other process: the deadlines are this one's to keep.
        scheduler = threading.Thread(
            target=container.deadlines.run, args=(stop, settings.deadline_interval_seconds), name="deadlines"
        )
        scheduler.start()
    try:
        server.run()
    finally:
        stop.set()
        container.close()
