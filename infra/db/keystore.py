"""The per-person key store in SQL (its own tables; point it at its own database in production).

Besides the keys: which person each case is about (`case_subjects`; `key_ref` names an
earlier key generation of a person erased and then seen again), which other persons a case
names (`case_mentions`, guardians, with the time they were erased), and the erasure notices
every process follows (`erasures`; on PostgreSQL also a NOTIFY on `ruskontrakt_erasures`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from infra.db.sql import Database, _Tx, lock_schema

log = logging.getLogger("ruskontrakt.keys")
CHANNEL = "ruskontrakt_erasures"

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS subject_keys (
        subject_ref TEXT PRIMARY KEY, data_key BYTEA, created_at TEXT NOT NULL, erased_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS case_subjects (
        case_id TEXT PRIMARY KEY, subject_ref TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS case_subjects_subject ON case_subjects (subject_ref)",
    """CREATE TABLE IF NOT EXISTS case_mentions (
        case_id TEXT NOT NULL, subject_ref TEXT NOT NULL, role TEXT NOT NULL,
        PRIMARY KEY (case_id, subject_ref, role))""",
    "CREATE INDEX IF NOT EXISTS case_mentions_subject ON case_mentions (subject_ref)",
    """CREATE TABLE IF NOT EXISTS erasures (
        seq {serial} PRIMARY KEY, case_id TEXT NOT NULL, erased_at TEXT NOT NULL)""",
]
# Columns added after the tables first shipped: (table, column, type).
ADDED = [("case_subjects", "key_ref", "TEXT"), ("case_mentions", "erased_at", "TEXT")]
KEY_TABLES = ("subject_keys", "case_subjects", "case_mentions")


class SqlKeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        serial = "BIGSERIAL" if db.postgres else "INTEGER"  # SQLite: the rowid (notices stay)
        with db.transaction() as tx:
            lock_schema(tx)  # processes starting together create the tables one at a time
            for statement in SCHEMA:
                statement = statement.replace("{serial}", serial)
                tx.execute(statement if db.postgres else statement.replace("BYTEA", "BLOB"))
            for table, column, kind in ADDED:
                _add_column(tx, table, column, kind)

    def move_from(self, old: Database) -> int:
        """Take over the keys an older version kept beside the data (the embedded default
        before the keystore had its own file): copy them here, then drop them there and
        rewrite that file so no key bytes are left in its free pages. Idempotent, so a
        crash halfway or two processes starting at once leave every key in one place."""
        with old.transaction() as tx:
            if not old.has_table("subject_keys", tx):
                return 0
            rows = {}
            for table in KEY_TABLES:
                found = tx.execute(f"SELECT * FROM {table}").fetchall()
                rows[table] = ([d[0] for d in tx.cursor.description], found)
        with self.db.transaction() as tx:
            for table, (columns, found) in rows.items():
                if found:  # by name: this store may have columns the older one had not
                    names, marks = ", ".join(columns), ", ".join("?" * len(columns))
                    tx.executemany(
                        f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING", found
                    )
        with old.transaction() as tx:
            for table in KEY_TABLES:
                tx.execute(f"DROP TABLE IF EXISTS {table}")
        old.compact([])
        return len(rows["subject_keys"][1])

    def create_subject_key(self, subject_ref: str, key: bytes) -> bytes:
        """The person's current key, or `key` for a new person. A person erased before
        starts a new generation: the erased one and the cases it sealed are set aside under
        `<ref>#<n>` (still shredded, still listed as theirs) and `key` is the new one."""
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO subject_keys (subject_ref, data_key, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (subject_ref) DO NOTHING",
                (subject_ref, key, _now()),
            )
            lock = " FOR UPDATE" if tx.postgres else ""
            row = tx.execute(
                f"SELECT data_key, erased_at FROM subject_keys WHERE subject_ref = ?{lock}", (subject_ref,)
            ).fetchone()
            if row[1] is None:
                return bytes(row[0])
            generations = tx.execute(
                "SELECT COUNT(*) FROM subject_keys WHERE subject_ref LIKE ?", (f"{subject_ref}#%",)
            ).fetchone()[0]
            earlier = f"{subject_ref}#{int(generations) + 1}"
            tx.execute(
                "UPDATE subject_keys SET subject_ref = ? WHERE subject_ref = ?", (earlier, subject_ref)
            )
            tx.execute(
                "UPDATE case_subjects SET key_ref = ? WHERE subject_ref = ? AND key_ref IS NULL",
                (earlier, subject_ref),
            )
            tx.execute(
                "INSERT INTO subject_keys (subject_ref, data_key, created_at) VALUES (?, ?, ?)",
                (subject_ref, key, _now()),
            )
        return key

    def link_case(self, case_id: str, subject_ref: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM case_subjects WHERE case_id = ?", (case_id,))
            tx.execute(
                "INSERT INTO case_subjects (case_id, subject_ref) VALUES (?, ?)", (case_id, subject_ref)
            )

    def mention(self, case_id: str, subject_ref: str, role: str) -> None:
        with self.db.transaction() as tx:  # a mention once erased stays erased
            tx.execute(
                "INSERT INTO case_mentions (case_id, subject_ref, role) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (case_id, subject_ref, role),
            )

    def cases_mentioning(self, subject_ref: str) -> list[tuple[str, str]]:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT case_id, role FROM case_mentions WHERE subject_ref = ?", (subject_ref,)
            ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def subject_of_case(self, case_id: str) -> str | None:
        with self.db.transaction() as tx:
            row = tx.execute("SELECT subject_ref FROM case_subjects WHERE case_id = ?", (case_id,)).fetchone()
        return None if row is None else str(row[0])

    def case_key(self, case_id: str) -> bytes | None:
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT k.data_key FROM case_subjects c JOIN subject_keys k "
                "ON k.subject_ref = COALESCE(c.key_ref, c.subject_ref) WHERE c.case_id = ?",
                (case_id,),
            ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def erase_subject(self, subject_ref: str) -> list[str]:
        now = _now()
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE subject_keys SET data_key = NULL, erased_at = ? WHERE subject_ref = ?",
                (now, subject_ref),
            )
            tx.execute(
                "UPDATE case_mentions SET erased_at = ? WHERE subject_ref = ? AND erased_at IS NULL",
                (now, subject_ref),
            )
            own = [
                str(r[0])
                for r in tx.execute(
                    "SELECT case_id FROM case_subjects WHERE subject_ref = ? ORDER BY case_id", (subject_ref,)
                ).fetchall()
            ]
            named = [
                str(r[0])
                for r in tx.execute(
                    "SELECT DISTINCT case_id FROM case_mentions WHERE subject_ref = ? ORDER BY case_id",
                    (subject_ref,),
                ).fetchall()
            ]
            touched = list(dict.fromkeys(own + named))
            if touched:
                if tx.postgres:
                    # Notices numbered in commit order, as readers assume (`erasures_after`):
                    # an erasure that drew a lower number cannot commit after this one.
                    tx.execute("LOCK TABLE erasures IN EXCLUSIVE MODE")
                tx.executemany(
                    "INSERT INTO erasures (case_id, erased_at) VALUES (?, ?)", [(c, now) for c in touched]
                )
                if tx.postgres:
                    tx.execute(f"NOTIFY {CHANNEL}")  # delivered at commit
        return own

    def cases_of(self, subject_ref: str) -> list[str]:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT case_id FROM case_subjects WHERE subject_ref = ?", (subject_ref,)
            ).fetchall()
        return [str(r[0]) for r in rows]

    def erased_mentions(self, case_id: str) -> list[str]:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT DISTINCT subject_ref FROM case_mentions WHERE case_id = ? AND erased_at IS NOT NULL",
                (case_id,),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def cases_with_erased_mentions(self) -> list[str]:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT DISTINCT case_id FROM case_mentions WHERE erased_at IS NOT NULL"
            ).fetchall()
        return [str(r[0]) for r in rows]

    def erasures_after(self, seq: int) -> list[tuple[int, str]]:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT seq, case_id FROM erasures WHERE seq > ? ORDER BY seq", (seq,)
            ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def last_erasure(self) -> int:
        with self.db.transaction() as tx:
            row = tx.execute("SELECT MAX(seq) FROM erasures").fetchone()
        return int(row[0]) if row and row[0] is not None else 0


class PostgresErasureSignal:
    """Wakes a process's erasure watch the moment another process erases (LISTEN on the
    channel every erasure NOTIFYs). Used from the watch's one thread; polling remains the
    fallback, so a lost connection only delays a notice until the next poll."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None

    def wait(self, timeout: float) -> bool:
        import psycopg

        try:
            if self._conn is None:
                conn = psycopg.connect(self.url, autocommit=True)
                conn.execute(f"LISTEN {CHANNEL}")
                self._conn = conn
            return any(True for _ in self._conn.notifies(timeout=timeout, stop_after=1))
        except psycopg.Error:
            log.warning("listening for erasures failed; polling until it is back", exc_info=True)
            self.close()
            return False

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _add_column(tx: _Tx, table: str, column: str, kind: str) -> None:
    if tx.postgres:
        tx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
    elif column not in {r[1] for r in tx.execute(f"PRAGMA table_info({table})").fetchall()}:
        tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def _now() -> str:
    return datetime.now(UTC).isoformat()
