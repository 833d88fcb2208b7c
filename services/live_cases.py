"""The cases this process is working on, kept in memory between commands.

A command needs the case's aggregate (to decide) and the calling agency's view of the
case (to check that the agency may know the case, and to answer with the view after
the command). Both are folds over the same events, so they are kept together per case,
with the case's records, and advanced with the events each command saves: no replay of
the history from the store, no read-model round trip, and no wait for the projector,
which may be another process a moment behind. An agency's view is folded from the
records when that agency first asks for it.

The cache is trusted on the way to a save because the store checks it: a save succeeds
only at the version after the stored one, so a command can only succeed on current
state. The application (`services/sealed_application.py`) reloads and runs the command again when a
save conflicts, and looks at the stored version before it answers a refusal from a
cached case. Where other processes save the same cases (two API processes on one port),
each save's announcement (`note_stored`, from `infra/db/case_news.py`) marks the cached
copy behind, and its next checkout reads only the events it misses: without that, nearly
every command on a case the other process saved last ran twice, once on the stale copy
(refused by the store) and once on a full reload. The announcements only save work: one
that is lost or late ends in the conflict and reload above.

Entries hold plaintext personal data: they are dropped on erasure (`forget`, told by the
key store's erasure notices whichever process erased; a case checked out at that moment
is not kept at check-in), and the cache is bounded (least recently used first).

An erased case is unknown to every agency (404, like its views and worklist rows, which
are gone too): which agencies once knew it is not kept, and a 410 would tell an agency that
never knew the case that it existed. Only the auditor still sees that it exists (verify,
history with placeholders, exports).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from cachetools import LRUCache
from eventsourcing.application import project_aggregate

from domain.need_to_know import Viewer
from domain.policy import EventRecord, Track
from domain.rules import Rules
from projections.read_model import CaseProjection
from services.errors import CaseErasedError, CaseNotFoundError
from services.records import record_of

LOCK_STRIPES = 256  # commands on one case run one at a time; on different cases, in parallel


@dataclass
class LiveCase:
    aggregate: Any
    track: Track
    rules: Rules
    fresh: bool  # loaded from the store during this checkout (so certainly current)
    records: list[EventRecord] = field(default_factory=list)
    discarded: bool = False
    scrub: Callable[[EventRecord], EventRecord] | None = None  # see `LiveCases`
    # One projection per unit that asked, built from `records` on its first view and
    # brought up to date only when that unit asks again: a command advances the caller's
    # projection, not those of the other units that once asked (every related unit's on
    # every command was a large part of the command's own work, issue 20).
    projections: dict[Viewer, CaseProjection] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return int(self.aggregate.version)

    def view(self, viewer: Viewer, at: datetime | None = None) -> dict[str, Any] | None:
        """The case as `viewer` sees it, its actions judged at `at`, or None when it may not
        know the case exists."""
        return self._projection(viewer).present(viewer, at)

    def seen_version(self, viewer: Viewer) -> int | None:
        """The version of the last event `viewer` saw (None: it may not know the case), without
        laying out its whole view."""
        fold = self._projection(viewer).folds.get(viewer)
        if not fold:
            return None
        # A prevention case is shown at the case's version (its units see every event from
        # their disclosure on); a contract at the last event the unit saw.
        return int(fold.get("version", self.version))

    def related(self, viewer: Viewer, at: datetime) -> bool:
        """Whether `viewer`'s unit is related to the case at `at` (docs/domain.md §9)."""
        return self._projection(viewer).access.relations.basis(viewer, at) is not None

    def _projection(self, viewer: Viewer) -> CaseProjection:
        projection = self.projections.get(viewer)
        if projection is None:
            projection = CaseProjection(self.track, str(self.aggregate.id), self.rules, (viewer,))
            self.projections[viewer] = projection
        # `records` holds every event from version 1, so a projection at version v has
        # applied exactly records[:v]: the rest is what happened since the unit last asked.
        for record in self.records[projection.version :]:
            projection.apply(record)
        return projection

    def advance(self, records: Sequence[EventRecord]) -> None:
        if self.scrub is not None:
            records = [self.scrub(r) for r in records]
        self.records.extend(records)

    def discard(self) -> None:
        """Drop this entry at check-in (its aggregate may hold unsaved or stale state)."""
        self.discarded = True


class LiveCases:
    def __init__(
        self,
        track: Track,
        rules: Rules,
        events_of: Callable[[UUID], Sequence[Any]],
        max_cases: int = 1000,
        scrub: Callable[[EventRecord], EventRecord] | None = None,
        events_after: Callable[[UUID, int], Sequence[Any]] | None = None,
    ) -> None:
        """`events_of(case_id)`: the case's domain events from the store, in order (it raises
        what the application answers for an unknown or erased case); `events_after(case_id,
        version)`: those after `version` (without it a case behind is loaded whole); `scrub`:
        what a record shows of persons erased since (`SubjectKeys.scrub`), applied to every
        record kept."""
        if max_cases < 1:
            raise ValueError("max_cases must be at least 1")
        self.track, self.rules = track, rules
        self._events_of = events_of
        self._events_after = events_after
        self._scrub = scrub
        self.max_cases = max_cases
        # A case checked out is not in `_cases` until it is checked in again, so eviction
        # (on another case's check-in) can never drop or duplicate it. cachetools caches are
        # not thread-safe: every access is under `_lock`.
        self._cases: LRUCache[str, LiveCase] = LRUCache(max_cases)
        self._out: set[str] = set()  # checked out now (one command at a time per case)
        self._forgotten: set[str] = set()  # forgotten while checked out: not kept at check-in
        # The newest stored version another process announced, for cases held here.
        self._stored: dict[str, int] = {}
        self.caught_up = 0  # cases brought up to date from announcements (metrics, tests)
        self._lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]

    @contextmanager
    def checkout(self, case_id: UUID) -> Iterator[LiveCase]:
        """The case, locked against other commands in this process, loaded if not cached.

        It is kept for the next command unless discarded or holding unsaved events.
        """
        key = str(case_id)
        with self._stripes[zlib.crc32(key.encode()) % LOCK_STRIPES]:
            with self._lock:
                case = self._cases.pop(key, None)
                self._out.add(key)
                stored = self._stored.pop(key, 0)
            try:
                if case is None:
                    case = self._load(case_id)
                elif stored > case.version:
                    behind, case = case, None  # not kept if catching up fails
                    case = self._caught_up(case_id, behind)
                else:
                    case.fresh = False
                yield case
            finally:
                keep = case is not None and not case.discarded and not case.aggregate.pending_events
                self._check_in(key, case if keep else None)

    def new(self, aggregate: Any, records: Sequence[EventRecord]) -> LiveCase:
        """A case this process is creating; `keep` it once it is saved."""
        case = LiveCase(aggregate, self.track, self.rules, fresh=True, scrub=self._scrub)
        case.advance(records)
        return case

    def keep(self, case: LiveCase) -> None:
        key = str(case.aggregate.id)
        with self._lock:
            if key not in self._forgotten:
                self._cases[key] = case

    def __contains__(self, case_id: object) -> bool:
        with self._lock:
            return str(case_id) in self._cases

    def note_stored(self, case_id: str, version: int) -> None:
        """Another process (or this one) stored the case at `version`: a copy held here that
        is behind reads what it misses at its next checkout."""
        with self._lock:
            if case_id not in self._cases and case_id not in self._out:
                return  # not held: loaded whole when it is next asked for
            if len(self._stored) >= 2 * self.max_cases:
                self._stored.clear()  # of cases since evicted; losing a note only costs a reload
            self._stored[case_id] = max(version, self._stored.get(case_id, 0))

    def noted(self, case_id: str) -> int:
        """The newest stored version announced for the case since its last checkout (0: none)."""
        with self._lock:
            return self._stored.get(case_id, 0)

    def forget(self, case_ids: Sequence[str]) -> None:
        """After an erasure: drop the cases' plaintext at once, also of a case a command has
        checked out right now (it is not kept when the command ends)."""
        with self._lock:
            for case_id in case_ids:
                self._cases.pop(case_id, None)
                if case_id in self._out:
                    self._forgotten.add(case_id)

    def _check_in(self, key: str, case: LiveCase | None) -> None:
        with self._lock:
            self._out.discard(key)
            if case is not None and key not in self._forgotten:
                self._cases[key] = case  # the least recently used case goes when full
            self._forgotten.discard(key)

    def _caught_up(self, case_id: UUID, case: LiveCase) -> LiveCase:
        """`case` with the events stored since its version applied, or the case loaded whole
        when they do not follow on (or the case cannot be read now: `_load` says why)."""
        if self._events_after is None:
            return self._load(case_id)
        try:
            events = list(self._events_after(case_id, case.version))
        except CaseErasedError:
            raise CaseNotFoundError(str(case_id)) from None  # as `_load`: see the module's docstring
        versions = [int(e.originator_version) for e in events]
        if versions != list(range(case.version + 1, case.version + 1 + len(versions))):
            return self._load(case_id)
        case.aggregate = project_aggregate(case.aggregate, events)
        case.advance([record_of(event, self.track) for event in events])
        case.fresh = True
        self.caught_up += 1
        return case

    def _load(self, case_id: UUID) -> LiveCase:
        try:
            events = self._events_of(case_id)
        except CaseErasedError:
            raise CaseNotFoundError(str(case_id)) from None  # see the module's docstring
        aggregate = project_aggregate(None, events)
        case = LiveCase(aggregate, self.track, self.rules, fresh=True, scrub=self._scrub)
        case.advance([record_of(event, self.track) for event in events])
        return case
