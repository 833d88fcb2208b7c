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

Reading: on PostgreSQL one prepared SELECT with plain tuple rows in binary format. The
recorder's generic `select_notifications` (dict rows, text format) costs several times
more per row, and every event the relay publishes is read here first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeGuard

from eventsourcing.persistence import ApplicationRecorder, Notification
from eventsourcing.utils import retry

if TYPE_CHECKING:  # eventsourcing.postgres needs psycopg, imported only once it is in use
    from eventsourcing.postgres import PostgresApplicationRecorder

log = logging.getLogger("ruskontrakt.relay")
Select = Callable[[int, int], Sequence[Notification]]  # (first id, limit) -> notifications


def serialises_writers(recorder: ApplicationRecorder) -> bool:
    """True when a visible notification id proves every lower id is final.

    A recorder can say so itself (`serialises_writers = True`: infra/db/event_store.py,
    whose insert function takes the table lock); otherwise it is known of eventsourcing's
    own recorders only."""
    declared = getattr(recorder, "serialises_writers", None)
    if declared is not None:
        return bool(declared)
    if type(recorder).__module__.startswith("eventsourcing.sqlite"):
        return True
    if _postgres(recorder):
        datastore = getattr(recorder, "datastore", None)
        locks = getattr(recorder, "lock_table_statements", [])
        return bool(locks) and not getattr(datastore, "enable_db_functions", True)
    return False


def _postgres(recorder: ApplicationRecorder) -> TypeGuard[PostgresApplicationRecorder]:
    from eventsourcing.postgres import PostgresApplicationRecorder

    return isinstance(recorder, PostgresApplicationRecorder)


def selector(recorder: ApplicationRecorder) -> Select:
    """Notifications from an id on, in id order, as cheaply as the recorder allows."""
    if _postgres(recorder):
        return _postgres_selector(recorder)
    return lambda start, limit: recorder.select_notifications(start=start, limit=limit)


def _postgres_selector(recorder: PostgresApplicationRecorder) -> Select:
    from eventsourcing.persistence import InterfaceError, OperationalError
    from psycopg.rows import tuple_row
    from psycopg.sql import SQL, Identifier

    datastore = recorder.datastore
    statement = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state "
        "FROM {}.{} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
    ).format(Identifier(datastore.schema), Identifier(recorder.events_table_name))

    def select(start: int, limit: int) -> Sequence[Notification]:
        with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(statement, (start, limit), prepare=True, binary=True)
            return [
                Notification(id=r[0], originator_id=r[1], originator_version=r[2], topic=r[3], state=r[4])
                for r in cur.fetchall()
            ]

    # The recorder's own select retries these the same way (a restarted server, a dropped
    # pooled connection). `retry` is annotated as returning Any; this is its decorated `select`.
    retried: Select = retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)(select)
    return retried


class NotificationReader:
    def __init__(
        self,
        recorder: ApplicationRecorder,
        gap_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recorder = recorder
        self.gap_timeout = 0.0 if serialises_writers(recorder) else gap_timeout
        self.clock = clock
        self._select = selector(recorder)
        self._gaps: dict[int, float] = {}  # first missing id -> when it was first seen

    def read(self, after: int, limit: int = 500) -> Sequence[Notification]:
        """The notifications after `after` that are safe to hand on, in id order."""
        section = self._select(after + 1, limit)
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


class LogAnnouncements:
    """Tells a follower which notification logs have news, as soon as they have.

    eventsourcing's PostgreSQL recorders NOTIFY on their channel with every insert; one
    thread per recorder LISTENs. Polling stays the fallback (SQLite has no NOTIFY, and a
    lost listening connection is retried), so an announcement is only ever early, never
    needed for correctness. `take()` before reading, `wait()` after finding nothing: an
    announcement that arrives in between makes `wait()` return at once.
    """

    def __init__(self, recorders: Mapping[str, ApplicationRecorder]) -> None:
        self._event = threading.Event()
        self._stopped = threading.Event()
        self._news: set[str] = set()
        self._lock = threading.Lock()
        listening = {name: r for name, r in recorders.items() if _postgres(r)}
        self.available = bool(listening) and len(listening) == len(recorders)
        self._threads = [
            threading.Thread(target=self._listen, args=(name, r), daemon=True, name=f"listen-{name}")
            for name, r in listening.items()
        ]
        for thread in self._threads:
            thread.start()

    def take(self) -> set[str] | None:
        """The logs announced since the last call (None: announcements are not available,
        read them all)."""
        with self._lock:
            news, self._news = self._news, set()
            self._event.clear()
        return news if self.available else None

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)

    def close(self) -> None:
        self._stopped.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _listen(self, name: str, recorder: PostgresApplicationRecorder) -> None:
        from psycopg.sql import SQL, Identifier

        while not self._stopped.is_set():
            try:
                with recorder.datastore.get_connection() as conn:  # autocommit, as the pool makes them
                    conn.execute(SQL("LISTEN {}").format(Identifier(recorder.channel_name)))
                    while not self._stopped.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            with self._lock:
                                self._news.add(name)
                                self._event.set()
            except Exception:
                log.warning("listening for %s failed; polling until it is back", name, exc_info=True)
                self._stopped.wait(1.0)
