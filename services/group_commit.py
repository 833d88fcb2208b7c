"""Group commit: commands on different cases share one database transaction.

Each request thread hands its case's new events to one committer thread and waits.
Whatever is queued when the committer is free goes into the next transaction (no timer
is needed: while one commit is in flight, the next batch forms by itself). A batch that
fails — typically because two commands raced on the same case — is retried one command
at a time, so a conflict fails only its own command and everything else still commits.
Every guarantee of a single `save()` is kept: per-case optimistic concurrency (the
unique (case, version) key), the store's gap-free order, and one durable commit before
any command is answered.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("ruskontrakt.group_commit")
SaveEvents = Callable[..., Sequence[Any]]  # app.save(*events) -> recordings


@dataclass
class _Request:
    case_id: str
    events: list[Any]
    done: Future[list[Any]] = field(default_factory=Future)


class GroupCommitter:
    def __init__(self, save: SaveEvents, forget: Callable[[str], None], max_batch: int = 200) -> None:
        self._save = save
        self._forget = forget
        self._max_batch = max_batch
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()
        self.batches = 0  # for metrics and tests
        self.commands = 0

    def save(self, case_id: str, events: list[Any]) -> list[Any]:
        """Commit `events` of one case; return their recordings or raise the save's error."""
        request = _Request(case_id, events)
        self._queue.put(request)
        return request.done.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._commit(batch)
                    return
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[_Request]) -> None:
        self.batches += 1
        self.commands += len(batch)
        try:
            recordings = self._save(*[e for r in batch for e in r.events])
        except Exception as error:
            if len(batch) == 1:
                self._forget(batch[0].case_id)
                batch[0].done.set_exception(error)
                return
            log.debug("batch of %d failed (%s); committing one by one", len(batch), error)
            for request in batch:
                self._forget(request.case_id)
            for request in batch:
                self._commit_one(request)
            return
        by_case: dict[str, list[Any]] = {}
        for recording in recordings:
            by_case.setdefault(str(recording.domain_event.originator_id), []).append(recording)
        for request in batch:
            request.done.set_result(by_case.get(request.case_id, []))

    def _commit_one(self, request: _Request) -> None:
        try:
            request.done.set_result(list(self._save(*request.events)))
        except Exception as error:
            self._forget(request.case_id)
            request.done.set_exception(error)
