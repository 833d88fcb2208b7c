"""The read models in SQL: per-agency case views and worklists, the consent register,
the projector's consumed positions and the relay's published positions.

Case documents hold personal data, so they are stored sealed under the case's key
(`services.messages.seal_json`): erasing the person's key makes them unreadable like
the events. Worklist rows hold only workflow data (status, trinn, municipality,
deadline) and the policy version they were produced under.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from infra.db.sql import Database, _Tx

TABLES = ("rm_cases", "rm_case_views", "rm_worklist", "rm_consents", "rm_positions")
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS rm_cases (track TEXT NOT NULL, case_id TEXT NOT NULL,
        version BIGINT NOT NULL, status TEXT, types TEXT NOT NULL, created BIGINT NOT NULL,
        PRIMARY KEY (track, case_id))""",
    """CREATE TABLE IF NOT EXISTS rm_case_views (agency TEXT NOT NULL, case_id TEXT NOT NULL,
        track TEXT NOT NULL, policy_version TEXT NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY (agency, case_id))""",
    """CREATE TABLE IF NOT EXISTS rm_worklist (agency TEXT NOT NULL, case_id TEXT NOT NULL,
        track TEXT NOT NULL, policy_version TEXT, row_json TEXT NOT NULL,
        PRIMARY KEY (agency, case_id))""",
    """CREATE TABLE IF NOT EXISTS rm_consents (case_id TEXT NOT NULL, seq INTEGER NOT NULL,
        signatory TEXT NOT NULL, agency TEXT, category TEXT, consent_id TEXT NOT NULL,
        booklet_version TEXT NOT NULL, start_at TEXT NOT NULL, end_at TEXT,
        PRIMARY KEY (case_id, seq))""",
    """CREATE TABLE IF NOT EXISTS rm_positions (consumer TEXT NOT NULL, source TEXT NOT NULL,
        part INTEGER NOT NULL, next_offset BIGINT NOT NULL, track TEXT NOT NULL,
        notification_id BIGINT NOT NULL, PRIMARY KEY (consumer, source, part))""",
    """CREATE TABLE IF NOT EXISTS relay_positions (source TEXT PRIMARY KEY,
        notification_id BIGINT NOT NULL)""",
]


@dataclass(frozen=True)
class StoredView:
    track: str
    case_id: str
    version: int
    status: str | None
    types: list[str]
    policy_version: str
    sealed: bytes


class ReadModelWriter:
    """One transaction's writes (the projector's `ReadModelTx`)."""

    def __init__(self, tx: _Tx) -> None:
        self.tx = tx

    def lock_cases(self, track: str, case_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for case_id in case_ids:
            if self.tx.postgres:  # a row to lock, so concurrent writers of one case queue up
                self.tx.execute("INSERT INTO rm_cases VALUES (?, ?, 0, NULL, '[]', 0) "
                                "ON CONFLICT DO NOTHING", (track, case_id))  # fmt: skip
            lock = " FOR UPDATE" if self.tx.postgres else ""
            row = self.tx.execute("SELECT version FROM rm_cases WHERE track = ? AND case_id = ?"
                                  + lock, (track, case_id)).fetchone()  # fmt: skip
            out[case_id] = int(row[0]) if row else 0
        return out

    def save_case(self, track: str, case_id: str, version: int, status: str | None,
                  types: list[str], created: int) -> None:  # fmt: skip
        self.tx.execute(
            "INSERT INTO rm_cases VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (track, case_id) DO UPDATE "
            "SET version = excluded.version, status = excluded.status, types = excluded.types, "
            "created = CASE WHEN rm_cases.created = 0 THEN excluded.created ELSE rm_cases.created END",
            (track, case_id, version, status, json.dumps(types), created))  # fmt: skip

    def save_doc(self, agency: str, track: str, case_id: str, policy_version: str, sealed: bytes) -> None:
        self.tx.execute(
            "INSERT INTO rm_case_views VALUES (?, ?, ?, ?, ?) ON CONFLICT (agency, case_id) "
            "DO UPDATE SET policy_version = excluded.policy_version, doc = excluded.doc",
            (agency, case_id, track, policy_version, sealed.hex()))  # fmt: skip

    def save_row(self, agency: str, track: str, case_id: str, row: dict[str, Any]) -> None:
        self.tx.execute(
            "INSERT INTO rm_worklist VALUES (?, ?, ?, ?, ?) ON CONFLICT (agency, case_id) "
            "DO UPDATE SET policy_version = excluded.policy_version, row_json = excluded.row_json",
            (agency, case_id, track, row.get("policy_version"), json.dumps(row)))  # fmt: skip

    def save_consents(self, case_id: str, rows: list[dict[str, Any]]) -> None:
        self.tx.execute("DELETE FROM rm_consents WHERE case_id = ?", (case_id,))
        for seq, r in enumerate(rows):
            self.tx.execute("INSERT INTO rm_consents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (case_id, seq, r["signatory"], r["agency"], r["category"],
                             r["consent_id"], r["booklet_version"], r["start"], r["end"]))  # fmt: skip

    def save_position(self, consumer: str, source: str, partition: int, next_offset: int,
                      track: str, notification_id: int) -> None:  # fmt: skip
        self.tx.execute(
            "INSERT INTO rm_positions VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (consumer, source, part) "
            "DO UPDATE SET next_offset = excluded.next_offset, "
            "notification_id = excluded.notification_id",
            (consumer, source, partition, next_offset, track, notification_id))  # fmt: skip


class ReadModels:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)
            tx.execute("CREATE INDEX IF NOT EXISTS rm_worklist_agency ON rm_worklist (agency, track)")

    @contextmanager
    def transaction(self) -> Iterator[ReadModelWriter]:
        with self.db.transaction() as tx:
            yield ReadModelWriter(tx)

    # -- positions ------------------------------------------------------------------------

    def position(self, consumer: str, source: str, partition: int = 0) -> int:
        with self.db.transaction() as tx:
            row = tx.execute("SELECT next_offset FROM rm_positions WHERE consumer = ? AND source = ? "
                             "AND part = ?", (consumer, source, partition)).fetchone()  # fmt: skip
        return int(row[0]) if row else 0

    def track_position(self, track: str) -> int:
        """Every notification of the track up to this id has been applied (by some consumer)."""
        with self.db.transaction() as tx:
            row = tx.execute("SELECT MAX(notification_id) FROM rm_positions WHERE track = ?",
                             (track,)).fetchone()  # fmt: skip
        return int(row[0]) if row and row[0] is not None else 0

    def relay_position(self, source: str) -> int:
        with self.db.transaction() as tx:
            row = tx.execute("SELECT notification_id FROM relay_positions WHERE source = ?",
                             (source,)).fetchone()  # fmt: skip
        return int(row[0]) if row else 0

    def save_relay_position(self, source: str, notification_id: int) -> None:
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO relay_positions VALUES (?, ?) ON CONFLICT (source) DO UPDATE "
                       "SET notification_id = excluded.notification_id", (source, notification_id))

    # -- reads ----------------------------------------------------------------------------

    def view(self, agency: str, case_id: str, track: str) -> StoredView | None:
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT c.version, c.status, c.types, v.policy_version, v.doc FROM rm_case_views v "
                "JOIN rm_cases c ON c.case_id = v.case_id AND c.track = v.track "
                "WHERE v.agency = ? AND v.case_id = ? AND v.track = ?", (agency, case_id, track),
            ).fetchone()  # fmt: skip
        if row is None:
            return None
        return StoredView(track, case_id, int(row[0]), row[1], json.loads(row[2]), row[3],
                          bytes.fromhex(row[4]))  # fmt: skip

    def rows(self, agency: str, track: str) -> list[dict[str, Any]]:
        """The agency's worklist rows in order of case creation, with the current version."""
        with self.db.transaction() as tx:
            found = tx.execute(
                "SELECT w.row_json, c.version FROM rm_worklist w JOIN rm_cases c "
                "ON c.case_id = w.case_id AND c.track = w.track WHERE w.agency = ? AND w.track = ? "
                "ORDER BY c.created, c.case_id", (agency, track)).fetchall()  # fmt: skip
        return [{**json.loads(r[0]), "version": int(r[1])} for r in found]

    def consents(self, case_id: str) -> list[dict[str, Any]]:
        with self.db.transaction() as tx:
            found = tx.execute("SELECT signatory, agency, category, consent_id, booklet_version, "
                               "start_at, end_at FROM rm_consents WHERE case_id = ? ORDER BY seq",
                               (case_id,)).fetchall()  # fmt: skip
        keys = ("signatory", "agency", "category", "consent_id", "booklet_version", "start", "end")
        return [dict(zip(keys, r, strict=True)) for r in found]

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every read-model table except the positions (tests compare these)."""
        out = {}
        with self.db.transaction() as tx:
            for table in TABLES[:-1]:
                out[table] = sorted(tuple(r) for r in tx.execute(f"SELECT * FROM {table}").fetchall())
        return out

    def forget_cases(self, case_ids: list[str]) -> None:
        """After an erasure: drop the cases' documents, rows and consents (the progress row,
        which holds no personal data, stays so duplicates are still recognised)."""
        with self.db.transaction() as tx:
            for case_id in case_ids:
                for table in ("rm_case_views", "rm_worklist", "rm_consents"):
                    tx.execute(f"DELETE FROM {table} WHERE case_id = ?", (case_id,))

    def clear(self) -> None:
        """Empty every read model and the projectors' positions (before a rebuild)."""
        with self.db.transaction() as tx:
            for table in TABLES:
                tx.execute(f"DELETE FROM {table}")
