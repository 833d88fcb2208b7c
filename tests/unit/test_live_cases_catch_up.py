"""A cached case another process made stale (services/live_cases.py `note_stored`) reads
only the events it misses at its next checkout; what does not follow on from its version
is loaded whole, an erased case is unknown, and a note about a case not held is dropped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, event

import services.live_cases as live_cases
from domain.policy import EventRecord, Track
from domain.rules import DEFAULT_RULES
from domain.values import Agency
from services.errors import CaseErasedError, CaseNotFoundError
from services.live_cases import LiveCases


class Dossier(Aggregate):
    @event("Noted")
    def note(self, text: str) -> None:
        self.last = text


def _record(e: Any, track: Track) -> EventRecord:
    return EventRecord(
        track,
        str(e.originator_id),
        e.originator_version,
        type(e).__name__,
        datetime(2026, 12, 1, tzinfo=UTC),
        "k-1",
        Agency.KONFLIKTRAD,
        {},
    )


class Store:
    """The events of one case as two processes wrote them; counts what the cache read."""

    def __init__(self) -> None:
        self.aggregate = Dossier()
        self.events: list[Any] = list(self.aggregate.collect_events())
        self.loads = 0
        self.reads_after: list[int] = []
        self.erased = False
        self.gap = False  # events_after misses the first event it should return

    def write(self, text: str) -> None:
        self.aggregate.note(text)
        self.events += self.aggregate.collect_events()

    def events_of(self, case_id: UUID) -> Sequence[Any]:
        self.loads += 1
        if self.erased:
            raise CaseErasedError(str(case_id))
        return list(self.events)

    def events_after(self, case_id: UUID, version: int) -> Sequence[Any]:
        self.reads_after.append(version)
        if self.erased:
            raise CaseErasedError(str(case_id))
        after = [e for e in self.events if e.originator_version > version]
        return after[1:] if self.gap else after


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setattr(live_cases, "record_of", _record)
    return Store()


def _cache(store: Store) -> LiveCases:
    return LiveCases(Track.CONTRACT, DEFAULT_RULES, store.events_of, events_after=store.events_after)


def _held(live: LiveCases, store: Store) -> UUID:
    case_id = store.aggregate.id
    with live.checkout(case_id):
        pass  # loaded once, now held
    return case_id


def test_a_stale_copy_reads_only_the_events_it_misses(store: Store) -> None:
    live = _cache(store)
    case_id = _held(live, store)
    store.write("one")
    store.write("two")  # by the other process
    live.note_stored(str(case_id), 3)

    with live.checkout(case_id) as case:
        assert (case.version, case.aggregate.last, case.fresh) == (3, "two", True)
        assert [r.version for r in case.records] == [1, 2, 3]

    assert (store.loads, store.reads_after, live.caught_up) == (1, [1], 1)


def test_a_copy_at_the_announced_version_reads_nothing(store: Store) -> None:
    live = _cache(store)
    case_id = _held(live, store)
    live.note_stored(str(case_id), 1)  # its own save, heard back
    with live.checkout(case_id) as case:
        assert not case.fresh
    assert (store.loads, store.reads_after) == (1, [])


def test_events_that_do_not_follow_on_load_the_case_whole(store: Store) -> None:
    live = _cache(store)
    case_id = _held(live, store)
    store.write("one")
    store.write("two")
    store.gap = True  # version 2 missing from what it reads: that does not follow on
    live.note_stored(str(case_id), 3)
    with live.checkout(case_id):
        pass
    assert (store.loads, live.caught_up) == (2, 0)


def test_an_erased_case_is_unknown_and_not_kept(store: Store) -> None:
    live = _cache(store)
    case_id = _held(live, store)
    store.write("one")
    store.erased = True
    live.note_stored(str(case_id), 2)
    with pytest.raises(CaseNotFoundError), live.checkout(case_id):
        pass
    assert case_id not in live


def test_a_note_about_a_case_not_held_is_dropped(store: Store) -> None:
    live = _cache(store)
    other = str(uuid4())
    live.note_stored(other, 5)
    assert live.noted(other) == 0, "nothing is kept for a case this process does not hold"
