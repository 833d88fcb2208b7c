"""The access log (Normen): who read what about whom, when, and on which basis.

Written by the API on every read that returns personal data, auditors' reads included,
before the data is returned. Concurrent requests share one insert transaction
(`services/batching.py`); a command's answer is logged in the transaction of the
command's own events where the event store can do that (`infra/db/event_store.py`).
Subjects are stored as the key store's pseudonymous reference, never as national ids.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json

from infra.db.sql import Database, lock_schema
from services.access import AccessEntry, LoggedRead
from services.batching import BatchWriter

SCHEMA = """CREATE TABLE IF NOT EXISTS access_log (
    at TEXT NOT NULL, sub TEXT NOT NULL, agency TEXT NOT NULL, subject_ref TEXT,
    case_id TEXT, action TEXT NOT NULL, categories TEXT NOT NULL, basis TEXT NOT NULL)"""
COLUMNS = ("at", "sub", "agency", "subject_ref", "case_id", "action", "categories", "basis")
INSERT_JSON = (
    f"INSERT INTO access_log ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} "
    "FROM json_populate_recordset(NULL::access_log, %s::json)"
)
COPY_ALL = f"COPY access_log ({', '.join(COLUMNS)}) FROM STDIN"
FEW_ROWS = 8


class AccessLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as tx:
            lock_schema(tx)  # processes starting together create the tables one at a time
            tx.execute(SCHEMA)
            tx.execute("CREATE INDEX IF NOT EXISTS access_log_subject ON access_log (subject_ref)")
            # The reads of the cases that name a person (a guardian) are found by case.
            tx.execute("CREATE INDEX IF NOT EXISTS access_log_case ON access_log (case_id)")
        self._writer = BatchWriter(self._insert, "access-log")

    def record(self, entries: list[AccessEntry]) -> None:
        """Append the entries; returns once they are committed."""
        if entries:
            self._writer.submit(entries)

    def _insert(self, batch: list[list[AccessEntry]]) -> list[None]:
        rows = rows_of([e for entries in batch for e in entries])
        if self.db.postgres:
            # One statement for all, atomic and durable by itself (no BEGIN and COMMIT round
            # trips): psycopg's executemany is a round trip per row, and a worklist page logs
            # one entry per case shown. A few rows (case reads) go as one JSON document, many
            # (a page) by COPY. Measured here for one row: JSON 30 us of client CPU, binary
            # arrays (unnest) 65-80 us; for 50 rows: COPY 75 us and 160 us wall, the arrays
            # 140 us and 250-320 us, JSON 150 us and 350-400 us (PostgreSQL's parsing). COPY
            # is two round trips, so not for one row. Either is one statement: atomic, and
            # durable when it returns.
            with self.db.statements() as tx:
                if len(rows) <= FEW_ROWS:
                    tx.cursor.execute(INSERT_JSON, (document_of(rows),), prepare=True)
                else:
                    with tx.cursor.copy(COPY_ALL) as copy:
                        for row in rows:
                            copy.write_row(row)
        else:
            with self.db.transaction() as tx:
                tx.executemany("INSERT INTO access_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return [None] * len(batch)

    def query(
        self,
        subject_ref: str | None = None,
        agency: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        named_in: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        where: list[str] = []
        params: list[str] = []
        if subject_ref is not None:
            cases = list(dict.fromkeys(named_in))
            marks = ", ".join("?" * len(cases))
            where.append(f"(subject_ref = ? OR case_id IN ({marks}))" if cases else "subject_ref = ?")
            params += [subject_ref, *cases]
        if agency is not None:
            where.append("agency = ?")
            params.append(agency)
        if since is not None:
            where.append("at >= ?")
            params.append(since.astimezone(UTC).isoformat())  # stored in UTC: compared as text
        sql = "SELECT at, sub, agency, subject_ref, case_id, action, categories, basis FROM access_log"
        sql += (" WHERE " + " AND ".join(where)) if where else ""
        sql += f" ORDER BY at LIMIT {int(limit)}"
        with self.db.transaction() as tx:
            rows = tx.execute(sql, params).fetchall()
        return [
            {
                "at": r[0],
                "sub": r[1],
                "agency": r[2],
                "subject_ref": r[3],
                "case_id": r[4],
                "action": r[5],
                "categories": json.loads(r[6]),
                "basis": json.loads(r[7]),
            }
            for r in rows
        ]


def rows_of(entries: list[AccessEntry]) -> list[tuple[str | None, ...]]:
    """The table's rows (in `COLUMNS` order) for these entries: categories and basis as
    JSON text. pydantic-core encodes a page's 50 entries in a third of the time the
    standard library took even with each distinct value encoded once (measured: 45-65 us
    against 130-150 us), so every value is encoded as it comes."""
    times: dict[datetime, str] = {}
    rows: list[tuple[str | None, ...]] = []
    for e in entries:
        at = times.get(e.at)
        if at is None:
            at = times[e.at] = e.at.astimezone(UTC).isoformat()
        categories, basis = to_json(e.categories).decode(), to_json(e.basis).decode()
        rows.append((at, e.sub, e.agency, e.subject_ref, e.case_id, e.action, categories, basis))
    return rows


def document_of(rows: list[tuple[str | None, ...]]) -> str:
    """`rows` as one JSON document for `json_populate_recordset` (a few rows in one
    parameter: see `AccessLog._insert`)."""
    return to_json([dict(zip(COLUMNS, row, strict=True)) for row in rows]).decode()


def logging_read(page_sql: str, order: str, log: LoggedRead, fresh: bool) -> tuple[str, list[Any]]:
    """A PostgreSQL statement that reads `page_sql` (worklist rows in `order`; its columns
    include `case_id`, `categories` and `basis`, and `log_end` when `fresh`) and writes
    the access-log entries of its first `log.shown` rows, answering the rows with the
    number of entries written as their last column; and the parameters that follow the
    page's own. The entries are `AccessRecorder.entries` of the rows, made in SQL (the
    subject from the key store's table, which must be in this database);
    tests/integration/test_read_path.py holds the two alike. The entries commit with the
    read, so a page waits on no batch of its own."""
    s = log.stamp
    params: list[Any] = [s.at.astimezone(UTC).isoformat(), s.sub, s.agency, s.action]
    basis = "p.basis"
    if s.unit:
        basis = "(p.basis::jsonb || jsonb_build_object('unit', ?::text))::text"
        params.append(s.unit)
    where = ""
    if log.fresh_before is not None:
        where = "WHERE p.log_end <= ?" if fresh else "WHERE false"  # not known current: not shown
        params += [log.fresh_before] if fresh else []
    shown = f" LIMIT {int(log.shown)}" if log.shown is not None else ""
    sql = (
        f"WITH page AS ({page_sql}), logged AS ("
        f"INSERT INTO access_log ({', '.join(COLUMNS)}) "
        f"SELECT ?, ?, ?, s.subject_ref, p.case_id, ?, p.categories, {basis} "
        f"FROM (SELECT * FROM page ORDER BY {order}{shown}) p "
        f"LEFT JOIN case_subjects s ON s.case_id = p.case_id {where} RETURNING 1) "
        f"SELECT page.*, (SELECT COUNT(*) FROM logged) FROM page ORDER BY {order}"
    )
    return sql, params
