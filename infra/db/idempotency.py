"""Durable `Idempotency-Key` records: a retried command returns its first response.

A key is reserved before the command runs (so two concurrent retries cannot both run it)
and completed with the response afterwards. The same key with a different body is 422.
A stored case view is sealed with the case's key, so erasure shreds it with the case.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from infra.db.sql import Database, lock_schema
from services.keys import SubjectKeys

SCHEMA = """CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
    status INTEGER, body BYTEA, headers TEXT, case_id TEXT,
    PRIMARY KEY (scope, key))"""


@dataclass(frozen=True)
class StoredResponse:
    request_hash: str
    status: int | None  # None: the first request is still running
    body: Any
    headers: dict[str, str]


def _digest(key: str) -> str:
    """Keys are client-chosen text; store only their hash, in case a client puts data in them."""
    return hashlib.sha256(key.encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, db: Database, keys: SubjectKeys) -> None:
        self.db = db
        self.keys = keys
        with db.transaction() as tx:
            lock_schema(tx)  # processes starting together create the tables one at a time
            tx.execute(SCHEMA if db.postgres else SCHEMA.replace("BYTEA", "BLOB"))

    def reserve(self, scope: str, key: str, request_hash: str) -> StoredResponse | None:
        """Reserve the key; return the earlier record instead if the key was used."""
        key = _digest(key)
        row = None
        while row is None:  # again only if the earlier request was released in between
            with self.db.transaction() as tx:
                # Insert first: of concurrent retries exactly one inserts. (Reading first let
                # two PostgreSQL transactions both see no row, and the second insert was a 500.)
                inserted = tx.execute(
                    "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES (?, ?, ?) "
                    "ON CONFLICT (scope, key) DO NOTHING",
                    (scope, key, request_hash),
                ).cursor.rowcount
                if inserted == 1:
                    return None
                row = tx.execute(
                    "SELECT request_hash, status, body, headers, case_id FROM idempotency_keys "
                    "WHERE scope = ? AND key = ?",
                    (scope, key),
                ).fetchone()
        body = None
        if row[2] is not None:
            body = self.keys.open_json(row[4], bytes(row[2])) if row[4] else json.loads(bytes(row[2]))
        return StoredResponse(row[0], row[1], body, json.loads(row[3] or "{}"))

    def complete(
        self, scope: str, key: str, status: int, body: Any, headers: dict[str, str], case_id: str | None
    ) -> None:
        key = _digest(key)
        if case_id and self.keys.key_for_case(case_id) is not None:
            stored = self.keys.seal_json(case_id, body)
        else:  # an unknown or erased case: the answer is a problem document, no personal data
            stored, case_id = json.dumps(body).encode(), None
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE idempotency_keys SET status = ?, body = ?, headers = ?, case_id = ? "
                "WHERE scope = ? AND key = ?",
                (status, stored, json.dumps(headers), case_id, scope, key),
            )

    def purge_cases(self, case_ids: list[str]) -> None:
        """Erasure: stored responses hold case views, so they go with the person's data."""
        with self.db.transaction() as tx:
            for case_id in case_ids:
                tx.execute("DELETE FROM idempotency_keys WHERE case_id = ?", (case_id,))

    def release(self, scope: str, key: str) -> None:
        """Forget a reservation whose command failed unexpectedly, so a retry may run it."""
        key = _digest(key)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM idempotency_keys WHERE scope = ? AND key = ?", (scope, key))
