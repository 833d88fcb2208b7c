"""A minimal SQL connection for the service's own tables (idempotency keys, read models).

SQLite or PostgreSQL behind one interface: `?` placeholders are rewritten for psycopg.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from infra.db.urls import is_postgres, sqlite_path


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = is_postgres(url)
        self._lock = threading.Lock()
        if self.postgres:
            from psycopg_pool import ConnectionPool

            # Autocommit connections: `transaction()` still sends BEGIN and COMMIT itself, and
            # `statements()` needs neither.
            self._pool = ConnectionPool(url, min_size=1, max_size=10, open=True, kwargs={"autocommit": True})
        else:
            self._sqlite = sqlite3.connect(
                sqlite_path(url), check_same_thread=False, isolation_level=None, timeout=10
            )
            self._sqlite.execute("PRAGMA journal_mode=WAL")
            # Deleted rows are zeroed, so an erased key or purged row leaves no old bytes.
            self._sqlite.execute("PRAGMA secure_delete=ON")

    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        if self.postgres:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield _Tx(cur, postgres=True)
        else:
            with self._lock:
                cur = self._sqlite.cursor()
                cur.execute("BEGIN IMMEDIATE")
                try:
                    yield _Tx(cur, postgres=False)
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
                cur.execute("COMMIT")

    @contextmanager
    def statements(self) -> Iterator[_Tx]:
        """Statements outside a transaction, each atomic and (a write) durable on its own: for
        reads that need no snapshot across statements and for single-statement writes. On
        PostgreSQL one round trip per statement instead of BEGIN, statement, COMMIT."""
        if self.postgres:
            with self._pool.connection() as conn, conn.cursor() as cur:
                yield _Tx(cur, postgres=True)
        else:
            with self._lock:  # isolation_level=None: each statement commits by itself
                yield _Tx(self._sqlite.cursor(), postgres=False)

    def has_table(self, name: str, tx: _Tx) -> bool:
        if self.postgres:
            found = tx.execute("SELECT to_regclass(?)", (name,)).fetchone()
            return found is not None and found[0] is not None
        return (
            tx.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
            is not None
        )

    def compact(self, tables: list[str]) -> None:
        """Physically drop old row versions after an erasure (PostgreSQL VACUUM, SQLite WAL)."""
        if self.postgres:
            with self._pool.connection() as conn:
                conn.autocommit = True
                for table in tables:
                    conn.execute(f"VACUUM FULL {table}")
        else:
            with self._lock:
                self._sqlite.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._sqlite.execute("VACUUM")

    def close(self) -> None:
        if self.postgres:
            self._pool.close()
        else:
            self._sqlite.close()


class _Tx:
    def __init__(self, cursor: Any, postgres: bool) -> None:
        self.cursor = cursor
        self.postgres = postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Tx:
        self.cursor.execute(sql.replace("?", "%s") if self.postgres else sql, params)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cursor.executemany(sql.replace("?", "%s") if self.postgres else sql, rows)

    def fetchone(self) -> Any:
        return self.cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self.cursor.fetchall())


SCHEMA_LOCK = 7411  # one advisory lock for every table this service creates or alters


def lock_schema(tx: _Tx) -> None:
    """On PostgreSQL, hold the schema lock for the rest of the transaction: two processes
    running `CREATE TABLE IF NOT EXISTS` or `ALTER TABLE ... ADD COLUMN IF NOT EXISTS` at
    once can fail on each other (a duplicate type, a deadlock); on SQLite the write lock
    already serialises them."""
    if tx.postgres:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
