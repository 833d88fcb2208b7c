"""The read models in SQL: per-agency case views and worklists, the consent register,
the projector's consumed positions and the relay's published positions.

Case documents hold personal data, so they are stored sealed under the case's key
(`services.messages.seal_json`): erasing the person's key makes them unreadable like
the events. Worklist rows hold only workflow data (status, trinn, municipality,
deadline) and the policy version they were produced under.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import pydantic_core

from infra.db.access_log import logging_read
from infra.db.sql import Database, _Tx, lock_schema
from projections.worklist import NO_DEADLINE
from services.access import LoggedRead
from services.queries import Page

log = logging.getLogger("ruskontrakt.read_models")

TABLES = ("rm_cases", "rm_case_views", "rm_worklist", "rm_consents", "rm_positions")
# The shape of the read models. Read models of another shape are dropped at start-up and
# projected again from the events (they hold nothing the events do not): 2 = per unit
# (need to know) with deadlines, sealed names and paging columns; 3 = worklist rows with
# their categories and basis in columns of their own.
SHAPE = "3"
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS rm_cases (track TEXT NOT NULL, case_id TEXT NOT NULL,
        version BIGINT NOT NULL, status TEXT, types TEXT NOT NULL, created BIGINT NOT NULL,
        PRIMARY KEY (track, case_id))""",
    """CREATE TABLE IF NOT EXISTS rm_case_views (agency TEXT NOT NULL, case_id TEXT NOT NULL,
        track TEXT NOT NULL, policy_version TEXT NOT NULL, doc {blob} NOT NULL,
        PRIMARY KEY (agency, case_id))""",
    # `agency` is the viewer (docs/domain.md §9: `agency:unit`); the columns after `row_json`
    # are what the worklist filters, sorts and pages on, the row's categories and basis as
    # JSON (what a page's access-log entries take of it, read by PostgreSQL in the statement
    # that reads the page: `ReadModels.rows`), and the youth's name, sealed.
    """CREATE TABLE IF NOT EXISTS rm_worklist (agency TEXT NOT NULL, case_id TEXT NOT NULL,
        track TEXT NOT NULL, policy_version TEXT, row_json TEXT NOT NULL, status TEXT,
        next_deadline TEXT NOT NULL, assigned TEXT NOT NULL, categories TEXT NOT NULL,
        basis TEXT NOT NULL, name {blob}, PRIMARY KEY (agency, case_id))""",
    """CREATE TABLE IF NOT EXISTS rm_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
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


def _reshape(tx: _Tx) -> None:
    """Drop read models of another shape (they are projected again from the events)."""
    if tx.postgres:
        exists = tx.execute("SELECT to_regclass('rm_meta') IS NOT NULL").fetchone()[0]
        cases = tx.execute("SELECT to_regclass('rm_cases') IS NOT NULL").fetchone()[0]
    else:
        names = {r[0] for r in tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
        exists, cases = "rm_meta" in names, "rm_cases" in names
    shape = tx.execute("SELECT value FROM rm_meta WHERE key = 'shape'").fetchone() if exists else None
    if cases and (shape is None or shape[0] != SHAPE):
        log.warning("read models of an older shape: dropped, to be projected again from the events")
        for table in (*TABLES, "rm_meta"):
            tx.execute(f"DROP TABLE IF EXISTS {table}")


@dataclass(frozen=True)
class StoredCaseDoc:
    track: str
    case_id: str
    version: int
    status: str | None
    types: list[str]
    policy_version: str
    sealed: bytes
    # The track's notification log's last id, read in the same statement (embedded mode on
    # PostgreSQL, `ReadModels.follow_logs`); None when it was not.
    log_end: int | None = None


def _row_of(stored: str) -> dict[str, Any]:
    """A stored worklist row (our own `json.dumps`). orjson reads it in 60 % of
    pydantic-core's time, a third of `json.loads`'s; what it refuses (NaN, an integer beyond
    64 bits, which an old event may have carried into a row) pydantic-core reads."""
    try:
        return orjson.loads(stored)  # type: ignore[no-any-return]
    except orjson.JSONDecodeError:
        return pydantic_core.from_json(stored)  # type: ignore[no-any-return]


def doc_bytes(stored: bytes | str) -> bytes:
    """A stored case document: bytes, or hex text as written before the column was binary
    (SQLite keeps such rows until the projector next rewrites them)."""
    return bytes.fromhex(stored) if isinstance(stored, str) else bytes(stored)


def _docs_as_bytea(tx: _Tx) -> None:
    """The documents were hex text until the projector had to rewrite them by the thousand:
    sealed bytes as hex are twice as long, and PostgreSQL then tries (and fails) to
    compress every one of them, 4-6x the cost of writing them as bytea. Converted once, by
    whichever process starts first (the others wait on the lock, then find it done)."""

    def doc_type() -> str | None:
        row = tx.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = 'rm_case_views' "
            "AND column_name = 'doc'"
        ).fetchone()
        return row[0] if row else None

    if doc_type() == "text":
        tx.execute("LOCK TABLE rm_case_views IN ACCESS EXCLUSIVE MODE")
        if doc_type() == "text":
            tx.execute("ALTER TABLE rm_case_views ALTER COLUMN doc TYPE BYTEA USING decode(doc, 'hex')")


class ReadModelWriter:
    """One transaction's writes (the projector's `ReadModelTx`).

    Every method takes all the rows of a batch at once and writes them with one statement
    per table (`_insert`), so the cost of a batch grows with its rows, not its statements.
    """

    def __init__(self, tx: _Tx) -> None:
        self.tx = tx

    def _insert(
        self, table: str, types: tuple[str, ...], rows: Sequence[Sequence[Any]], conflict: str = ""
    ) -> None:
        """All the rows in one statement. PostgreSQL gets one array per column, unnested
        into rows by the server: psycopg's executemany runs a query per row, and its
        per-query work in Python was most of the projector's own time per event."""
        if not rows:
            return
        if self.tx.postgres:
            # %b: the arrays go in binary; as text, psycopg quotes every element with a regex.
            arrays = ", ".join(f"%b::{t}[]" for t in types)
            self.tx.cursor.execute(
                f"INSERT INTO {table} SELECT * FROM unnest({arrays}) {conflict}",
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            values = ", ".join("?" * len(types))
            self.tx.executemany(f"INSERT INTO {table} VALUES ({values}) {conflict}", rows)

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """The statements inside are sent without waiting for each other's answers
        (PostgreSQL's pipeline mode): one round trip for all of a batch's tables instead of
        one each. Errors surface at the end of the block."""
        if self.tx.postgres:
            with self.tx.cursor.connection.pipeline():
                yield
        else:
            yield

    def lock_cases(self, track: str, case_ids: Sequence[str]) -> dict[str, int]:
        """Lock the cases' progress rows (creating missing ones) in case-id order, so two
        writers of overlapping batches queue up instead of deadlocking; their versions."""
        ordered = sorted(set(case_ids))
        if not ordered:
            return {}
        if self.tx.postgres:
            with self.pipelined():  # both statements in one round trip
                self._insert(
                    "rm_cases",
                    CASE_TYPES,
                    [(track, c, 0, None, "[]", 0) for c in ordered],
                    "ON CONFLICT DO NOTHING",
                )
                found = self.tx.execute(
                    "SELECT case_id, version FROM rm_cases WHERE track = ? AND "
                    "case_id = ANY(?) ORDER BY case_id FOR UPDATE",
                    (track, ordered),
                ).fetchall()
        else:  # SQLite: BEGIN IMMEDIATE already serialises every writer
            found = []
            for i in range(0, len(ordered), 500):  # below SQLite's bound-parameter limit
                chunk = ordered[i : i + 500]
                found += self.tx.execute(
                    f"SELECT case_id, version FROM rm_cases WHERE track = ? AND "
                    f"case_id IN ({', '.join('?' * len(chunk))})",
                    (track, *chunk),
                ).fetchall()
        versions = {str(r[0]): int(r[1]) for r in found}
        return {case_id: versions.get(case_id, 0) for case_id in ordered}

    def save_cases(self, rows: Sequence[tuple[str, str, int, str | None, list[str], int]]) -> None:
        """(track, case_id, version, status, types, created) per case."""
        self._insert(
            "rm_cases",
            CASE_TYPES,
            [(t, c, v, s, json.dumps(types), created) for t, c, v, s, types, created in rows],
            "ON CONFLICT (track, case_id) DO UPDATE SET version = excluded.version, "
            "status = excluded.status, types = excluded.types, created = CASE WHEN "
            "rm_cases.created = 0 THEN excluded.created ELSE rm_cases.created END",
        )

    def save_docs(self, rows: Sequence[tuple[str, str, str, str, bytes]]) -> None:
        """(agency, track, case_id, policy_version, sealed document) per document."""
        self._insert(
            "rm_case_views",
            ("text", "text", "text", "text", "bytea"),
            [(a, c, t, pv, sealed) for a, t, c, pv, sealed in rows],
            "ON CONFLICT (agency, case_id) DO UPDATE SET policy_version = "
            "excluded.policy_version, doc = excluded.doc",
        )

    def save_rows(self, rows: Sequence[tuple[str, str, str, dict[str, Any], bytes | None]]) -> None:
        """(viewer, track, case_id, worklist row, sealed name) per row."""
        self._insert(
            "rm_worklist",
            ("text",) * 10 + ("bytea",),
            [
                (
                    a,
                    c,
                    t,
                    row.get("policy_version"),
                    json.dumps(row),
                    row.get("status"),
                    row.get("next_deadline") or NO_DEADLINE,
                    "".join(f"|{sub}|" for sub in row.get("assigned", [])),
                    json.dumps(row.get("categories", [])),
                    json.dumps(row.get("basis", {})),
                    name,
                )
                for a, t, c, row, name in rows
            ],
            "ON CONFLICT (agency, case_id) DO UPDATE SET policy_version = "
            "excluded.policy_version, row_json = excluded.row_json, status = excluded.status, "
            "next_deadline = excluded.next_deadline, assigned = excluded.assigned, name = excluded.name, "
            "categories = excluded.categories, basis = excluded.basis",
        )

    def save_consents(self, registers: dict[str, list[dict[str, Any]]]) -> None:
        """Replace the consent register of each case (case id -> its rows)."""
        if not registers:
            return
        if self.tx.postgres:
            self.tx.execute("DELETE FROM rm_consents WHERE case_id = ANY(?)", (list(registers),))
        else:
            self.tx.executemany("DELETE FROM rm_consents WHERE case_id = ?", [(c,) for c in registers])
        self._insert(
            "rm_consents",
            ("text", "int", *("text",) * 7),
            [
                (
                    case_id,
                    seq,
                    r["signatory"],
                    r["agency"],
                    r["category"],
                    r["consent_id"],
                    r["booklet_version"],
                    r["start"],
                    r["end"],
                )
                for case_id, rows in registers.items()
                for seq, r in enumerate(rows)
            ],
        )

    def save_positions(self, rows: Sequence[tuple[str, str, int, int, str, int]]) -> None:
        """(consumer, source, partition, next_offset, track, notification_id) per partition."""
        self._insert(
            "rm_positions",
            ("text", "text", "int", "bigint", "text", "bigint"),
            rows,
            "ON CONFLICT (consumer, source, part) DO UPDATE SET next_offset = "
            "excluded.next_offset, notification_id = excluded.notification_id",
        )


CASE_TYPES = ("text", "text", "bigint", "text", "text", "bigint")


class ReadModels:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._log_ends: dict[str, str] = {}  # track -> a scalar subquery of its log's last id
        self.logs_reads = False  # `log_reads`
        with db.transaction() as tx:
            lock_schema(tx)  # one process reshapes (and creates) at a time
            _reshape(tx)
            for statement in SCHEMA:
                tx.execute(statement.replace("{blob}", "BYTEA" if tx.postgres else "BLOB"))
            tx.execute(
                "CREATE INDEX IF NOT EXISTS rm_worklist_page ON rm_worklist "
                "(agency, track, next_deadline, case_id)"
            )
            tx.execute(
                "INSERT INTO rm_meta VALUES ('shape', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (SHAPE,),
            )
            if tx.postgres:
                _docs_as_bytea(tx)

    @contextmanager
    def transaction(self) -> Iterator[ReadModelWriter]:
        with self.db.transaction() as tx:
            yield ReadModelWriter(tx)

    # -- positions ------------------------------------------------------------------------

    def position(self, consumer: str, source: str, partition: int = 0) -> int:
        with self.db.statements() as tx:
            row = tx.execute(
                "SELECT next_offset FROM rm_positions WHERE consumer = ? AND source = ? AND part = ?",
                (consumer, source, partition),
            ).fetchone()
        return int(row[0]) if row else 0

    def track_position(self, track: str) -> int:
        """Every notification of the track up to this id has been applied (by some consumer)."""
        with self.db.statements() as tx:
            row = tx.execute(
                "SELECT MAX(notification_id) FROM rm_positions WHERE track = ?", (track,)
            ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def relay_position(self, source: str) -> int:
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT notification_id FROM relay_positions WHERE source = ?", (source,)
            ).fetchone()
        return int(row[0]) if row else 0

    def save_relay_position(self, source: str, notification_id: int) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO relay_positions VALUES (?, ?) ON CONFLICT (source) DO UPDATE "
                "SET notification_id = excluded.notification_id",
                (source, notification_id),
            )

    def follow_logs(self, tables: dict[str, tuple[str, str]]) -> None:
        """Read each track's notification log's last id along with its documents and rows
        (track -> (schema, events table), in this database): an embedded read then knows
        in the same round trip whether the read models had applied everything
        (`services/queries.py Freshness.read`)."""
        if self.db.postgres:
            self._log_ends = {
                track: f'(SELECT MAX(notification_id) FROM "{schema}"."{table}")'
                for track, (schema, table) in tables.items()
            }

    def log_reads(self) -> None:
        """Worklist pages write their access-log entries in the statement that reads them
        (PostgreSQL, with the access log and the key store's case subjects in this database)."""
        if self.db.postgres:
            self.logs_reads = True

    # -- reads ----------------------------------------------------------------------------

    def view(self, agency: str, case_id: str, track: str) -> StoredCaseDoc | None:
        log_end = self._log_ends.get(track)
        with self.db.statements() as tx:
            row = tx.execute(
                "SELECT c.version, c.status, c.types, v.policy_version, v.doc"
                + (f", {log_end}" if log_end else "")
                + " FROM rm_case_views v JOIN rm_cases c ON c.case_id = v.case_id AND c.track = v.track "
                "WHERE v.agency = ? AND v.case_id = ? AND v.track = ?",
                (agency, case_id, track),
            ).fetchone()
        if row is None:
            return None
        return StoredCaseDoc(
            track,
            case_id,
            int(row[0]),
            row[1],
            json.loads(row[2]),
            row[3],
            doc_bytes(row[4]),
            (int(row[5]) if row[5] is not None else 0) if log_end else None,
        )

    def rows(
        self, agency: str, track: str, page: Page | None = None, logged: LoggedRead | None = None
    ) -> list[dict[str, Any]]:
        """The viewer's worklist rows, soonest deadline first (then by case id),
        filtered and paged by `page`; a row without a version of its own (a prevention
        case's) with the case's current version. Each row carries `_cursor` (where the
        next page starts after it) and `_name` (the sealed name, or None). With `logged`,
        where this store `logs_reads`, each row carries `_logged`: the access-log entries
        the read wrote (`infra/db/access_log.logging_read`)."""
        page = page or Page()
        where = ["w.agency = ?", "w.track = ?"]
        params: list[Any] = [agency, track]
        if page.status is not None:
            where.append("w.status = ?")
            params.append(page.status)
        if page.due_before is not None:
            where.append("w.next_deadline < ?")
            params.append(page.due_before)
        if page.due_from is not None:
            where.append("w.next_deadline >= ?")
            params.append(page.due_from)
        if page.due_by is not None:
            where.append("w.next_deadline <= ?")
            params.append(page.due_by)
        if page.assigned_to is not None:
            where.append("w.assigned LIKE ?")
            params.append(f"%|{page.assigned_to}|%")
        if page.after is not None:
            where.append("(w.next_deadline, w.case_id) > (?, ?)")
            params += list(page.after)
        # Ordered as the index `rm_worklist_page` is: a page is an index range, whatever the
        # number of the unit's cases.
        log_end = self._log_ends.get(track)
        logs = logged is not None and self.logs_reads
        sql = (
            "SELECT w.row_json, c.version, w.name, w.next_deadline, w.case_id"
            + (f", {log_end} AS log_end" if log_end else "")
            + (", w.categories, w.basis" if logs else "")  # what the access log takes of a row
            + " FROM rm_worklist w JOIN rm_cases c ON c.case_id = w.case_id AND c.track = w.track "
            f"WHERE {' AND '.join(where)} ORDER BY w.next_deadline, w.case_id"
        )
        if page.limit is not None:
            sql += f" LIMIT {int(page.limit)}"
        if logs:
            assert logged is not None
            sql, more = logging_read(sql, "next_deadline, case_id", logged, bool(log_end))
            params += more
        with self.db.statements() as tx:
            found = tx.execute(sql, params).fetchall()
        if logs:
            written = int(found[0][-1]) if found else 0
            return [{**self._row(r, log_end), "_logged": written} for r in found]
        return [self._row(r, log_end) for r in found]

    @staticmethod
    def _row(r: Sequence[Any], log_end: str | None) -> dict[str, Any]:
        return {
            "version": int(r[1]),
            **_row_of(r[0]),
            "_name": doc_bytes(r[2]) if r[2] is not None else None,
            "_cursor": (r[3], r[4]),
            **({"_log_end": int(r[5]) if r[5] is not None else 0} if log_end else {}),
        }

    def stale_deadlines(self, track: str, fingerprint: str) -> list[str]:
        """The cases with a worklist row whose deadlines were computed under other rules
        than `fingerprint` (`projections/worklist.py` writes it into each row)."""
        mark = json.dumps({"deadline_rules": fingerprint})[1:-1]  # as json.dumps writes the row
        with self.db.transaction() as tx:
            found = tx.execute(
                "SELECT DISTINCT case_id FROM rm_worklist WHERE track = ? AND row_json NOT LIKE ? "
                "ORDER BY case_id",
                (track, f"%{mark}%"),
            ).fetchall()
        return [str(r[0]) for r in found]

    def meta(self, key: str) -> str | None:
        with self.db.transaction() as tx:
            row = tx.execute("SELECT value FROM rm_meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO rm_meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def consents(self, case_id: str) -> list[dict[str, Any]]:
        with self.db.transaction() as tx:
            found = tx.execute(
                "SELECT signatory, agency, category, consent_id, booklet_version, "
                "start_at, end_at FROM rm_consents WHERE case_id = ? ORDER BY seq",
                (case_id,),
            ).fetchall()
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
        which holds no personal data, stays so duplicates are still recognised).

        On PostgreSQL the progress table is locked first, against every projector batch: a
        batch locks its cases' progress rows before it writes their documents, so the forget
        waits for a batch under way to commit and deletes what it wrote, and a later batch
        waits for the forget (and then finds no key). The rows themselves (`SELECT ... FOR
        UPDATE`) would not do: a batch that creates a case's progress row holds a row the
        forget cannot see until it commits. Erasures are rare; the lock lasts a few deletes."""
        with self.db.transaction() as tx:
            if tx.postgres:
                tx.execute("LOCK TABLE rm_cases IN SHARE ROW EXCLUSIVE MODE")
            for case_id in case_ids:
                for table in ("rm_case_views", "rm_worklist", "rm_consents"):
                    tx.execute(f"DELETE FROM {table} WHERE case_id = ?", (case_id,))

    def clear(self) -> None:
        """Empty every read model and the projectors' positions (before a rebuild)."""
        with self.db.transaction() as tx:
            if tx.postgres:
                # Before any row: a projector running meanwhile (the API's own, in embedded
                # mode) holds row locks it takes in case order, DELETE takes them in storage
                # order, and the two would deadlock. With the tables locked first, one of
                # them simply waits for the other to commit.
                tx.execute(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE")
            for table in TABLES:
                tx.execute(f"DELETE FROM {table}")
