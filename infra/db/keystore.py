"""The per-person key store in SQL (its own tables; point it at its own database in production)."""

from __future__ import annotations

from datetime import UTC, datetime

from infra.db.sql import Database
from services.keys import ErasedSubjectError

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS subject_keys (
        subject_ref TEXT PRIMARY KEY, data_key BYTEA, created_at TEXT NOT NULL, erased_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS case_subjects (
        case_id TEXT PRIMARY KEY, subject_ref TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS case_subjects_subject ON case_subjects (subject_ref)",
    """CREATE TABLE IF NOT EXISTS case_mentions (
        case_id TEXT NOT NULL, subject_ref TEXT NOT NULL, role TEXT NOT NULL,
        PRIMARY KEY (case_id, subject_ref, role))""",
]


KEY_TABLES = ("subject_keys", "case_subjects", "case_mentions")


class SqlKeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement if db.postgres else statement.replace("BYTEA", "BLOB"))

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
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT data_key, erased_at FROM subject_keys WHERE subject_ref = ?", (subject_ref,)
            ).fetchone()
            if row is None:
                tx.execute(
                    "INSERT INTO subject_keys (subject_ref, data_key, created_at) VALUES (?, ?, ?)",
                    (subject_ref, key, _now()),
                )
                return key
        if row[1] is not None:
            raise ErasedSubjectError(subject_ref)
        return bytes(row[0])

    def link_case(self, case_id: str, subject_ref: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM case_subjects WHERE case_id = ?", (case_id,))
            tx.execute(
                "INSERT INTO case_subjects (case_id, subject_ref) VALUES (?, ?)", (case_id, subject_ref)
            )

    def mention(self, case_id: str, subject_ref: str, role: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM case_mentions WHERE case_id = ? AND subject_ref = ? AND role = ?",
                (case_id, subject_ref, role),
            )
            tx.execute(
                "INSERT INTO case_mentions (case_id, subject_ref, role) VALUES (?, ?, ?)",
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

    def subject_key(self, subject_ref: str) -> bytes | None:
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT data_key FROM subject_keys WHERE subject_ref = ?", (subject_ref,)
            ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def erase_subject(self, subject_ref: str) -> list[str]:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE subject_keys SET data_key = NULL, erased_at = ? WHERE subject_ref = ?",
                (_now(), subject_ref),
            )
        return self.cases_of(subject_ref)

    def cases_of(self, subject_ref: str) -> list[str]:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT case_id FROM case_subjects WHERE subject_ref = ?", (subject_ref,)
            ).fetchall()
        return [str(r[0]) for r in rows]


def _now() -> str:
    return datetime.now(UTC).isoformat()
