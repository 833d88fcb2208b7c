"""Group commit: commands on different cases share one database transaction.

Each request thread hands its case's new events to the committer (a `BatchWriter`,
`services/batching.py`) and waits. A batch that fails — typically because two commands
raced on the same case — is retried one command at a time, so a conflict fails only its
own command and everything else still commits. Every guarantee of a single `save()` is
kept: per-case optimistic concurrency (the unique (case, version) key), the store's
gap-free order, and one durable commit before any command is answered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from eventsourcing.persistence import StoredEvent

from services.access import AccessEntry
from services.batching import BatchWriter


class InsertEvents(Protocol):
    """The recorder's `insert_events`: one transaction; the events' notification ids."""

    def __call__(
        self, stored_events: Sequence[StoredEvent], *, access_entries: Sequence[AccessEntry] = ...
    ) -> Sequence[int] | None: ...


@dataclass(frozen=True)
class _Request:
    case_id: str
    stored_events: Sequence[StoredEvent]
    access_entries: Sequence[AccessEntry]


class GroupCommitter:
    def __init__(self, insert: InsertEvents, forget: Callable[[str], None], max_batch: int = 200) -> None:
        self._insert = insert
        self.writer = BatchWriter(
            self._save_batch, "group-commit", max_batch, forget=lambda request: forget(request.case_id)
        )

    def save(
        self, case_id: str, stored_events: Sequence[StoredEvent], access_entries: Sequence[AccessEntry] = ()
    ) -> list[int]:
        """Commit one case's sealed events (and the access-log entries of the command's
        answer); return their notification ids, or raise the save's error."""
        return self.writer.submit(_Request(case_id, stored_events, access_entries))

    def _save_batch(self, batch: list[_Request]) -> list[list[int]]:
        events = [e for r in batch for e in r.stored_events]
        ids = list(self._insert(events, access_entries=[a for r in batch for a in r.access_entries]) or [])
        results: list[list[int]] = []
        start = 0
        for request in batch:  # the ids come in the order of the events
            end = start + len(request.stored_events)
            results.append(ids[start:end])
            start = end
        return results
