"""Which cases were just saved, whichever process saved them: for this process's cached cases.

The insert function (`infra/db/event_store.py`) NOTIFYs "<case id> <version>" on its
application's cases channel as each save commits. One thread per process LISTENs on the
channels of its applications and tells each one's live cases (`LiveCases.note_stored`).
A copy that another API process made stale then reads only what it misses before its
next command, instead of running the command on the stale copy, having its save refused
(and with it the other commands of its group commit) and loading the case whole.

Only an optimisation: the store's version check decides every save. A lost connection is
opened again after a pause, and a save announced meanwhile is found as a conflict, as
without announcements.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

import psycopg
from psycopg.sql import SQL, Identifier

log = logging.getLogger("ruskontrakt.case_news")

RECONNECT_SECONDS = 1.0
Listener = Callable[[str, int], None]  # (case id, version stored)


class CaseNews:
    def __init__(self, url: str, listeners: Mapping[str, Listener]) -> None:
        """`listeners`: channel -> who is told of each save announced there."""
        self.url = url
        self.listeners = dict(listeners)
        self.connected = threading.Event()  # LISTENing now (tests wait for it)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="case-news", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    for channel in self.listeners:
                        conn.execute(SQL("LISTEN {}").format(Identifier(channel)))
                    self.connected.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._tell(note.channel, note.payload)
            except psycopg.Error:
                log.warning(
                    "listening for saves failed; other processes' saves are found as conflicts "
                    "until it is back",
                    exc_info=True,
                )
            self.connected.clear()
            self._stop.wait(RECONNECT_SECONDS)

    def _tell(self, channel: str, payload: str) -> None:
        listener = self.listeners.get(channel)
        case_id, _, version = payload.partition(" ")
        if listener is None or not version.isdigit():
            return  # not an announcement of ours
        try:
            listener(case_id, int(version))
        except Exception:  # a listener's bug must not end the listening for the others
            log.exception("a save announcement could not be applied")
