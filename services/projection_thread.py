"""Embedded mode: the read models are kept current by a background thread.

Commands answer from their own events (`services/live_cases.py`) and only wake this
thread, so a command never waits for the projection of every agency's view. Reads still
call `InProcessProjection.current` themselves before answering (it catches up under the
projection's lock when a log has something new), so a read never misses a committed event.
"""

from __future__ import annotations

import logging
import threading

from services.projector import InProcessProjection

log = logging.getLogger("ruskontrakt.projector")


class ProjectionThread:
    def __init__(
        self, projection: InProcessProjection, wake: threading.Event | None = None, retry_seconds: float = 1.0
    ) -> None:
        """`wake` is set by whoever commits (the applications' `on_saved`), so the thread
        can be wired after them; `kick()` sets it too."""
        self.projection = projection
        self.retry_seconds = retry_seconds
        self._wake = wake if wake is not None else threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="catch-up", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        """Something was committed: project it soon (never blocks)."""
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                self.projection.catch_up()
            except Exception:
                # The next read catches up itself (and reports the error); retry shortly.
                log.exception("background projection failed; retrying in %.1f s", self.retry_seconds)
                self._stop.wait(self.retry_seconds)  # close() need not wait the pause out
                self._wake.set()
