"""The projector: internal events in, per-unit read models out, exactly once per case version.

Each batch is written in ONE SQL transaction together with the consumed positions (per
topic partition offset, or per notification log), and applied idempotently per case: a
record whose version is not above the case's applied version is a duplicate and skipped;
a gap (a version we never saw) is refetched from the event store. The per-case fold
state lives in memory and is checked against the applied version in the same
transaction, so another writer (a rebuild, a second projector) can never be overwritten
with stale state: the state is then rebuilt from the store first.

The Kafka consumer (infra/kafka/runners.py) and the in-process `InProcessProjection` (embedded
mode, the API process itself) both call `Projector.apply`: one code path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from cachetools import LRUCache

from domain.policy import Track
from domain.rules import Rules
from projections.read_model import CaseProjection, Change
from services.batching import BatchWriter
from services.keys import SubjectKeys
from services.messages import InternalMessage, internal_message, seal_json
from services.notification_reader import NotificationReader
from services.sealed_application import SealedApplication


@dataclass(frozen=True)
class Incoming:
    message: InternalMessage
    source: str  # a Kafka topic, or "log:<application>" in-process
    partition: int
    next_offset: int  # where to resume after this message


class ReadModelTx(Protocol):
    """One transaction's writes; each method takes all the rows of a batch at once."""

    def lock_cases(self, track: str, case_ids: Sequence[str]) -> dict[str, int]: ...
    def save_cases(self, rows: Sequence[tuple[str, str, int, str | None, list[str], int]]) -> None: ...
    def save_docs(self, rows: Sequence[tuple[str, str, str, str, bytes]]) -> None: ...
    def save_rows(self, rows: Sequence[tuple[str, str, str, dict[str, Any], bytes | None]]) -> None: ...
    def save_consents(self, registers: dict[str, list[dict[str, Any]]]) -> None: ...
    def save_positions(self, rows: Sequence[tuple[str, str, int, int, str, int]]) -> None: ...
    def pipelined(self) -> AbstractContextManager[None]: ...


@dataclass
class _Writes:
    """The rows of one batch, gathered per table and written together at the end."""

    cases: list[tuple[str, str, int, str | None, list[str], int]] = field(default_factory=list)
    docs: list[tuple[str, str, str, str, bytes]] = field(default_factory=list)
    rows: list[tuple[str, str, str, dict[str, Any], bytes | None]] = field(default_factory=list)
    consents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def write(self, tx: ReadModelTx) -> None:
        tx.save_cases(self.cases)
        tx.save_docs(self.docs)
        tx.save_rows(self.rows)
        tx.save_consents(self.consents)


class ReadModelStore(Protocol):
    def transaction(self) -> AbstractContextManager[ReadModelTx]: ...
    def position(self, consumer: str, source: str, partition: int = 0) -> int: ...


def doc_aad(viewer: str, case_id: str) -> bytes:
    """What a sealed document is bound to: its viewer's key and its case."""
    return f"read-model|{viewer}|{case_id}".encode()


def row_aad(viewer: str, case_id: str) -> bytes:
    """What a worklist row's sealed name is bound to."""
    return f"worklist|{viewer}|{case_id}".encode()


def partition_of(case_id: str, partitions: int) -> int:
    """Which of `partitions` a case belongs to (a rebuild split over processes)."""
    return UUID(case_id).int % partitions


class Projector:
    def __init__(
        self,
        apps: Sequence[SealedApplication],
        store: ReadModelStore,
        keys: SubjectKeys,
        rules: Rules,
        consumer: str,
        max_cases: int = 20_000,
        partition: tuple[int, int] = (0, 1),
    ) -> None:
        """`partition` (i, n): project only the cases of partition i of n, so n processes
        can share a rebuild (cases are independent); the others are passed over."""
        self.apps = {a.track.value: a for a in apps}
        self.store, self.keys, self.rules, self.consumer = store, keys, rules, consumer
        self.max_cases = max_cases
        self.partition = partition
        # The fold state of the cases seen last. `forget` comes from the thread that erased
        # (while another may be applying) and cachetools caches are not thread-safe, so every
        # access is under `_lock`; the folding itself is not.
        self._cases: LRUCache[str, CaseProjection] = LRUCache(max_cases)
        self._lock = threading.Lock()
        self.applied = 0  # records applied by this process (for progress and tests)
        keys.on_erased(self.forget)  # whichever process erased

    def apply(self, batch: Sequence[Incoming]) -> None:
        if not batch:
            return
        # Fetch the data keys first: the key store may share the read models' database, and
        # SQLite allows one transaction at a time per connection (decrypting inside it would
        # wait on itself). The keys stay cached while the batch is applied.
        owned = [item for item in batch if self._owns(item.message.case_id)]
        for case_id in {item.message.case_id for item in owned}:
            self.keys.key_for_case(case_id)
        try:
            with self.store.transaction() as tx:
                self._apply(tx, batch, owned)
        except BaseException:
            # Their in-memory state may be ahead of what was committed.
            self.forget([item.message.case_id for item in batch])
            raise

    def forget(self, case_ids: Sequence[str]) -> None:
        """Drop in-memory state (after an erasure: it holds the person's plaintext)."""
        with self._lock:
            for case_id in case_ids:
                self._cases.pop(case_id, None)

    def refresh(self, case_ids: Sequence[str]) -> None:
        """Write the cases' documents and rows again from the store, as they read now (after
        a guardian's erasure: `SubjectKeys.scrub` shows them as a placeholder). The consumed
        positions stay: any consumer may do this while the others go on."""
        self.forget(case_ids)
        tracks = {case_id: self._track_of(case_id) for case_id in case_ids}
        for case_id in case_ids:
            self.keys.key_for_case(case_id)  # before the transaction, as in `apply`
        with self.store.transaction() as tx:
            writes = _Writes()
            for track in {t for t in tracks.values() if t is not None}:
                ids = sorted(c for c, t in tracks.items() if t == track)
                for case_id, version in tx.lock_cases(track, ids).items():
                    if not version:
                        continue  # not projected yet: it will be, as it reads now
                    case = self._case(track, case_id, version)
                    every = set(case.folds)
                    self._write(writes, case, Change(docs=every, rows=every, consents=True), 0)
            with tx.pipelined():
                writes.write(tx)

    def _track_of(self, case_id: str) -> str | None:
        for track, app in self.apps.items():
            if app.recorder.select_events(UUID(case_id), limit=1):
                return track
        return None

    def _apply(self, tx: ReadModelTx, batch: Sequence[Incoming], owned: Sequence[Incoming]) -> None:
        """Project the `owned` items of the batch; every item of it counts as consumed."""
        applied: dict[str, int] = {}
        for track in {i.message.track for i in owned}:
            ids = sorted({i.message.case_id for i in owned if i.message.track == track})
            applied.update(tx.lock_cases(track, ids))
        dirty: dict[str, tuple[CaseProjection, Change, int]] = {}
        positions = {(item.source, item.partition): item for item in batch}  # the last one of each
        for item in owned:
            message = item.message
            case = self._case(message.track, message.case_id, applied.get(message.case_id, 0))
            if message.version <= case.version:
                continue  # a duplicate (relay re-publication, consumer replay): already applied
            for record_message in self._with_missing(case, message):
                record = self.apps[message.track].record_or_placeholder(record_message.stored_event())
                change = case.apply(self.keys.scrub(record))
                created = message.notification_id if case.version == 1 else 0
                _merge(dirty, case, change, created)
                self.applied += 1
            applied[message.case_id] = case.version
        writes = _Writes()
        for case, change, created in dirty.values():
            self._write(writes, case, change, created)
        with tx.pipelined():
            writes.write(tx)
            tx.save_positions(
                [
                    (
                        self.consumer,
                        source,
                        partition,
                        item.next_offset,
                        item.message.track,
                        item.message.notification_id,
                    )
                    for (source, partition), item in positions.items()
                ]
            )

    def _owns(self, case_id: str) -> bool:
        index, partitions = self.partition
        return partitions == 1 or partition_of(case_id, partitions) == index

    def _with_missing(self, case: CaseProjection, message: InternalMessage) -> Iterator[InternalMessage]:
        """The message, preceded by any versions we never received (refetched from the store)."""
        if message.version > case.version + 1:
            app = self.apps[message.track]
            for stored in app.recorder.select_events(
                UUID(message.case_id), gt=case.version, lte=message.version - 1
            ):
                yield internal_message(app.track, stored, message.notification_id)
        yield message

    def _write(self, writes: _Writes, case: CaseProjection, change: Change, created: int) -> None:
        track = case.track.value
        writes.cases.append((track, case.case_id, case.version, case.status, sorted(case.types), created))
        key = self.keys.key_for_case(case.case_id)
        if key is None:
            # An erased person: only the progress row (no personal data) is kept, so the case
            # never comes back into a view, a worklist or the consent register.
            return
        for viewer in change.docs:
            fold = case.folds[viewer]
            writes.docs.append(
                (
                    viewer.key,
                    track,
                    case.case_id,
                    fold.get("policy_version", ""),
                    seal_json(fold, key, doc_aad(viewer.key, case.case_id)),
                )
            )
        for viewer in change.rows:
            row = case.row(viewer)
            name = row.pop("name", None)  # identity: sealed like the documents
            sealed = seal_json(name, key, row_aad(viewer.key, case.case_id)) if name else None
            writes.rows.append((viewer.key, track, case.case_id, row, sealed))
        if change.consents and case.track is Track.CONTRACT:
            writes.consents[case.case_id] = case.consent_rows()

    def _case(self, track: str, case_id: str, applied: int) -> CaseProjection:
        """The case's fold state at exactly the applied version, rebuilt from the store if needed."""
        with self._lock:
            case = self._cases.get(case_id)
        if case is not None and case.version == applied:
            return case
        app = self.apps[track]
        case = CaseProjection(app.track, case_id, self.rules)
        for stored in app.recorder.select_events(UUID(case_id), lte=applied) if applied else []:
            case.apply(self.keys.scrub(app.record_or_placeholder(stored)))
        with self._lock:
            self._cases[case_id] = case  # the least recently used case goes when full
        return case


def _merge(
    dirty: dict[str, tuple[CaseProjection, Change, int]], case: CaseProjection, change: Change, created: int
) -> None:
    if case.case_id in dirty:
        _, seen, first = dirty[case.case_id]
        seen.docs |= change.docs
        seen.rows |= change.rows
        seen.consents |= change.consents
        dirty[case.case_id] = (case, seen, first or created)
    else:
        dirty[case.case_id] = (case, change, created)


class InProcessProjection:
    """Embedded mode: the projector fed straight from the notification logs, in-process.

    `catch_up` runs synchronously after each command and before each query, so reads in
    embedded mode always see every committed event (read-your-writes is immediate).
    """

    def __init__(
        self,
        projector: Projector,
        apps: Sequence[SealedApplication],
        gap_timeout: float = 5.0,
        batch: int = 500,
    ) -> None:
        self.projector = projector
        self.apps = list(apps)
        self.batch = batch
        self.readers = {a.name: NotificationReader(a.recorder, gap_timeout) for a in self.apps}
        self._lock = threading.Lock()
        # Per log, the position after which this process last found nothing to apply: a
        # read whose logs end there has nothing to wait for (`current`).
        self._applied: dict[str, int] = {}
        self._checks: BatchWriter[Track | None, None] = BatchWriter(self._check, "catch-up check")

    def current(self, track: Track | None = None) -> None:
        """Returns once every notification of `track`'s log (every log: None) committed
        before the call is applied: what a read of that track needs (read-your-writes,
        whichever process wrote; a track's read models hold only its own events). Cheaper
        than `catch_up`: concurrent reads share one look at the logs' last ids (a look that
        starts after they asked), and the projection runs here only when a log has
        something this process has not applied; usually the background thread did that."""
        self._checks.submit(track)

    def applied(self, track: Track) -> int:
        """The position in `track`'s log after which this process last found nothing to apply
        (-1: not looked yet). Everything up to it is in the read models, committed."""
        return min((self._applied.get(a.name, -1) for a in self.apps if a.track is track), default=-1)

    def _check(self, batch: list[Track | None]) -> list[None]:
        tracks = set(batch)
        looked = [a for a in self.apps if None in tracks or a.track in tracks]
        if any(self.readers[a.name].last_id() > self._applied.get(a.name, -1) for a in looked):
            self.catch_up()
        return [None] * len(batch)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        done = 0
        with self._lock:
            for app in self.apps:
                source = f"log:{app.name}"
                while True:
                    after = self.projector.store.position(self.projector.consumer, source)
                    notifications = self.readers[app.name].read(after, self.batch)
                    if not notifications:
                        self._applied[app.name] = after
                        break
                    self.projector.apply(
                        [
                            Incoming(internal_message(app.track, n, n.id), source, 0, n.id)
                            for n in notifications
                        ]
                    )
                    done += len(notifications)
                    if progress:
                        progress(len(notifications))
        return done

    def lag(self) -> Mapping[str, int]:
        return {
            a.name: max(
                0,
                self.readers[a.name].last_id()
                - self.projector.store.position(self.projector.consumer, f"log:{a.name}"),
            )
            for a in self.apps
        }
