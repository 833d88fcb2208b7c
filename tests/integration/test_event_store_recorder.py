"""The PostgreSQL recorder the service uses (infra/db/event_store.py): one round trip per
save, yet the table lock of eventsourcing's default path, one function per table, and
optimistic concurrency per case. Fails, never skips, without PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, OperationalError

from infra.db import event_store
from infra.db.access_log import AccessLog
from infra.db.sql import Database
from infra.db.urls import eventsourcing_env
from services.access import AccessEntry

pytestmark = pytest.mark.postgres


class Dossier(Aggregate):
    """A throwaway aggregate: not the project's domain model."""

    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title

    @event("Noted")
    def note(self, text: str) -> None:
        self.title += f"; {text}"


class Dossiers(Application[UUID]):
    def open(self, title: str) -> UUID:
        dossier = Dossier(title)
        self.save(dossier)
        return dossier.id


class Notebooks(Dossiers):
    """A second application in the same database, as contracts and prevention are."""


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_two_applications_in_one_database_keep_their_events_apart(fresh_postgres_url: str) -> None:
    dossiers = Dossiers(env=eventsourcing_env(fresh_postgres_url, "dossiers"))
    notebooks = Notebooks(env=eventsourcing_env(fresh_postgres_url, "notebooks"))  # created last
    dossier_id = dossiers.open("Kari, 15")
    notebooks.open("Ola, 16")
    notebooks.open("Per, 17")

    assert dossiers.repository.get(dossier_id).title == "Kari, 15"
    counts = [_count(fresh_postgres_url, f"{name}_events") for name in ("dossiers", "notebooks")]
    assert counts == [1, 2]
    dossiers.close()
    notebooks.close()


def test_a_save_waits_for_the_table_lock_so_ids_follow_commit_order(fresh_postgres_url: str) -> None:
    dossiers = Dossiers(env=eventsourcing_env(fresh_postgres_url, "dossiers"))
    dossiers.open("first")
    saved = threading.Event()
    with psycopg.connect(fresh_postgres_url) as holder:
        # What another writer's uncommitted insert holds: it does not block a plain INSERT,
        # only one that first takes the table's EXCLUSIVE lock (as every save must).
        holder.execute("LOCK TABLE dossiers_events IN ROW EXCLUSIVE MODE")
        writer = threading.Thread(target=lambda: (dossiers.open("second"), saved.set()))
        writer.start()
        deadline = time.monotonic() + 10
        waiting = 0
        while waiting == 0 and time.monotonic() < deadline:  # until PostgreSQL reports the wait
            with psycopg.connect(fresh_postgres_url) as probe:
                row = probe.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE '%rk_insert_dossiers_events%'"
                ).fetchone()
            waiting = int(row[0]) if row else 0
        assert waiting == 1 and not saved.is_set(), "the save must queue behind the table lock"
    writer.join(10)
    assert saved.is_set() and _count(fresh_postgres_url, "dossiers_events") == 2
    dossiers.close()


def test_a_stale_writer_of_one_case_is_refused(fresh_postgres_url: str) -> None:
    a = Dossiers(env=eventsourcing_env(fresh_postgres_url, "dossiers"))
    b = Dossiers(env=eventsourcing_env(fresh_postgres_url, "dossiers"))
    dossier_id = a.open("Ola, 16")
    seen_by_a, seen_by_b = a.repository.get(dossier_id), b.repository.get(dossier_id)
    seen_by_a.note("from a")
    a.save(seen_by_a)
    seen_by_b.note("from b")
    with pytest.raises(IntegrityError):
        b.save(seen_by_b)
    assert b.repository.get(dossier_id).title == "Ola, 16; from a"
    a.close()
    b.close()


def test_processes_starting_together_on_a_fresh_database_all_start(fresh_postgres_url: str) -> None:
    """The API, the relay and the projector start at once (compose.yaml): their schema
    set-up (CREATE TYPE, CREATE OR REPLACE FUNCTION) must not collide."""
    starting = threading.Barrier(8)
    errors: list[BaseException] = []
    apps: list[Dossiers] = []

    def start() -> None:
        starting.wait()
        try:
            apps.append(Dossiers(env=eventsourcing_env(fresh_postgres_url, "dossiers")))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert apps[0].open("Kari, 15") and _count(fresh_postgres_url, "dossiers_events") == 1
    for app in apps:
        app.close()


def _entry(case_id: UUID) -> AccessEntry:
    return AccessEntry(
        datetime(2026, 11, 27, 12, tzinfo=UTC),
        "kr-1",
        "konfliktrad",
        "ref-1",
        str(case_id),
        "command:note",
        ["identity"],
        {"identity": "role"},
    )


def test_the_access_log_entries_of_an_answer_commit_with_its_events_or_not_at_all(
    fresh_postgres_url: str,
) -> None:
    AccessLog(Database(fresh_postgres_url))  # the table, as the service creates it
    app = Dossiers(env=eventsourcing_env(fresh_postgres_url, "dossiers"))
    dossier_id = app.open("Kari, 15")
    dossier = app.repository.get(dossier_id)
    dossier.note("meeting held")
    stored = [app.mapper.to_stored_event(e) for e in dossier.collect_events()]

    ids = app.recorder.insert_events(stored, access_entries=[_entry(dossier_id)])
    assert ids and _count(fresh_postgres_url, "access_log") == 1
    logged = AccessLog(Database(fresh_postgres_url)).query()
    assert logged[0]["case_id"] == str(dossier_id) and logged[0]["categories"] == ["identity"]

    with pytest.raises(IntegrityError):  # the same version again: refused, and not logged
        app.recorder.insert_events(stored, access_entries=[_entry(dossier_id)])
    assert _count(fresh_postgres_url, "access_log") == 1
    assert _count(fresh_postgres_url, "dossiers_events") == 2
    app.close()


def test_a_retry_after_a_lost_answer_finds_its_own_commit_and_writes_nothing_twice(
    fresh_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    AccessLog(Database(fresh_postgres_url))
    app = Dossiers(env=eventsourcing_env(fresh_postgres_url, "dossiers"))
    monkeypatch.setattr(event_store, "RETRY_PAUSE_SECONDS", 0.0)
    dossier = app.repository.get(app.open("Kari, 15"))
    dossier.note("meeting held")
    stored = [app.mapper.to_stored_event(e) for e in dossier.collect_events()]
    recorder = app.recorder
    assert isinstance(recorder, event_store.LockingFunctionRecorder)
    insert, attempts = recorder._insert, []

    def commit_then_lose_the_answer(*args: object) -> list[int]:
        attempts.append(insert(*args))  # type: ignore[arg-type]
        if len(attempts) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return attempts[-1]

    monkeypatch.setattr(recorder, "_insert", commit_then_lose_the_answer)
    ids = recorder.insert_events(stored, access_entries=[_entry(dossier.id)])

    assert ids == attempts[0] and len(attempts) == 1  # found committed: not sent again
    assert _count(fresh_postgres_url, "dossiers_events") == 2
    assert _count(fresh_postgres_url, "access_log") == 1
    app.close()
