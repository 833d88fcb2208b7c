"""The PostgreSQL event store: eventsourcing's recorder, one round trip per save.

eventsourcing's default insert runs SET LOCAL, LOCK TABLE, NOTIFY, the INSERTs and the
COMMIT as a psycopg pipeline: about fourteen waits on the socket per transaction, most
of a save's CPU, and all of them while holding the table lock. Its database-function
insert is one statement in one round trip (autocommit), but leaves the table lock out.
This recorder keeps the function and puts the lock back, so both guarantees the relay
relies on stay: notification ids are issued in commit order (readers never pass over a
gap that is filled later) and each save is one atomic, durable transaction.

The function is named per table: eventsourcing names it after the id type only
(`es_insert_events_uuid`), so with two applications in one database the one created last
would receive the other's events.

A command's answer is logged in the same statement (`access_entries`): the access-log rows
are inserted by a data-modifying WITH clause around the function call, so logging what
the caller will see costs no second transaction and can never be missing for an answer
whose events committed.

A lost connection is retried as eventsourcing retries it, except that a retry first
checks whether the previous attempt committed (`insert_events`).

Processes that start together (the API, the relay and the projector) set the schema up one at
a time: PostgreSQL refuses concurrent CREATE TYPE / CREATE OR REPLACE FUNCTION of the same
object ("tuple concurrently updated").

Selected in `infra/db/urls.py` (APPLICATION_RECORDER_TOPIC, POSTGRES_ENABLE_DB_FUNCTIONS).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

# eventsourcing's errors: its connection context translates psycopg's into these
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier, Literal

from infra.db.access_log import COLUMNS, document_of, rows_of
from services.access import AccessEntry

INSERT_ATTEMPTS = 10  # as eventsourcing's own insert
RETRY_PAUSE_SECONDS = 0.2
SCHEMA_LOCK = 0x726B5F736368656D  # pg_advisory_lock key for the schema set-up ("rk_schem")


class LockingFunctionRecorder(PostgresApplicationRecorder):
    # Read by services/notification_reader.py: with the table lock, a visible notification id
    # proves every lower id committed or was rolled back for good, so a gap is skipped at
    # once instead of after the relay's gap timeout.
    serialises_writers = True
    # Read by services/sealed_application.py: `insert_events(..., access_entries=...)` stores them.
    stores_access_entries = True

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.pg_function_name_insert_events = f"rk_insert_{events_table_name}"
        self.sql_invoke_pg_function_insert_events = SQL(
            "SELECT * FROM {schema}.{insert_events}((%s))"
        ).format(
            schema=Identifier(self.datastore.schema),
            insert_events=Identifier(self.pg_function_name_insert_events),
        )
        # Rendered once: psycopg would compose an SQL object again on every execute. The
        # events go in binary (`%b`): as text, psycopg hex-encoded each sealed state and then
        # escaped it again inside the composite's text form, about 20 us of client CPU per
        # event, three quarters of dumping the statement's parameters (issue 20).
        self.sql_insert_only = self.sql_invoke_pg_function_insert_events.as_bytes().replace(
            b"((%s))", b"((%b))"
        )
        # The entries travel as one JSON document: as eight text arrays, psycopg's escaping
        # of every element cost more CPU than the rest of the statement.
        columns = SQL(", ").join(map(Identifier, COLUMNS))
        self.sql_insert_with_access_entries = (
            SQL(
                "WITH logged AS (INSERT INTO access_log ({columns}) SELECT {columns} "
                "FROM json_populate_recordset(NULL::access_log, %s::json)) "
                "SELECT * FROM {schema}.{insert_events}((%b))"
            )
            .format(
                columns=columns,
                schema=Identifier(self.datastore.schema),
                insert_events=Identifier(self.pg_function_name_insert_events),
            )
            .as_bytes()
        )
        self.sql_select_stored = (
            SQL(
                "SELECT notification_id, state FROM {schema}.{table} "
                "WHERE originator_id = %s AND originator_version = %s"
            )
            .format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
            .as_bytes()
        )
        # Where every save announces, at its commit, each case it wrote and the case's new
        # version ("<case id> <version>"), for the other API processes' caches
        # (`infra/db/case_news.py`).
        self.cases_channel = f"{self.channel_name}_cases"
        # The lock is held until the function's (implicit) transaction commits.
        self.sql_create_statements[self.create_insert_function_statement_index] = SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{insert_events}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
            "BEGIN "
            "SET LOCAL lock_timeout = '{lock_timeout}s'; "
            "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "RETURN QUERY INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
            "RETURNING notification_id; "
            "PERFORM pg_notify({cases_channel}, originator_id::text || ' ' || max(originator_version)) "
            "FROM unnest(events) GROUP BY originator_id; "
            "END; $BODY$"
        ).format(
            insert_events=Identifier(self.pg_function_name_insert_events),
            lock_timeout=self.datastore.lock_timeout,
            channel=Identifier(self.channel_name),
            cases_channel=Literal(self.cases_channel),
            event=Identifier(self.stored_event_type_name),
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        access_entries: Sequence[AccessEntry] = (),
        **kwargs: Any,
    ) -> Sequence[int] | None:
        """The events and, with them, the access-log entries of the command's answer.

        A lost connection is retried, as eventsourcing does, but a retry first looks whether
        the attempt before it committed after all (its answer lost on the way): sealed
        events are unique to the byte, so finding them stored means they are ours. Without
        that look the retry would meet its own events, the save would count as a conflict,
        and the command would run a second time on the reloaded case.
        """
        if kwargs.get("tracking") is not None:  # a process application's position: not used here
            return super().insert_events(stored_events, **kwargs)
        for attempt in range(1, INSERT_ATTEMPTS + 1):
            try:
                return self._insert(stored_events, access_entries)
            except (InterfaceError, OperationalError):
                if attempt == INSERT_ATTEMPTS:
                    raise
                time.sleep(RETRY_PAUSE_SECONDS)
                committed = self._committed_ids(stored_events)
                if committed is not None:
                    return committed
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _insert(
        self, stored_events: Sequence[StoredEvent], access_entries: Sequence[AccessEntry]
    ) -> list[int]:
        events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        if access_entries:
            statement = self.sql_insert_with_access_entries
            params: tuple[Any, ...] = (document_of(rows_of(list(access_entries))), events)
        else:
            statement, params = self.sql_insert_only, (events,)
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(statement, params, prepare=True)
            return [r[0] for r in curs.fetchall()]

    def _committed_ids(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The notification ids of exactly these events if they are stored, else None."""
        if not stored_events:
            return None
        ids = []
        try:
            with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
                for event in stored_events:
                    curs.execute(self.sql_select_stored, (event.originator_id, event.originator_version))
                    row = curs.fetchone()
                    if row is None or bytes(row[1]) != event.state:
                        return None  # not written, or written by another writer: insert again
                    ids.append(int(row[0]))
        except (InterfaceError, OperationalError):
            return None  # still unreachable: the next attempt will tell
        return ids

    def create_table(self) -> None:
        # A session lock on a connection of its own: eventsourcing sets the schema up in
        # several transactions on other connections of the pool.
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
            try:
                super().create_table()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
