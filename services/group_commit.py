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
from typing import Any

from services.batching import BatchWriter

SaveEvents = Callable[..., Sequence[Any]]  # app.save(*events) -> recordings


@dataclass(frozen=True)
class _Request:
    case_id: str
    events: list[Any]


class GroupCommitter:
    def __init__(self, save: SaveEvents, forget: Callable[[str], None], max_batch: int = 200) -> None:
        self._save = save
        self.writer = BatchWriter(self._save_batch, "group-commit", max_batch,
                                  forget=lambda request: forget(request.case_id))  # fmt: skip

    def save(self, case_id: str, events: list[Any]) -> list[Any]:
        """Commit `events` of one case; return their recordings or raise the save's error."""
        return self.writer.submit(_Request(case_id, events))

    def _save_batch(self, batch: list[_Request]) -> list[list[Any]]:
        recordings = self._save(*[e for r in batch for e in r.events])
        by_case: dict[str, list[Any]] = {}
        for recording in recordings:
            by_case.setdefault(str(recording.domain_event.originator_id), []).append(recording)
        return [by_case.get(r.case_id, []) for r in batch]
