"""eventsourcing on the real PostgreSQL server (infra/db/pg.sh). Fails, never skips, without it."""

from __future__ import annotations

from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event

from tests.servers import postgres_env

pytestmark = pytest.mark.postgres


class Dossier(Aggregate):
    """A throwaway aggregate: not the project's domain model."""

    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title
        self.notes: list[str] = []

    @event("NoteAdded")
    def add_note(self, text: str) -> None:
        self.notes.append(text)


class DossierApp(Application):
    def open(self, title: str) -> UUID:
        dossier = Dossier(title)
        self.save(dossier)
        return dossier.id

    def add_note(self, dossier_id: UUID, text: str) -> None:
        dossier: Dossier = self.repository.get(dossier_id)
        dossier.add_note(text)
        self.save(dossier)

    def get(self, dossier_id: UUID) -> Dossier:
        return self.repository.get(dossier_id)


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_fresh_database_is_empty(fresh_postgres_url: str) -> None:
    assert _tables(fresh_postgres_url) == set()


def test_application_saves_and_reads_an_aggregate(fresh_postgres_url: str) -> None:
    env = postgres_env(fresh_postgres_url)
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"

    app = DossierApp(env=env)
    dossier_id = app.open("Kari, 15")
    app.add_note(dossier_id, "first meeting")
    app.add_note(dossier_id, "school informed")
    app.close()

    # a new application instance (new connections) sees the same history
    app2 = DossierApp(env=env)
    dossier = app2.get(dossier_id)
    assert (dossier.title, dossier.notes, dossier.version) == (
        "Kari, 15",
        ["first meeting", "school informed"],
        3,
    )
    with pytest.raises(AggregateNotFoundError):
        app2.get(UUID(int=1))
    app2.close()

    # and the events really are rows in PostgreSQL
    with psycopg.connect(fresh_postgres_url) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM dossierapp_events WHERE originator_id = %s", (dossier_id,)
        ).fetchone()
    assert count == 3


def test_concurrent_writers_conflict(fresh_postgres_url: str) -> None:
    from eventsourcing.persistence import IntegrityError

    env = postgres_env(fresh_postgres_url)
    app_a, app_b = DossierApp(env=env), DossierApp(env=env)
    dossier_id = app_a.open("Ola, 16")
    seen_by_a, seen_by_b = app_a.get(dossier_id), app_b.get(dossier_id)
    seen_by_a.add_note("from a")
    app_a.save(seen_by_a)
    seen_by_b.add_note("from b")
    with pytest.raises(IntegrityError):
        app_b.save(seen_by_b)
    assert app_b.get(dossier_id).notes == ["from a"]
    app_a.close()
    app_b.close()


def test_session_database_is_shared_and_persistent(postgres_url: str) -> None:
    app = DossierApp(env=postgres_env(postgres_url))
    dossier_id = app.open("session db")
    assert app.get(dossier_id).title == "session db"
    app.close()
    assert "dossierapp_events" in _tables(postgres_url)
