"""Direct access to the stored event rows, the way an attacker with database access has it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from infra.bootstrap import Container


@contextmanager
def raw_events(container: Container) -> Iterator[tuple[Any, str, str]]:
    """(connection, table, placeholder) of the contracts event table."""
    url = container.settings.database_url
    if url.startswith("postgresql"):
        with psycopg.connect(url, autocommit=True) as conn:
            yield conn, "contracts_events", "%s"
    else:
        conn = sqlite3.connect(container.contracts.env.get("SQLITE_DBNAME") or "", isolation_level=None)
        try:
            yield conn, "stored_events", "?"
        finally:
            conn.close()


def read_state(container: Container, case_id: str, version: int) -> bytes:
    with raw_events(container) as (conn, table, p):
        row = conn.execute(
            f"SELECT state FROM {table} WHERE originator_id = {p} AND originator_version = {p}",
            (_id(conn, case_id), version),
        ).fetchone()
    return bytes(row[0])


def write_state(container: Container, case_id: str, version: int, state: bytes) -> None:
    with raw_events(container) as (conn, table, p):
        conn.execute(
            f"UPDATE {table} SET state = {p} WHERE originator_id = {p} AND originator_version = {p}",
            (state, _id(conn, case_id), version),
        )


def delete_version(container: Container, case_id: str, version: int) -> None:
    with raw_events(container) as (conn, table, p):
        conn.execute(
            f"DELETE FROM {table} WHERE originator_id = {p} AND originator_version = {p}",
            (_id(conn, case_id), version),
        )


def _id(conn: Any, case_id: str) -> Any:
    import uuid

    return uuid.UUID(case_id) if isinstance(conn, psycopg.Connection) else uuid.UUID(case_id).hex
