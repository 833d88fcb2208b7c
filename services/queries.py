"""The query side: worklists and case views, answered from the read models.

The read models are written by the projector (`services/projector.py`): in Kafka mode by
`ruskontrakt project`, in embedded mode by this process, which makes sure before every
read that every committed event is applied (`InProcessProjection.current`: one look at
the logs' last ids, shared by concurrent reads; the projection itself runs only when
something is new). Case documents are stored sealed under the case's key and opened here
for the caller. Each query decides permission, answers only what the caller's agency may
know (404 otherwise) and logs what it shows before it answers — whichever edge asked.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar
from uuid import UUID

from cachetools import LRUCache

from domain.calendar import local_day
from domain.deadlines import is_overdue
from domain.need_to_know import Viewer
from domain.permissions import Table
from domain.policy import Track
from domain.rules import Rules
from projections.read_model import present
from services.access import AccessRecorder, LoggedRead
from services.context import Context
from services.errors import CaseErasedError, CaseNotFoundError, InvalidCursorError
from services.explicit_access import ExplicitAccess
from services.keys import SubjectKeys
from services.messages import open_json
from services.projector import doc_aad, row_aad
from services.sealed_application import require

_T = TypeVar("_T")


@dataclass(frozen=True)
class Page:
    """Which worklist rows to read: filters (days as ISO text) and where a page starts."""

    status: str | None = None
    due_before: str | None = None  # overdue: the next deadline before this day
    due_from: str | None = None  # not overdue: the next deadline on this day or later
    due_by: str | None = None  # due within N days: the next deadline on or before this day
    assigned_to: str | None = None  # a team member's `sub`
    after: tuple[str, str] | None = None  # the cursor: (next_deadline, case_id)
    limit: int | None = None


class StoredCaseDoc(Protocol):
    version: int
    status: str | None
    types: list[str]
    sealed: bytes
    log_end: int | None  # the track's log's last id when read along (embedded, PostgreSQL)


class ReadModelReader(Protocol):
    """What the queries read (`infra/db/read_models.py`)."""

    def view(self, agency: str, case_id: str, track: str) -> StoredCaseDoc | None: ...

    # Whether `rows` can write the access-log entries of what it reads (`LoggedRead`).
    logs_reads: bool

    def rows(
        self, agency: str, track: str, page: Page | None = None, logged: LoggedRead | None = None
    ) -> list[dict[str, Any]]:
        """Where `logs_reads`, with `logged` each row carries `_logged`: how many entries
        the read wrote."""

    def track_position(self, track: str) -> int: ...


class Freshness:
    """Makes the read models current enough to answer a query.

    Embedded mode makes the read models current in-process before every read (immediate
    read-your-writes; `catch_up` is `InProcessProjection.current`).
    With Kafka the projector is another process: a query that names a `min_position` (a
    command's answer) waits, bounded, until the read models have applied it.
    """

    def __init__(
        self,
        read_models: ReadModelReader,
        catch_up: Callable[[Track], object] | None,
        wait_seconds: float,
        applied: Callable[[Track], int] | None = None,
    ) -> None:
        """`applied(track)`: embedded mode's position after which this process has applied
        nothing (`InProcessProjection.applied`), for reads that see their log's end."""
        self.read_models = read_models
        self.catch_up = catch_up
        self.wait_seconds = wait_seconds
        self.applied = applied

    def read(
        self,
        track: Track,
        min_position: int | None,
        read: Callable[[], _T],
        log_end: Callable[[_T], int | None],
    ) -> _T:
        """`read()` from read models current enough, as after `ensure`; in one round trip
        when the read also gives its log's last id (`log_end`, embedded on PostgreSQL) and
        that id was applied before the read began: everything up to it was then committed
        to the read models before the read's snapshot. Otherwise (something new, nothing
        found, no id) the read models are made current and it is read again."""
        if self.applied is not None and self.catch_up is not None:
            before = self.applied(track)  # before the read: see the docstring
            found = read()
            end = log_end(found)
            if end is not None and end <= before:
                return found
        self.ensure(track, min_position)
        return read()

    def read_logged(
        self, track: Track, min_position: int | None, read: Callable[[int | None], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """`read` as `read` above, for a read that writes the access-log entries of its rows
        in its own statement: `read(before)` writes them only when what it read is current
        by `before` (and so is what is shown), `read(None)` always. A read thrown away as
        stale has logged nothing, and nothing is logged twice."""
        if self.applied is not None and self.catch_up is not None:
            found = read(self.applied(track))
            if found and found[0]["_logged"]:
                return found  # current, and logged
        self.ensure(track, min_position)
        return read(None)

    def ensure(self, track: Track, min_position: int | None) -> bool:
        """False when the read models did not get there in time (the query answers anyway)."""
        if self.catch_up is not None:
            self.catch_up(track)
            return True
        if not min_position:
            return True
        return self.wait_for(track, min_position, self.wait_seconds)

    def wait_for(self, track: Track, position: int, timeout: float) -> bool:
        # The read models are this project's own tables, not an eventsourcing
        # TrackingRecorder, so there is no notification to wait on: poll with a backoff.
        deadline = time.monotonic() + timeout
        pause = 0.002
        while self.read_models.track_position(track.value) < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        return True


MAX_PAGE = 500
CACHED_NAMES = 50_000  # cases; a name and its sealed bytes are about 200 bytes


class OpenedNames:
    """The worklist's opened names, kept while their sealed bytes are what the row holds.

    A page shows 50 names, each sealed under its case's key; opening them (AES-GCM and
    JSON) was a third of a page's CPU. Never a way around erasure: a name is only handed
    out after the case's key was found (`SubjectKeys.key_for_case`, which forgets an erased
    person's key within the erasure notice's second), and the erasure notices drop the
    cases' names here too. A row projected again (a new seal, a new nonce) is a miss.
    """

    def __init__(self, keys: SubjectKeys) -> None:
        self.keys = keys
        self._names: LRUCache[str, dict[str, tuple[bytes, str | None]]] = LRUCache(CACHED_NAMES)
        self._lock = threading.Lock()
        keys.on_erased(self.forget)

    def name(self, case_id: str, viewer_key: str, sealed: bytes) -> str | None:
        key = self.keys.key_for_case(case_id)
        if key is None:
            return None
        with self._lock:
            held = self._names.get(case_id, {}).get(viewer_key)
        if held is not None and held[0] == sealed:
            return held[1]
        return self._open(case_id, viewer_key, sealed, key)

    def names(self, viewer_key: str, sealed: Mapping[str, bytes]) -> dict[str, str | None]:
        """`name` of a page's rows (case id -> its sealed name), each cache locked once."""
        keys = self.keys.keys_for_cases(list(sealed))
        out: dict[str, str | None] = {}
        with self._lock:
            for case_id, seal in sealed.items():
                held = self._names.get(case_id, {}).get(viewer_key) if keys[case_id] is not None else None
                if held is not None and held[0] == seal:
                    out[case_id] = held[1]
        for case_id, seal in sealed.items():
            if case_id not in out:
                key = keys[case_id]
                out[case_id] = self._open(case_id, viewer_key, seal, key) if key is not None else None
        return out

    def _open(self, case_id: str, viewer_key: str, sealed: bytes, key: bytes) -> str | None:
        name: str | None = open_json(sealed, key, row_aad(viewer_key, case_id))
        with self._lock:
            self._names.setdefault(case_id, {})[viewer_key] = (sealed, name)
        return name

    def forget(self, case_ids: list[str]) -> None:
        with self._lock:
            for case_id in case_ids:
                self._names.pop(case_id, None)


@dataclass(frozen=True)
class WorklistQuery:
    """The worklist's filters and page (docs/api.md `GET /contracts`)."""

    status: str | None = None
    overdue: bool | None = None
    due_within_days: int | None = None
    assigned_to_me: bool = False
    limit: int | None = 50  # None: every row (the CLI, tests)
    cursor: str | None = None

    def page(self, today: date, sub: str) -> Page:
        due_before = due_from = due_by = None
        if self.overdue is True:
            due_before = today.isoformat()
        elif self.overdue is False:
            due_from = today.isoformat()
        if self.due_within_days is not None:
            due_by = (today + timedelta(days=self.due_within_days)).isoformat()
        return Page(
            status=self.status,
            due_before=due_before,
            due_from=due_from,
            due_by=due_by,
            assigned_to=sub if self.assigned_to_me else None,
            after=decode_cursor(self.cursor) if self.cursor else None,
            limit=self.limit + 1 if self.limit is not None else None,  # one more: is there a next page?
        )


@dataclass(frozen=True)
class Worklist:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(position: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """Where the page starts; a cursor not made by `encode_cursor` is refused (422)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        day, case_id = raw
        if not (isinstance(day, str) and isinstance(case_id, str)):
            raise ValueError(cursor)
        return day, case_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursorError("the cursor is not one this service gave out") from None


class CaseQueries:
    """The worklist and case view of one track, for the caller's agency."""

    def __init__(
        self,
        track: Track,
        table: Table,
        read_models: ReadModelReader,
        keys: SubjectKeys,
        access: AccessRecorder,
        freshness: Freshness,
        rules: Rules,
        explicit: ExplicitAccess | None = None,
    ) -> None:
        """`explicit`: the explicit accesses that open a case to an unrelated unit (contracts)."""
        self.rules = rules
        self.explicit = explicit
        self.track = track
        self.table = table
        self.read_models = read_models
        self.keys = keys
        self.access = access
        self.freshness = freshness
        self.names = OpenedNames(keys)
        # The access log's names for these reads, kept as they were: auditors query by them.
        self._names = (
            ("worklist", "case_view")
            if track is Track.CONTRACT
            else ("prevention_worklist", "prevention_case_view")
        )

    def case_view(self, case_id: UUID, ctx: Context, min_position: int | None = None) -> dict[str, Any]:
        """The case with exactly the fields the caller's unit may see (404 otherwise: an
        unrelated unit learns nothing, not even that the case exists)."""
        require(ctx, "case_view", self.table)
        viewer = ctx.viewer(self.track)
        if viewer is None:
            self.freshness.ensure(self.track, min_position)
            doc = None
        else:
            stored = self.freshness.read(
                self.track,
                min_position,
                lambda: self.read_models.view(viewer.key, str(case_id), self.track.value),
                lambda found: found.log_end if found is not None else None,
            )
            doc = self._opened(stored, case_id, viewer, ctx.at) if stored is not None else None
        if doc is None and self.explicit is not None:
            doc = self.explicit.granted_view(case_id, ctx)
        if doc is None:
            raise CaseNotFoundError(str(case_id))
        self.access.shown(ctx, self._names[1], [doc])
        return doc

    def worklist(
        self, ctx: Context, query: WorklistQuery | None = None, min_position: int | None = None
    ) -> Worklist:
        """One row per case the caller's unit may know, soonest deadline first, filtered and
        paged by `query`; `overdue` is judged on the Norwegian day of `ctx.at`."""
        require(ctx, "worklist", self.table)
        query = query or WorklistQuery(limit=None)
        viewer = ctx.viewer(self.track)
        page = query.page(local_day(ctx.at), ctx.sub)
        logged = False
        if viewer is None:
            self.freshness.ensure(self.track, min_position)
            rows = []
        elif self.read_models.logs_reads:
            # One statement reads the page and logs it: no second round trip, and no
            # access-log batch to wait for (a page logs one entry per case shown).
            stamp = self.access.stamp(ctx, self._names[0])
            rows = self.freshness.read_logged(
                self.track,
                min_position,
                lambda before: self.read_models.rows(
                    viewer.key, self.track.value, page, LoggedRead(stamp, query.limit, before)
                ),
            )
            logged = True
        else:
            rows = self.freshness.read(
                self.track,
                min_position,
                lambda: self.read_models.rows(viewer.key, self.track.value, page),
                lambda found: found[0].get("_log_end") if found else None,
            )
        more = query.limit is not None and len(rows) > query.limit
        rows = rows[: query.limit] if query.limit is not None else rows
        next_cursor = encode_cursor(rows[-1]["_cursor"]) if more else None
        today = local_day(ctx.at)
        sealed = {row["id"]: row.pop("_name") for row in rows}
        names = (
            self.names.names(viewer.key, {i: s for i, s in sealed.items() if s is not None})
            if viewer is not None and self.track is Track.CONTRACT
            else {}
        )
        for row in rows:
            row.pop("_cursor")
            row.pop("_log_end", None)
            row.pop("_logged", None)
            if self.track is Track.CONTRACT:
                row["overdue"] = is_overdue(_day(row.get("next_deadline")), today)
                row["assigned_to_me"] = ctx.sub in row.get("assigned", [])
                row["name"] = names.get(row["id"])
        if not logged:
            self.access.shown(ctx, self._names[0], rows)
        return Worklist(rows, next_cursor)

    def stored_view(self, case_id: UUID, viewer: Viewer, at: datetime | None = None) -> dict[str, Any] | None:
        """The read model's document of the case for `viewer`, opened, its actions judged at
        `at`; None if it may not know it.

        Not logged: for checks that show nothing (tests, benchmarks); queries log it."""
        stored = self.read_models.view(viewer.key, str(case_id), self.track.value)
        return self._opened(stored, case_id, viewer, at) if stored is not None else None

    def _opened(
        self, stored: StoredCaseDoc, case_id: UUID, viewer: Viewer, at: datetime | None
    ) -> dict[str, Any] | None:
        key = self.keys.key_for_case(str(case_id))
        if key is None:
            raise CaseErasedError(str(case_id))
        fold = open_json(stored.sealed, key, doc_aad(viewer.key, str(case_id)))
        return present(
            self.track, fold, stored.version, stored.status, stored.types, viewer.agency, self.rules, at
        )


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
