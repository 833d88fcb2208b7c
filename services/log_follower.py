"""Following an application's notification log without losing or stalling on gaps.

Notification ids can have gaps: in PostgreSQL a rolled-back insert (a version conflict)
has already drawn its ids from the sequence. A reader must neither stall on such a gap
for ever nor skip an id that a still-open transaction will commit later.

Choice: eventsourcing's PostgreSQL recorder takes `LOCK TABLE ... IN EXCLUSIVE MODE`
inside every inserting transaction, so ids are drawn and committed in one order: when a
query sees id N, every lower id is either visible in the same query or was rolled back
and will never appear. Behind such a recorder (and SQLite, whose writers are serialised
by the database lock and whose rowids are not consumed by a rollback) a gap below a
visible id is skipped at once. For any recorder that does not serialise its writers
(e.g. `POSTGRES_ENABLE_DB_FUNCTIONS`, which inserts without the table lock) a gap is
skipped only once it is older than `gap_timeout` seconds, long after any commit that
could still fill it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from eventsourcing.persistence import ApplicationRecorder, Notification


def serialises_writers(recorder: ApplicationRecorder) -> bool:
    """True when a visible notification id proves every lower id is final."""
    module = type(recorder).__module__
    if module.startswith("eventsourcing.sqlite"):
        return True
    if module.startswith("eventsourcing.postgres"):
        datastore = getattr(recorder, "datastore", None)
        locks = getattr(recorder, "lock_table_statements", [])
        return bool(locks) and not getattr(datastore, "enable_db_functions", True)
    return False


class LogFollower:
    def __init__(self, recorder: ApplicationRecorder, gap_timeout: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.recorder = recorder
        self.gap_timeout = 0.0 if serialises_writers(recorder) else gap_timeout
        self.clock = clock
        self._gaps: dict[int, float] = {}  # first missing id -> when it was first seen

    def read(self, after: int, limit: int = 500) -> Sequence[Notification]:
        """The notifications after `after` that are safe to hand on, in id order."""
        section = self.recorder.select_notifications(start=after + 1, limit=limit)
        out: list[Notification] = []
        expected = after + 1
        for notification in section:
            if notification.id != expected and not self._settled(expected):
                break
            out.append(notification)
            expected = notification.id + 1
        return out

    def last_id(self) -> int:
        return self.recorder.max_notification_id() or 0

    def _settled(self, first_missing: int) -> bool:
        if self.gap_timeout <= 0:
            return True
        now = self.clock()
        seen = self._gaps.setdefault(first_missing, now)
        if now - seen < self.gap_timeout:
            return False
        del self._gaps[first_missing]
        return True
