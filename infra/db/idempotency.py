"""Durable `Idempotency-Key` records: a retried command returns its first response.

A key is reserved before the command runs (so two concurrent retries cannot both run it)
and completed with the response afterwards. The same key with a different body is 422.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from infra.db.sql import Database

SCHEMA = """CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
    status INTEGER, body TEXT, headers TEXT,
    PRIMARY KEY (scope, key))"""


@dataclass(frozen=True)
class StoredResponse:
    request_hash: str
    status: int | None  # None: the first request is still running
    body: Any
    headers: dict[str, str]


class IdempotencyStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as tx:
            tx.execute(SCHEMA)

    def reserve(self, scope: str, key: str, request_hash: str) -> StoredResponse | None:
        """Reserve the key; return the earlier record instead if the key was used."""
        with self.db.transaction() as tx:
            row = tx.execute(
                "SELECT request_hash, status, body, headers FROM idempotency_keys "
                "WHERE scope = ? AND key = ?", (scope, key)
            ).fetchone()  # fmt: skip
            if row is None:
                tx.execute(
                    "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES (?, ?, ?)",
                    (scope, key, request_hash),
                )
                return None
        body = json.loads(row[2]) if row[2] is not None else None
        return StoredResponse(row[0], row[1], body, json.loads(row[3] or "{}"))

    def complete(self, scope: str, key: str, status: int, body: Any, headers: dict[str, str]) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE idempotency_keys SET status = ?, body = ?, headers = ? "
                "WHERE scope = ? AND key = ?",
                (status, json.dumps(body), json.dumps(headers), scope, key),
            )

    def release(self, scope: str, key: str) -> None:
        """Forget a reservation whose command failed unexpectedly, so a retry may run it."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM idempotency_keys WHERE scope = ? AND key = ?", (scope, key))
