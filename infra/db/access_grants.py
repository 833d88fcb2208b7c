"""Explicit accesses granted (`services/explicit_access.py`), kept beside the access log."""

from __future__ import annotations

from datetime import UTC, datetime

from infra.db.sql import Database, lock_schema
from services.explicit_access import AccessGrant

SCHEMA = """CREATE TABLE IF NOT EXISTS access_grants (
    case_id TEXT NOT NULL, sub TEXT NOT NULL, viewer TEXT NOT NULL, reason TEXT NOT NULL,
    granted_at TEXT NOT NULL, until TEXT NOT NULL)"""


class AccessGrants:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as tx:
            lock_schema(tx)  # processes starting together create the tables one at a time
            tx.execute(SCHEMA)
            tx.execute("CREATE INDEX IF NOT EXISTS access_grants_case ON access_grants (case_id, sub)")

    def add(self, grant: AccessGrant) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO access_grants VALUES (?, ?, ?, ?, ?, ?)",
                (
                    grant.case_id,
                    grant.sub,
                    f"{grant.agency}:{grant.unit}",
                    grant.reason,
                    _utc(grant.granted_at),
                    _utc(grant.until),
                ),
            )

    def active(self, case_id: str, sub: str, viewer_key: str, at: datetime) -> AccessGrant | None:
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT case_id, sub, viewer, reason, granted_at, until FROM access_grants "
                "WHERE case_id = ? AND sub = ? AND viewer = ? AND granted_at <= ? AND until > ? "
                "ORDER BY until DESC LIMIT 1",
                (case_id, sub, viewer_key, _utc(at), _utc(at)),
            ).fetchone()
        return _grant(row) if row else None

    def since(self, at: datetime | None, limit: int) -> list[AccessGrant]:
        sql = "SELECT case_id, sub, viewer, reason, granted_at, until FROM access_grants"
        params: tuple[str, ...] = ()
        if at is not None:
            sql += " WHERE granted_at >= ?"
            params = (_utc(at),)
        with self.db.transaction() as tx:
            rows = tx.execute(sql + f" ORDER BY granted_at LIMIT {int(limit)}", params).fetchall()
        return [_grant(r) for r in rows]

    def forget_cases(self, case_ids: list[str]) -> None:
        """Erasure: a grant names the case (and the reason may name the person)."""
        with self.db.transaction() as tx:
            tx.executemany("DELETE FROM access_grants WHERE case_id = ?", [(c,) for c in case_ids])


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()  # stored in UTC: compared as text


def _grant(row: tuple[str, ...]) -> AccessGrant:
    agency, _, unit = row[2].partition(":")
    return AccessGrant(
        row[0], row[1], agency, unit, row[3], datetime.fromisoformat(row[4]), datetime.fromisoformat(row[5])
    )
