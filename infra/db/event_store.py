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

Processes that start together (the API, the relay and the projector) set the schema up one at
a time: PostgreSQL refuses concurrent CREATE TYPE / CREATE OR REPLACE FUNCTION of the same
object ("tuple concurrently updated").

Selected in `infra/db/urls.py` (APPLICATION_RECORDER_TOPIC, POSTGRES_ENABLE_DB_FUNCTIONS).
"""

from __future__ import annotations

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Identifier

SCHEMA_LOCK = 0x726B5F736368656D  # pg_advisory_lock key for the schema set-up ("rk_schem")


class LockingFunctionRecorder(PostgresApplicationRecorder):
    # Read by services/log_follower.py: with the table lock, a visible notification id
    # proves every lower id committed or was rolled back for good, so a gap is skipped at
    # once instead of after the relay's gap timeout.
    serialises_writers = True

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.pg_function_name_insert_events = f"rk_insert_{events_table_name}"
        self.sql_invoke_pg_function_insert_events = SQL(
            "SELECT * FROM {schema}.{insert_events}((%s))"
        ).format(
            schema=Identifier(self.datastore.schema),
            insert_events=Identifier(self.pg_function_name_insert_events),
        )
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
            "END; $BODY$"
        ).format(
            insert_events=Identifier(self.pg_function_name_insert_events),
            lock_timeout=self.datastore.lock_timeout,
            channel=Identifier(self.channel_name),
            event=Identifier(self.stored_event_type_name),
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )

    def create_table(self) -> None:
        # A session lock on a connection of its own: eventsourcing sets the schema up in
        # several transactions on other connections of the pool.
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
            try:
                super().create_table()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
