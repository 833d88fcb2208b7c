"""Group commit keeps each command's outcome its own."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest

from services.group_commit import GroupCommitter


@dataclass
class Event:
    originator_id: str
    originator_version: int


class FakeStore:
    """Unique (case, version), all-or-nothing per save, like the real recorders."""

    def __init__(self) -> None:
        self.rows: set[tuple[str, int]] = set()
        self.saves = 0
        self.logged: list[Any] = []
        self.lock = threading.Lock()
        self.gate = threading.Event()

    def save(self, events: list[Event], access_entries: list[Any]) -> list[int]:
        self.gate.wait(5)
        with self.lock:
            self.saves += 1
            keys = [(e.originator_id, e.originator_version) for e in events]
            if len(set(keys)) != len(keys) or self.rows & set(keys):
                raise RuntimeError("integrity error")
            self.rows |= set(keys)
            self.logged += access_entries
            return [len(self.rows) - len(events) + i + 1 for i in range(len(events))]


def _run_concurrently(
    committer: GroupCommitter, requests: list[tuple[str, list[Event]]], store: FakeStore
) -> list[Any]:
    results: list[Any] = [None] * len(requests)

    def call(i: int, case_id: str, events: list[Event]) -> None:
        try:
            results[i] = committer.save(case_id, events, [f"answer {i}"])
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=call, args=(i, c, e)) for i, (c, e) in enumerate(requests)]
    for t in threads:
        t.start()
    store.gate.set()  # let the first save through only once all are queued
    for t in threads:
        t.join(10)
    return results


def test_commands_on_different_cases_are_committed_together() -> None:
    store, forgotten = FakeStore(), []
    committer = GroupCommitter(store.save, forgotten.append)
    requests = [(f"case-{i}", [Event(f"case-{i}", 1), Event(f"case-{i}", 2)]) for i in range(20)]
    results = _run_concurrently(committer, requests, store)
    assert all(len(r) == 2 for r in results)
    assert len(store.rows) == 40 and store.saves < 20
    # every command got the ids of its own events, and its answer was logged once
    assert sorted(i for r in results for i in r) == list(range(1, 41))
    assert sorted(store.logged) == sorted(f"answer {i}" for i in range(20))


def test_a_conflict_fails_only_its_own_command() -> None:
    store, forgotten = FakeStore(), []
    committer = GroupCommitter(store.save, forgotten.append)
    requests = [(f"case-{i}", [Event(f"case-{i}", 1)]) for i in range(10)]
    requests.append(("case-3", [Event("case-3", 1)]))  # a racing command on case-3
    results = _run_concurrently(committer, requests, store)
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and len(store.rows) == 10
    assert "case-3" in forgotten
    # the refused command's answer is not logged (it was never shown); the others' are
    refused = results.index(failures[0])
    assert sorted(store.logged) == sorted(f"answer {i}" for i in range(11) if i != refused)


def test_a_lone_failing_command_gets_its_error() -> None:
    store = FakeStore()
    store.gate.set()
    store.rows.add(("case-1", 1))
    committer = GroupCommitter(store.save, lambda _: None)
    with pytest.raises(RuntimeError, match="integrity"):
        committer.save("case-1", [Event("case-1", 1)])
