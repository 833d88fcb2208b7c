"""The statistics projection's tables and the intake register, in SQL.

- `st_cells`: the counts of every cohort cell (projections/equal_practice.py): kind,
  quarter, municipality, trinn, measure, bucket -> n. No person in them: sums only.
- `st_cases`: each case's statistical state and the version it is at (deleted when the
  person is erased; what the case added to the counts stays, anonymous).
- `st_positions`: how far the statistics projection has read each source (the two
  notification logs and the intake register), written in the transaction of its counts.
- `st_intake`: the intake register, one row per record, its content sealed under the
  youth's key (erasure shreds it; the row keeps only its sequence, id and dates).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from infra.db.sql import Database, _Tx

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS st_cells (kind TEXT NOT NULL, year INTEGER NOT NULL,
        quarter TEXT NOT NULL, municipality TEXT NOT NULL, trinn TEXT NOT NULL,
        measure TEXT NOT NULL, bucket INTEGER NOT NULL, n BIGINT NOT NULL,
        PRIMARY KEY (kind, quarter, municipality, trinn, measure, bucket))""",
    "CREATE INDEX IF NOT EXISTS st_cells_year ON st_cells (kind, year)",
    """CREATE TABLE IF NOT EXISTS st_cases (case_id TEXT PRIMARY KEY, version BIGINT NOT NULL,
        state TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS st_positions (source TEXT PRIMARY KEY, position BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS st_intake (seq {serial}, intake_id TEXT NOT NULL UNIQUE,
        recorded_at TEXT NOT NULL, decided_on TEXT NOT NULL, sealed {blob})""",
]


class StatisticsWriter:
    """One transaction of the statistics projection (services/statistics.py `StatisticsTx`)."""

    def __init__(self, tx: _Tx) -> None:
        self.tx = tx

    def lock(self, sources: Sequence[str]) -> dict[str, int]:
        """Lock the sources' positions (creating missing ones) and return them: one writer at a time."""
        for source in sorted(sources):
            self.tx.execute(
                "INSERT INTO st_positions VALUES (?, 0) ON CONFLICT (source) DO NOTHING", (source,)
            )
        suffix = " FOR UPDATE" if self.tx.postgres else ""
        found = self.tx.execute(
            f"SELECT source, position FROM st_positions ORDER BY source{suffix}"
        ).fetchall()
        return {str(r[0]): int(r[1]) for r in found}

    def states(self, case_ids: Sequence[str]) -> dict[str, tuple[int, dict[str, Any]]]:
        out: dict[str, tuple[int, dict[str, Any]]] = {}
        ids = sorted(set(case_ids))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = self.tx.execute(
                "SELECT case_id, version, state FROM st_cases "
                f"WHERE case_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            out.update({str(r[0]): (int(r[1]), json.loads(r[2])) for r in rows})
        return out

    def save_states(self, states: dict[str, tuple[int, dict[str, Any]]]) -> None:
        if states:
            self.tx.executemany(
                "INSERT INTO st_cases VALUES (?, ?, ?) ON CONFLICT (case_id) DO UPDATE SET "
                "version = excluded.version, state = excluded.state",
                [(c, v, json.dumps(s, sort_keys=True)) for c, (v, s) in sorted(states.items())],
            )

    def add(self, counts: dict[tuple[str, str, str, str, str, int], int]) -> None:
        """Add the changes to the counts (in key order: concurrent writers never deadlock)."""
        rows = [
            (kind, int(quarter[:4]), quarter, m, t, measure, bucket, n)
            for (kind, quarter, m, t, measure, bucket), n in sorted(counts.items())
            if n
        ]
        if not rows:
            return
        self.tx.executemany(
            "INSERT INTO st_cells VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
            "(kind, quarter, municipality, trinn, measure, bucket) DO UPDATE SET n = st_cells.n + excluded.n",
            rows,
        )
        self.tx.execute("DELETE FROM st_cells WHERE n = 0")

    def intake_after(self, seq: int, limit: int) -> list[tuple[int, str, bytes | None]]:
        found = self.tx.execute(
            "SELECT seq, intake_id, sealed FROM st_intake WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        return [(int(r[0]), str(r[1]), bytes(r[2]) if r[2] is not None else None) for r in found]

    def save_positions(self, positions: dict[str, int]) -> None:
        self.tx.executemany(
            "UPDATE st_positions SET position = ? WHERE source = ?",
            [(p, s) for s, p in sorted(positions.items())],
        )


class StatisticsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(
                    statement.replace(
                        "{serial}",
                        "BIGSERIAL PRIMARY KEY" if tx.postgres else "INTEGER PRIMARY KEY AUTOINCREMENT",
                    ).replace("{blob}", "BYTEA" if tx.postgres else "BLOB")
                )
            tx.execute("CREATE INDEX IF NOT EXISTS st_cells_zero ON st_cells (n) WHERE n = 0")

    @contextmanager
    def transaction(self) -> Iterator[StatisticsWriter]:
        with self.db.transaction() as tx:
            yield StatisticsWriter(tx)

    def rows(self, kind: str, year: int) -> list[tuple[str, str, str, str, int, int]]:
        with self.db.transaction() as tx:
            found = tx.execute(
                "SELECT quarter, municipality, trinn, measure, bucket, n FROM st_cells "
                "WHERE kind = ? AND year = ?",
                (kind, year),
            ).fetchall()
        return [(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), int(r[5])) for r in found]

    def stamp(self) -> tuple[tuple[str, int], ...]:
        """Where the projection stands: what the counts are as of (a cache key)."""
        with self.db.transaction() as tx:
            found = tx.execute("SELECT source, position FROM st_positions ORDER BY source").fetchall()
        return tuple((str(r[0]), int(r[1])) for r in found)

    def forget(self, case_ids: list[str]) -> None:
        """After an erasure: the cases' statistical states and intake records' content go."""
        with self.db.transaction() as tx:
            for case_id in case_ids:
                tx.execute("DELETE FROM st_cases WHERE case_id = ?", (case_id,))
                tx.execute("UPDATE st_intake SET sealed = NULL WHERE intake_id = ?", (case_id,))

    def clear(self) -> None:
        """Empty the counts and positions (the projection then reads every source again)."""
        with self.db.transaction() as tx:
            for table in ("st_cells", "st_cases", "st_positions"):
                tx.execute(f"DELETE FROM {table}")

    # --- the intake register -----------------------------------------------------------------

    def add_intake(self, intake_id: str, recorded_at: str, decided_on: str, sealed: bytes) -> int:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO st_intake (intake_id, recorded_at, decided_on, sealed) VALUES (?, ?, ?, ?)",
                (intake_id, recorded_at, decided_on, sealed),
            )
            row = tx.execute("SELECT seq FROM st_intake WHERE intake_id = ?", (intake_id,)).fetchone()
        return int(row[0])

    def intake_records(self) -> list[tuple[str, str, bytes | None]]:
        """(id, recorded_at, sealed) of every intake record (retention, export)."""
        with self.db.transaction() as tx:
            found = tx.execute("SELECT intake_id, recorded_at, sealed FROM st_intake ORDER BY seq").fetchall()
        return [(str(r[0]), str(r[1]), bytes(r[2]) if r[2] is not None else None) for r in found]
